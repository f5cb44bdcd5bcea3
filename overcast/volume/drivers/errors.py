"""Errors a VolumeDriver raises, subclassing the common families.

The volume agent turns a VolumeDriverError into the volume's ``error`` status with the
message; NotFound/Conflict subclasses keep their status when they reach an API caller.
"""

from __future__ import annotations

from overcast.common.errors import BadRequest, Conflict, NotFound, OvercastError


class VolumeDriverError(OvercastError):
    """The backend failed an operation (tool failed, disk full, bad image data)."""

    message = "The volume backend failed on {what}: {reason}"


class VolumeNotFound(NotFound):
    message = "Volume {volume_id} could not be found on the backend."


class SnapshotNotFound(NotFound):
    message = "Snapshot {snapshot_id} could not be found on the backend."


class VolumeExists(Conflict):
    message = "Volume {volume_id} already exists on the backend."


class VolumeBusy(Conflict):
    message = "Volume {volume_id} is still used by {reason}."


class VolumeDriverCapabilityError(BadRequest):
    message = "The {driver} volume driver does not support {capability}."
