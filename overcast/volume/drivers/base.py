"""The VolumeDriver contract: where the bytes of volumes and snapshots live on one backend.

Vocabulary. A *volume* and a *snapshot* are named by their UUIDs everywhere in the
contract; the driver keeps whatever else it needs (file paths, LVM names, RBD images) to
itself. The one exception is the *connection info* ``initialize_connection`` returns: it
is what a hypervisor on the connecting host needs to open the volume, in nova's shape
(``overcast.compute.drivers.base``)::

    {"driver_volume_type": "file", "serial": volume id,
     "data": {"path": "/.../volume-<id>.qcow2", "format": "qcow2", "access_mode": "rw"}}

A *connector* describes the host that connects: ``{"host": name, "initiator": ...,
"platform": ..., "multipath": bool}`` (os-brick's keys; extra ones are ignored).

Sizes are GiB for volumes (as the API counts them) and bytes for images. An *image
source* (:class:`ImageSource`) is image data already readable on this host: a local
``path`` (the image store's file) or ``chunks``, a callable returning an iterator of
bytes, plus the image's ``disk_format``.

Threading and blocking: every method is synchronous and may block; the volume agent calls
it from a worker thread, one operation per volume at a time (operations on different
volumes may run concurrently). Each method says how long it may block.

Errors: ``overcast.volume.drivers.errors``. A failed create leaves nothing behind (no
file, no partly written data), so the service can mark the volume ``error`` with the
message and free the quota. Deletes are idempotent: a missing volume or snapshot
succeeds. Optional features are :class:`Capabilities` flags, False in the base.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Callable, Iterator

from .errors import VolumeDriverCapabilityError


@dataclass(frozen=True)
class Capabilities:
    supports_snapshot: bool = False      # create_snapshot, delete_snapshot, create_volume_from_snapshot
    supports_clone: bool = False         # create_cloned_volume
    supports_image: bool = False         # create_volume_from_image, copy_volume_to_image
    supports_extend: bool = False        # extend_volume
    supports_multiattach: bool = False   # one volume connected to several hosts at once
    thin_provisioning: bool = False      # sizes are promises, not allocations
    supports_manage: bool = False        # manageable_*, manage_existing*, unmanage*
    # the ``encryption`` argument of create/extend/clone/snapshot/from-image/to-image (LUKS
    # volumes) and ``source_encryption`` of clones and volumes from snapshots (the source's
    # passphrase when the copy gets its own key, as Cinder re-keys clones)
    supports_encryption: bool = False

    def as_dict(self) -> dict[str, bool]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class ImageSource:
    """Image data readable on this host: ``path`` (a local file) or ``chunks``."""

    id: str
    disk_format: str
    size: int
    path: str | None = None
    chunks: Callable[[], Iterator[bytes]] | None = None
    # an encrypted volume's upload: a raw LUKS container whose key the new volume copies
    encrypted: bool = False


@dataclass(frozen=True)
class ImageWritten:
    """What ``copy_volume_to_image`` wrote: format and size in bytes."""

    disk_format: str
    size: int


@dataclass(frozen=True)
class BackendStats:
    """The backend as the scheduler sees it (GiB). ``allocated_gb`` sums the sizes of the
    volumes the driver holds; thin backends may give out more than ``total_gb``."""

    total_gb: float
    free_gb: float
    allocated_gb: int
    volume_backend_name: str
    storage_protocol: str
    vendor_name: str = "overcast"
    driver_version: str = "1.0"


class VolumeDriver(ABC):
    """Creates, copies and connects volumes on one backend. Implementations: fake, file."""

    name = "base"
    storage_protocol = "file"
    capabilities = Capabilities()
    # Cinder's SUPPORTS_ACTIVE_ACTIVE: every host sees the same volumes (a shared backend), so
    # agents of one ``volume.cluster`` may each serve any of them
    active_active = False

    def _unsupported(self, capability: str):
        raise VolumeDriverCapabilityError(driver=self.name, capability=capability)

    # -- backend -------------------------------------------------------------------

    @abstractmethod
    def init_host(self, host: str) -> None:
        """Prepare the backend once, when the agent starts: create directories, check the
        tools work (raise VolumeDriverError if not), remove temp files a crash left.
        Existing volumes are kept. Blocks briefly."""

    @abstractmethod
    def stats(self) -> BackendStats:
        """Capacity and use. Fast."""

    @abstractmethod
    def list_volumes(self) -> list[str]:
        """UUIDs of the volumes the backend holds, sorted. Fast."""

    # -- volumes -----------------------------------------------------------------

    @abstractmethod
    def create_volume(self, volume_id: str, size_gb: int) -> None:
        """An empty volume of ``size_gb`` (reads as zeros). Raises VolumeExists if it is
        there already, VolumeDriverError on failure (leaving nothing). Fast on thin
        backends (a sparse file), else about size / disk bandwidth."""

    @abstractmethod
    def delete_volume(self, volume_id: str) -> None:
        """Remove the volume and its data. Idempotent. Raises VolumeBusy when the backend
        still holds snapshots made from it that depend on it. Fast."""

    def extend_volume(self, volume_id: str, new_size_gb: int) -> None:
        """Grow the volume to ``new_size_gb`` (never shrinks: a smaller size raises
        VolumeDriverError). Raises VolumeNotFound. Fast. supports_extend."""
        self._unsupported("supports_extend")

    def create_cloned_volume(self, volume_id: str, source_id: str, size_gb: int) -> None:
        """A new volume with ``source_id``'s data, grown to ``size_gb``. The source may be
        in use; the copy is of its data now. Raises VolumeNotFound (source), VolumeExists,
        VolumeDriverError (leaving nothing). Blocks about data size / disk bandwidth.
        supports_clone."""
        self._unsupported("supports_clone")

    def create_volume_from_image(self, volume_id: str, size_gb: int, image: ImageSource) -> None:
        """A new volume holding ``image``'s disk, converted from its disk_format to the
        backend's, grown to ``size_gb``. Raises VolumeDriverError for data that is not a
        disk of that format or larger than ``size_gb``, leaving nothing. Blocks about
        image size / disk bandwidth. supports_image."""
        self._unsupported("supports_image")

    def reimage_volume(self, volume_id: str, size_gb: int, image: ImageSource) -> None:
        """Replace the data of the existing volume with ``image``'s disk (Cinder's
        os-reimage), keeping its id and its size ``size_gb``. Raises VolumeNotFound, and
        VolumeDriverError for data that is not a disk of that format or larger than
        ``size_gb``; the file and rbd drivers then leave the old data as it was. Blocks
        about image size / disk bandwidth. supports_image."""
        self._unsupported("supports_image")

    def copy_volume_to_image(self, volume_id: str, disk_format: str, path: str) -> ImageWritten:
        """Write the volume's data as a standalone image of ``disk_format`` (raw, qcow2)
        to ``path`` (created by the driver; removed again on failure). Blocks about data
        size / disk bandwidth. supports_image."""
        self._unsupported("supports_image")

    # -- snapshots -----------------------------------------------------------------

    def create_snapshot(self, snapshot_id: str, volume_id: str) -> None:
        """A point-in-time copy of the volume's data; later writes to the volume do not
        change it. Raises VolumeNotFound, VolumeDriverError (leaving nothing). Blocks
        about data size / disk bandwidth. supports_snapshot."""
        self._unsupported("supports_snapshot")

    def delete_snapshot(self, snapshot_id: str) -> None:
        """Remove the snapshot. Idempotent. Fast. supports_snapshot."""
        self._unsupported("supports_snapshot")

    def create_volume_from_snapshot(self, volume_id: str, snapshot_id: str, size_gb: int) -> None:
        """A new volume with the snapshot's data, grown to ``size_gb``. Raises
        SnapshotNotFound, VolumeExists, VolumeDriverError (leaving nothing). Blocks like
        a clone. supports_snapshot."""
        self._unsupported("supports_snapshot")

    # -- manage and unmanage -------------------------------------------------------------
    # A *reference* names something on the backend the cloud does not manage yet, in the
    # driver's terms: ``{"source-name": <name>}``. A *manageable* entry describes one:
    # {"reference": ref, "size": GiB (rounded up), "safe_to_manage": bool,
    #  "reason_not_safe": str | None, "cinder_id": the managing id | None, "extra_info": None}
    # (snapshots add "source_reference": the volume's reference, or None).

    def manageable_volumes(self, managed: set[str]) -> list[dict]:
        """Everything on the backend that could be a volume; ``managed`` are the volume
        ids the cloud holds here (those are listed as not safe, with their cinder_id).
        Fast. supports_manage."""
        self._unsupported("supports_manage")

    def manage_existing(self, volume_id: str, ref: dict) -> int:
        """Make what ``ref`` names the volume ``volume_id`` (renaming it in the backend's
        terms) and return its size in GiB, grown to a whole GiB. Raises
        VolumeDriverError (bad reference, not a volume), leaving it as it was. Fast.
        supports_manage."""
        self._unsupported("supports_manage")

    def unmanage(self, volume_id: str) -> None:
        """Stop managing the volume: its data stays on the backend (listed again by
        ``manageable_volumes``). Idempotent. Fast. supports_manage."""
        self._unsupported("supports_manage")

    def manageable_snapshots(self, managed: set[str]) -> list[dict]:
        """Like ``manageable_volumes``, for snapshots. supports_manage."""
        self._unsupported("supports_manage")

    def manage_existing_snapshot(self, snapshot_id: str, volume_id: str, ref: dict) -> int:
        """Make what ``ref`` names the snapshot ``snapshot_id`` of ``volume_id``; its size
        in GiB. Raises VolumeDriverError, leaving it as it was. supports_manage."""
        self._unsupported("supports_manage")

    def unmanage_snapshot(self, snapshot_id: str) -> None:
        """Stop managing the snapshot; its data stays. Idempotent. supports_manage."""
        self._unsupported("supports_manage")

    # -- connections -----------------------------------------------------------------

    @abstractmethod
    def initialize_connection(self, volume_id: str, connector: dict, mode: str = "rw") -> dict:
        """Connection info (see the module docstring) for the host ``connector`` names.
        Raises VolumeNotFound. Fast. Calling it again returns the same info."""

    def terminate_connection(self, volume_id: str, connector: dict | None) -> None:
        """Undo ``initialize_connection`` for the host. Idempotent. Fast."""


__all__ = ["BackendStats", "Capabilities", "ImageSource", "ImageWritten", "VolumeDriver"]
