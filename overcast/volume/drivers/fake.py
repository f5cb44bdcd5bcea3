"""FakeVolumeDriver: volumes as in-memory records, for fast API tests.

It documents the semantics real drivers follow: sizes are tracked, snapshots copy the
size (and a ``data`` marker) at the time they are taken, clones and volumes from
snapshots or images copy it, deletes are idempotent, a failed create leaves nothing.
Failure injection is explicit: ``fail_create_on`` (volume ids) and ``fail_size_gb``
(any create of that size fails), as FakeHypervisor's ``fail_spawn_on``.
"""

from __future__ import annotations

import threading

from .base import BackendStats, Capabilities, ImageSource, ImageWritten, VolumeDriver
from .errors import SnapshotNotFound, VolumeDriverError, VolumeExists, VolumeNotFound


class FakeVolumeDriver(VolumeDriver):
    name = "fake"
    storage_protocol = "fake"
    capabilities = Capabilities(supports_snapshot=True, supports_clone=True, supports_image=True,
                                supports_extend=True, supports_multiattach=True, thin_provisioning=True,
                                supports_manage=True, supports_encryption=True)

    def __init__(self, total_gb: int = 1000, fail_create_on: set[str] | None = None, fail_size_gb: int = 0,
                 data_path=None):
        self.total_gb = total_gb
        self.fail_create_on = set(fail_create_on or ())
        self.fail_size_gb = fail_size_gb
        self.volumes: dict[str, dict] = {}
        self.snapshots: dict[str, dict] = {}
        self.connections: dict[str, set[str]] = {}
        self.foreign: dict[str, dict] = {}  # name -> {"size", "data"}: on the backend, not managed
        self._lock = threading.Lock()

    def init_host(self, host: str) -> None:
        self.host = host

    def stats(self) -> BackendStats:
        with self._lock:
            allocated = sum(v["size"] for v in self.volumes.values())
        return BackendStats(total_gb=self.total_gb, free_gb=self.total_gb - allocated, allocated_gb=allocated,
                            volume_backend_name="fake", storage_protocol=self.storage_protocol)

    def list_volumes(self) -> list[str]:
        with self._lock:
            return sorted(self.volumes)

    def _new(self, volume_id: str, size_gb: int, data: str, encryption=None) -> None:
        if volume_id in self.fail_create_on or (self.fail_size_gb and size_gb == self.fail_size_gb):
            raise VolumeDriverError(what=f"volume {volume_id}", reason="injected failure")
        with self._lock:
            if volume_id in self.volumes:
                raise VolumeExists(volume_id=volume_id)
            self.volumes[volume_id] = {"size": size_gb, "data": data, "encrypted": encryption is not None}

    def _get(self, volume_id: str) -> dict:
        try:
            return self.volumes[volume_id]
        except KeyError:
            raise VolumeNotFound(volume_id=volume_id) from None

    def create_volume(self, volume_id: str, size_gb: int, encryption=None) -> None:
        self._new(volume_id, size_gb, "", encryption)

    def delete_volume(self, volume_id: str) -> None:
        with self._lock:
            self.volumes.pop(volume_id, None)
            self.connections.pop(volume_id, None)

    def extend_volume(self, volume_id: str, new_size_gb: int, encryption=None) -> None:
        with self._lock:
            volume = self._get(volume_id)
            if new_size_gb < volume["size"]:
                raise VolumeDriverError(what=f"volume {volume_id}", reason="volumes do not shrink")
            volume["size"] = new_size_gb

    def create_cloned_volume(self, volume_id: str, source_id: str, size_gb: int, encryption=None,
                             source_encryption=None) -> None:
        with self._lock:
            data = self._get(source_id)["data"]
        self._new(volume_id, size_gb, data, encryption)

    def create_volume_from_image(self, volume_id: str, size_gb: int, image: ImageSource, encryption=None) -> None:
        if image.size > size_gb << 30:
            raise VolumeDriverError(what=f"volume {volume_id}", reason="the image is larger than the volume")
        self._new(volume_id, size_gb, f"image:{image.id}", encryption)

    def reimage_volume(self, volume_id: str, size_gb: int, image: ImageSource, encryption=None) -> None:
        if image.size > size_gb << 30:
            raise VolumeDriverError(what=f"volume {volume_id}", reason="the image is larger than the volume")
        with self._lock:
            self._get(volume_id)["data"] = f"image:{image.id}"

    def copy_volume_to_image(self, volume_id: str, disk_format: str, path: str, encryption=None) -> ImageWritten:
        with self._lock:
            data = self._get(volume_id)["data"].encode()
        with open(path, "wb") as handle:
            handle.write(data)
        return ImageWritten(disk_format=disk_format, size=len(data))

    def create_snapshot(self, snapshot_id: str, volume_id: str, encryption=None) -> None:
        with self._lock:
            volume = self._get(volume_id)
            self.snapshots[snapshot_id] = {"volume_id": volume_id, "size": volume["size"], "data": volume["data"]}

    def delete_snapshot(self, snapshot_id: str) -> None:
        with self._lock:
            self.snapshots.pop(snapshot_id, None)

    def create_volume_from_snapshot(self, volume_id: str, snapshot_id: str, size_gb: int, encryption=None,
                                    source_encryption=None) -> None:
        with self._lock:
            if snapshot_id not in self.snapshots:
                raise SnapshotNotFound(snapshot_id=snapshot_id)
            data = self.snapshots[snapshot_id]["data"]
        self._new(volume_id, size_gb, data, encryption)

    def manageable_volumes(self, managed: set[str]) -> list[dict]:
        with self._lock:
            entries = [(f"volume-{ident}", v["size"], ident) for ident, v in self.volumes.items()]
            entries += [(name, v["size"], None) for name, v in self.foreign.items() if not name.startswith("snap")]
        return [{"reference": {"source-name": name}, "size": size, "safe_to_manage": ident not in managed,
                 "reason_not_safe": "already managed" if ident in managed else None,
                 "cinder_id": ident if ident in managed else None, "extra_info": None}
                for name, size, ident in sorted(entries)]

    def manage_existing(self, volume_id: str, ref: dict) -> int:
        name = (ref or {}).get("source-name")
        with self._lock:
            if name in self.foreign:
                self.volumes[volume_id] = self.foreign.pop(name)
            elif name and name.startswith("volume-") and name[7:] in self.volumes and name[7:] != volume_id:
                self.volumes[volume_id] = self.volumes.pop(name[7:])
            else:
                raise VolumeDriverError(what=f"managing {ref!r}", reason="no such volume on the backend")
            return self.volumes[volume_id]["size"]

    def unmanage(self, volume_id: str) -> None:
        with self._lock:
            volume = self.volumes.pop(volume_id, None)
            if volume is not None:
                self.foreign[f"volume-{volume_id}"] = volume

    def manageable_snapshots(self, managed: set[str]) -> list[dict]:
        with self._lock:
            entries = [(f"snapshot-{ident}", s["size"], ident) for ident, s in self.snapshots.items()]
            entries += [(name, v["size"], None) for name, v in self.foreign.items() if name.startswith("snap")]
        return [{"reference": {"source-name": name}, "size": size, "safe_to_manage": ident not in managed,
                 "reason_not_safe": "already managed" if ident in managed else None,
                 "cinder_id": ident if ident in managed else None, "extra_info": None, "source_reference": None}
                for name, size, ident in sorted(entries)]

    def manage_existing_snapshot(self, snapshot_id: str, volume_id: str, ref: dict) -> int:
        name = (ref or {}).get("source-name")
        with self._lock:
            if name not in self.foreign or not name.startswith("snap"):
                raise VolumeDriverError(what=f"managing {ref!r}", reason="no such snapshot on the backend")
            self.snapshots[snapshot_id] = {"volume_id": volume_id, **self.foreign.pop(name)}
            return self.snapshots[snapshot_id]["size"]

    def unmanage_snapshot(self, snapshot_id: str) -> None:
        with self._lock:
            snapshot = self.snapshots.pop(snapshot_id, None)
            if snapshot is not None:
                self.foreign[f"snapshot-{snapshot_id}"] = {"size": snapshot["size"], "data": snapshot["data"]}

    def initialize_connection(self, volume_id: str, connector: dict, mode: str = "rw") -> dict:
        with self._lock:
            encrypted = self._get(volume_id).get("encrypted")
            self.connections.setdefault(volume_id, set()).add((connector or {}).get("host", ""))
        data = {"volume_id": volume_id, "access_mode": mode}
        if encrypted:
            data["encrypted"] = True
        return {"driver_volume_type": "fake", "serial": volume_id, "data": data}

    def terminate_connection(self, volume_id: str, connector: dict | None) -> None:
        with self._lock:
            hosts = self.connections.get(volume_id, set())
            if connector is None:
                hosts.clear()
            else:
                hosts.discard(connector.get("host", ""))
