"""Block storage errors, with Cinder's messages and status codes."""

from overcast.common.errors import BadRequest, Conflict, Forbidden, NotFound, OverLimit


class VolumeNotFound(NotFound):
    def __init__(self, volume_id: str):
        super().__init__(f"Volume {volume_id} could not be found.")


class SnapshotNotFound(NotFound):
    def __init__(self, snapshot_id: str):
        super().__init__(f"Snapshot {snapshot_id} could not be found.")


class VolumeTypeNotFound(NotFound):
    def __init__(self, type_id: str):
        super().__init__(f"Volume type {type_id} could not be found.")


class VolumeTypeNotFoundByName(NotFound):
    def __init__(self, name: str):
        super().__init__(f"Volume type with name {name} could not be found.")


class ExtraSpecNotFound(NotFound):
    def __init__(self, type_id: str, key: str):
        super().__init__(f"Volume Type {type_id} has no extra specs with key {key}.")


class AttachmentNotFound(NotFound):
    def __init__(self, attachment_id: str):
        super().__init__(f"Volume attachment could not be found with filter: attachment_id = {attachment_id}.")


class MetadataNotFound(NotFound):
    def __init__(self, key: str, owner: str = "Volume", owner_id: str = ""):
        super().__init__(f"{owner} {owner_id} has no metadata with key {key}.")


class MarkerNotFound(NotFound):
    def __init__(self, marker: str):
        super().__init__(f"Marker {marker} could not be found.")


class InvalidInput(BadRequest):
    def __init__(self, reason: str):
        super().__init__(f"Invalid input received: {reason}")


class InvalidVolume(BadRequest):
    def __init__(self, reason: str):
        super().__init__(f"Invalid volume: {reason}")


class InvalidSnapshot(BadRequest):
    def __init__(self, reason: str):
        super().__init__(f"Invalid snapshot: {reason}")


class InvalidVolumeType(BadRequest):
    def __init__(self, reason: str):
        super().__init__(f"Invalid volume type: {reason}")


class InvalidImage(BadRequest):
    def __init__(self, reason: str):
        super().__init__(f"Invalid image: {reason}")


class VolumeTypeExists(Conflict):
    def __init__(self, name: str):
        super().__init__(f"Volume Type {name} already exists.")


class VolumeTypeInUse(BadRequest):
    def __init__(self, type_id: str):
        super().__init__(f"Volume Type {type_id} deletion is not allowed with volumes present with the type.")


class TypeAccessExists(Conflict):
    def __init__(self, type_id: str, project_id: str):
        super().__init__(f"Volume type access for {type_id} / {project_id} combination already exists.")


class TypeAccessNotFound(NotFound):
    def __init__(self, type_id: str, project_id: str):
        super().__init__(f"Volume type access not found for {type_id} / {project_id} combination.")


class VolumeForbidden(Forbidden):
    pass


class QuotaOverLimit(OverLimit):
    """413 as Cinder answers quota failures (VolumeSizeExceedsAvailableQuota and friends)."""


class ServiceNotFound(NotFound):
    def __init__(self, what: str = ""):
        super().__init__(f"Service {what} could not be found.".replace("  ", " "))


class NoValidBackend(BadRequest):
    def __init__(self, reason: str = "No weighed backends available"):
        super().__init__(f"No valid backend was found. {reason}")


class GroupTypeNotFound(NotFound):
    def __init__(self, type_id: str):
        super().__init__(f"Group type {type_id} could not be found.")


class GroupTypeNotFoundByName(NotFound):
    def __init__(self, name: str):
        super().__init__(f"Group type with name {name} could not be found.")


class GroupTypeExists(Conflict):
    def __init__(self, name: str):
        super().__init__(f"Group Type {name} already exists.")


class GroupTypeSpecNotFound(NotFound):
    def __init__(self, type_id: str, key: str):
        super().__init__(f"Group Type {type_id} has no specs with key {key}.")


class GroupTypeInUse(BadRequest):
    def __init__(self, type_id: str):
        super().__init__(f"Group Type {type_id} deletion is not allowed with groups present with the type.")


class InvalidGroupType(BadRequest):
    def __init__(self, reason: str):
        super().__init__(f"Invalid group type: {reason}")


class CgsnapshotTypeReserved(BadRequest):
    def __init__(self, type_id: str, what: str = "group"):
        text = ("Migrated group can only be operated by CG APIs." if what == "group" else
                "Migrated group snapshots can only be operated by CG snapshot APIs.")
        super().__init__(f"Group_type {type_id} is reserved for migrating CGs to groups. {text}")


class GroupNotFound(NotFound):
    def __init__(self, group_id: str):
        super().__init__(f"Group {group_id} could not be found.")


class InvalidGroup(BadRequest):
    def __init__(self, reason: str):
        super().__init__(f"Invalid Group: {reason}")


class GroupSnapshotNotFound(NotFound):
    def __init__(self, group_snapshot_id: str):
        super().__init__(f"GroupSnapshot {group_snapshot_id} could not be found.")


class InvalidGroupSnapshot(BadRequest):
    def __init__(self, reason: str):
        super().__init__(f"Invalid GroupSnapshot: {reason}")


class MessageNotFound(NotFound):
    def __init__(self, message_id: str):
        super().__init__(f"Message {message_id} could not be found.")


class ClusterNotFound(NotFound):
    def __init__(self, name: str):
        super().__init__(f"Cluster {name} could not be found.")


class ManageInvalidReference(BadRequest):
    def __init__(self, ref, reason: str):
        super().__init__(f"Manage existing volume failed due to invalid backend reference {ref}: {reason}")


class ManageSnapshotInvalidReference(BadRequest):
    def __init__(self, ref, reason: str):
        super().__init__(f"Manage existing snapshot failed due to invalid backend reference {ref}: {reason}")
