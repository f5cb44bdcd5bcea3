"""Volume actions that change one volume: extend, bootable, read-only, status resets,
retype, image metadata, upload to an image, and the legacy attach-state actions."""

from __future__ import annotations

from overcast.common.db import utcnow
from overcast.volume import errors
from overcast.volume.key_manager.base import IMAGE_KEY, IMAGE_KEY_POLICY, ON_IMAGE_DELETION
from overcast.volume.models import VolumeType
from overcast.volume.service.hosts import queue_of

STATUSES = ("creating", "available", "deleting", "error", "error_deleting", "error_managing", "managing",
            "attaching", "in-use", "detaching", "maintenance", "reserved", "restoring-backup", "error_restoring",
            "awaiting-transfer", "backing-up", "error_backing-up", "error_extending", "downloading",
            "uploading", "retyping", "extending")
IMAGE_FORMATS = ("raw", "qcow2", "vmdk", "vdi", "vhd", "vhdx")


def _transition(volume, allowed: tuple[str, ...], new: str, action: str) -> None:
    if volume.status not in allowed:
        raise errors.InvalidVolume(f"Volume status must be {' or '.join(allowed)} to {action}, but the current "
                                   f"status is {volume.status}.")
    volume.status, volume.updated_at = new, utcnow()


class Actions:
    def __init__(self, service):
        self.service = service
        self.db = service.db

    def _volume(self, ctx, volume_id: str, session):
        return self.service.volumes.get(ctx, volume_id, session)

    def extend(self, ctx, volume_id: str, new_size, attached_ok: bool) -> tuple:
        from overcast.volume.service.volumes import _size_of

        new_size = _size_of(new_size)
        with self.db.session() as session:
            volume = self._volume(ctx, volume_id, session)
            allowed = ("available", "in-use") if attached_ok else ("available",)
            if volume.status not in allowed:
                raise errors.InvalidVolume(f"Volume {volume.id} status must be '{' or '.join(allowed)}' to extend, "
                                           f"currently {volume.status}.")
            if new_size <= volume.size:
                raise errors.InvalidInput(f"New size for extend must be greater than current size. (current: "
                                          f"{volume.size}, extended: {new_size}).")
            vtype = session.get(VolumeType, volume.volume_type_id) if volume.volume_type_id else None
            self.service.quotas.check(session, volume.project_id, vtype.name if vtype else None,
                                      gigabytes=new_size - volume.size, volume_size=new_size)
            back_to = volume.status
            volume.status, volume.updated_at = "extending", utcnow()
            payload = {"id": volume.id, "size": new_size, "status_after": back_to}
            if volume.encryption_key_id:
                payload["encrypted"] = True
            return queue_of(volume), payload

    def set_bootable(self, ctx, volume_id: str, bootable: bool) -> None:
        with self.db.session() as session:
            volume = self._volume(ctx, volume_id, session)
            volume.bootable, volume.updated_at = bootable, utcnow()

    def set_readonly(self, ctx, volume_id: str, readonly: bool) -> None:
        with self.db.session() as session:
            volume = self._volume(ctx, volume_id, session)
            if volume.status not in ("available", "in-use"):
                raise errors.InvalidVolume(f"Volume status must be available or in-use to update its read-only "
                                           f"flag, but the current status is {volume.status}.")
            volume.readonly, volume.updated_at = readonly, utcnow()
            volume.admin_meta = {**(volume.admin_meta or {}), "readonly": str(readonly)}

    def legacy_attach_mode(self, ctx, volume_id: str, mode: str) -> None:
        """Before a legacy os-attach, as Cinder: the volume gets ``readonly: False`` admin
        metadata when it has none, and a read-only volume refuses a read-write attach."""
        with self.db.session() as session:
            volume = self._volume(ctx, volume_id, session)
            flag = (volume.admin_meta or {}).get("readonly")
            if flag is None:
                volume.admin_meta = {**(volume.admin_meta or {}), "readonly": "False"}
            elif flag == "True" and mode != "ro":
                raise errors.BadRequest(f"Invalid attaching mode '{mode}' for volume {volume.id}.")

    def reset_status(self, ctx, volume_id: str, status: str | None, attach_status: str | None,
                     migration_status: str | None) -> None:
        if status is not None and status not in STATUSES:
            raise errors.InvalidInput(f"Invalid status for volume: {status}")
        if attach_status is not None and attach_status not in ("attached", "detached"):
            raise errors.InvalidInput(f"Must specify a valid attach status: {attach_status}")
        with self.db.session() as session:
            volume = self._volume(ctx, volume_id, session)
            if status is not None:
                volume.status = status
            if attach_status is not None:
                volume.attach_status = attach_status
            if migration_status is not None:
                volume.migration_status = None if migration_status == "none" else migration_status
            volume.updated_at = utcnow()

    def retype(self, ctx, volume_id: str, new_type: str, policy: str) -> None:
        """Every backend here serves every type, so a retype only changes the record."""
        if policy not in ("never", "on-demand"):
            raise errors.InvalidInput(f"Invalid migration policy {policy!r}.")
        with self.db.session() as session:
            volume = self._volume(ctx, volume_id, session)
            vtype = self.service.types.resolve(ctx, new_type, session)
            if volume.status not in ("available", "in-use"):
                raise errors.InvalidVolume(f"Volume status must be available or in-use, but the current status is "
                                           f"{volume.status}.")
            if vtype.id == volume.volume_type_id:
                raise errors.InvalidInput("New volume type must be different from the original.")
            volume.volume_type_id, volume.updated_at = vtype.id, utcnow()

    # -- image metadata ------------------------------------------------------------

    def image_metadata(self, ctx, volume_id: str) -> dict:
        return dict(self.service.volumes.get(ctx, volume_id).image_metadata or {})

    def set_image_metadata(self, ctx, volume_id: str, metadata: dict) -> dict:
        with self.db.session() as session:
            volume = self._volume(ctx, volume_id, session)
            volume.image_metadata = {**(volume.image_metadata or {}), **{k: str(v) for k, v in metadata.items()}}
            return dict(volume.image_metadata)

    def unset_image_metadata(self, ctx, volume_id: str, key: str) -> None:
        with self.db.session() as session:
            volume = self._volume(ctx, volume_id, session)
            if key not in (volume.image_metadata or {}):
                raise errors.MetadataNotFound(key, "Glance metadata", volume_id)
            volume.image_metadata = {k: v for k, v in volume.image_metadata.items() if k != key}

    # -- upload to an image ------------------------------------------------------------

    def begin_upload(self, ctx, volume_id: str, fields: dict) -> tuple[dict, tuple]:
        disk_format = fields.get("disk_format", "raw")
        if disk_format not in IMAGE_FORMATS:
            raise errors.InvalidInput(f"Invalid disk-format '{disk_format}' is specified. Allowed disk-formats are "
                                      f"{', '.join(IMAGE_FORMATS)}.")
        image_service = self.service.image
        if image_service is None:
            raise errors.InvalidInput("The image service is not available.")
        with self.db.session() as session:
            volume = self._volume(ctx, volume_id, session)
            if volume.encryption_key_id and disk_format != "raw":
                raise errors.InvalidInput(f"An encrypted volume is uploaded as its LUKS container: disk-format "
                                          f"'{disk_format}' is not allowed, only raw.")
            force = str(fields.get("force", False)).lower() in ("true", "1", "yes")
            allowed = ("available", "in-use") if force else ("available",)
            if volume.status not in allowed:
                raise errors.InvalidVolume(f"Volume {volume.id} status must be available or in-use, but current "
                                           f"status is: {volume.status}.")
            status_after = volume.status
            image_fields = {"name": fields.get("image_name") or f"volume-{volume.id}", "disk_format": disk_format,
                            "container_format": fields.get("container_format", "bare"),
                            "visibility": fields.get("visibility", "private"),
                            "protected": bool(fields.get("protected", False))}
            if volume.encryption_key_id:  # the image's own copy of the key (Cinder's), gone with the image
                image_fields[IMAGE_KEY] = self.service.keys.copy(ctx, volume.encryption_key_id)
                image_fields[IMAGE_KEY_POLICY] = ON_IMAGE_DELETION
            try:
                image = image_service.images.create(ctx, dict(image_fields))
            except Exception:
                self.service.keys.forget(image_fields.get(IMAGE_KEY))
                raise
            volume.status, volume.updated_at = "uploading", utcnow()
            vtype = session.get(VolumeType, volume.volume_type_id) if volume.volume_type_id else None
            body = {"id": volume.id, "updated_at": volume.updated_at.isoformat(), "status": "uploading",
                    "display_description": volume.description, "size": volume.size,
                    "volume_type": _type_body(vtype), "image_id": image.id,
                    "container_format": image_fields["container_format"], "disk_format": disk_format,
                    "image_name": image_fields["name"], "visibility": image_fields["visibility"],
                    "protected": image_fields["protected"]}
            cast = (queue_of(volume), {"id": volume.id, "image_id": image.id, "disk_format": disk_format,
                                             "status_after": status_after, "project_id": ctx.project_id,
                                             "user_id": ctx.user_id, "roles": list(ctx.roles)})
            if volume.encryption_key_id:
                cast[1]["encrypted"] = True
            return body, cast

    # -- the legacy attach-state actions (os-reserve ... os-roll_detaching) -------------

    def reserve(self, ctx, volume_id: str) -> None:
        with self.db.session() as session:
            volume = self._volume(ctx, volume_id, session)
            allowed = ("available", "in-use") if volume.multiattach else ("available",)
            _transition(volume, allowed, "attaching", "reserve")

    def unreserve(self, ctx, volume_id: str) -> None:
        with self.db.session() as session:
            volume = self._volume(ctx, volume_id, session)
            if volume.status == "attaching":
                volume.status = "in-use" if volume.attach_status == "attached" else "available"

    def begin_detaching(self, ctx, volume_id: str) -> None:
        with self.db.session() as session:
            _transition(self._volume(ctx, volume_id, session), ("in-use",), "detaching", "begin detaching")

    def roll_detaching(self, ctx, volume_id: str) -> None:
        with self.db.session() as session:
            volume = self._volume(ctx, volume_id, session)
            if volume.status == "detaching":
                volume.status = "in-use"


def _type_body(vtype) -> dict | None:
    if vtype is None:
        return None
    return {"id": vtype.id, "name": vtype.name, "description": vtype.description, "is_public": vtype.is_public,
            "extra_specs": dict(vtype.extra_specs or {}), "qos_specs_id": None, "deleted": False,
            "created_at": vtype.created_at.isoformat(), "updated_at": None, "deleted_at": None}
