"""RbdVolumeDriver: each volume is a Ceph RBD image in one pool, as Cinder's RBD driver.

Names in the pool (Cinder's): the volume ``volume-<id>``, its snapshot ``snapshot-<id>``
(an RBD snapshot of the volume's image, protected so it can be cloned). A volume made from
a snapshot is a copy-on-write clone of it (flattened when ``flatten_volume_from_snapshot``
is on); a clone of a volume is a clone of a snapshot ``volume-<new id>.clone_snap`` taken
of the source for it. A clone chain longer than ``max_clone_depth`` is flattened. A volume
from an image is written by ``qemu-img convert`` into a temp image that is renamed into
place, so a failure leaves nothing.

Snapshots and clones pin what they were made from, but the contract lets a volume go
whatever snapshots it has: a volume whose image still has snapshots (or clones of them) is
renamed ``volume-<id>.deleted`` (hidden from the cloud), and removed once its last
snapshot and clone are gone, as Cinder's RBD driver defers such deletes. Deleting a
snapshot with clones flattens them first (Cinder's does too). An omap object
``overcast.snapshots`` in the pool maps each snapshot id to its volume id, because the
contract names snapshots by id only.

Everything goes through the ``rbd``, ``rados``, ``ceph`` and ``qemu-img`` commands (the
Ceph Python bindings come only with Debian's Python), with the configured ceph.conf, user
and keyring; the key itself is never on a command line. Connection info is Cinder's
``rbd`` shape: the image name, the monitors' addresses and the user, never the key; the
connecting host reads the key from its own keyring (``keyring_path``, if that file is on
the host, else Ceph's default keyring files).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from .base import BackendStats, Capabilities, ImageSource, ImageWritten, VolumeDriver
from .errors import SnapshotNotFound, VolumeDriverError, VolumeExists, VolumeNotFound
from .file import QEMU_FORMATS

GiB = 1 << 30
INDEX = "overcast.snapshots"
CLONE_SNAP = ".clone_snap"
DELETED = ".deleted"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
VOLUME_NAME = re.compile(rf"volume-({UUID})")
TIMEOUT = 3600
#: a Ceph client call gives up after this many seconds instead of hanging on a dead OSD
OP_TIMEOUT = "60"
MONITOR_TTL = 60.0


class RbdVolumeDriver(VolumeDriver):
    name = "rbd"
    storage_protocol = "ceph"
    capabilities = Capabilities(supports_snapshot=True, supports_clone=True, supports_image=True,
                                supports_extend=True, supports_multiattach=False, thin_provisioning=True,
                                supports_manage=True)
    active_active = True  # one Ceph pool seen by every host

    def __init__(self, data_path=None, pool: str = "volumes", ceph_conf: str = "/etc/ceph/ceph.conf",
                 user: str = "admin", keyring: str = "", cluster_name: str = "ceph",
                 flatten_volume_from_snapshot: bool = False, max_clone_depth: int = 5, secret_uuid: str = ""):
        if not pool or "/" in pool or "@" in pool:
            raise ValueError(f"rbd pool name {pool!r} is not valid")
        self.pool, self.conf, self.user, self.keyring = pool, str(ceph_conf), user, str(keyring or "")
        self.cluster_name = cluster_name
        self.flatten_from_snapshot = flatten_volume_from_snapshot
        self.max_clone_depth = max(0, int(max_clone_depth))
        self.secret_uuid = secret_uuid or None
        self.scratch = Path(data_path) / "volumes-rbd" if data_path else Path(tempfile.gettempdir())
        self._lock = threading.Lock()
        self._mon_cache: tuple[float, list] | None = None

    # -- the commands ----------------------------------------------------------------------

    def _client_args(self) -> list[str]:
        args = ["--conf", self.conf, "--id", self.user, "--rados-osd-op-timeout", OP_TIMEOUT,
                "--rados-mon-op-timeout", OP_TIMEOUT]
        return args + (["--keyring", self.keyring] if self.keyring else [])

    def _run(self, what: str, argv: list[str], stdin=None) -> str:
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT, stdin=stdin)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise VolumeDriverError(what=what, reason=str(error)) from None
        if done.returncode != 0:
            lines = [line for line in (done.stderr or done.stdout).strip().splitlines() if line.strip()]
            raise VolumeDriverError(what=what, reason=lines[-1] if lines else f"{argv[0]} exited {done.returncode}")
        return done.stdout

    def _rbd(self, what: str, *args: str) -> str:
        return self._run(what, ["rbd", *self._client_args(), *args])

    def _rbd_json(self, what: str, *args: str):
        return json.loads(self._rbd(what, *args, "--format", "json") or "null")

    def _rados(self, what: str, *args: str) -> str:
        return self._run(what, ["rados", *self._client_args(), "-p", self.pool, *args])

    def _qemu_target(self, image: str) -> str:
        """qemu-img's name for an image: the key comes from the keyring file, never from here."""
        target = f"rbd:{self.pool}/{image}:id={self.user}:conf={self.conf}"
        return target + (f":keyring={self.keyring}" if self.keyring else "")

    def _spec(self, image: str, snap: str | None = None) -> str:
        return f"{self.pool}/{image}" + (f"@{snap}" if snap else "")

    # -- what the pool holds ------------------------------------------------------------------

    def _images(self) -> list[str]:
        return self._rbd_json("listing the pool", "ls", self.pool) or []

    def _info(self, image: str) -> dict | None:
        try:
            return self._rbd_json(f"reading {image}", "info", self._spec(image))
        except VolumeDriverError as error:
            if "No such file" in str(error) or "error opening image" in str(error):
                return None
            raise

    def _snaps(self, image: str) -> list[dict]:
        return self._rbd_json(f"listing snapshots of {image}", "snap", "ls", self._spec(image)) or []

    def _children(self, image: str, snap: str) -> list[str]:
        found = self._rbd_json(f"listing clones of {image}@{snap}", "children", self._spec(image, snap)) or []
        return [child["image"] for child in found if child.get("pool", self.pool) == self.pool]

    def _volume_image(self, volume_id: str) -> str:
        image = f"volume-{volume_id}"
        if self._info(image) is None:
            raise VolumeNotFound(volume_id=volume_id)
        return image

    def _snapshot_image(self, snapshot_id: str) -> str:
        """The image (a volume's, maybe ``.deleted``) holding ``snapshot-<id>``."""
        name = f"snapshot-{snapshot_id}"
        try:
            volume_id = self._rados(f"finding snapshot {snapshot_id}", "getomapval", INDEX, snapshot_id, "/dev/stdout")
        except VolumeDriverError:
            volume_id = ""
        for image in ([f"volume-{volume_id.strip()}", f"volume-{volume_id.strip()}{DELETED}"] if volume_id.strip()
                      else []):
            if self._info(image) is not None and any(s["name"] == name for s in self._snaps(image)):
                return image
        for image in self._images():  # not indexed (managed, or the index lost): look everywhere
            if image.startswith("volume-") and any(s["name"] == name for s in self._snaps(image)):
                return image
        raise SnapshotNotFound(snapshot_id=snapshot_id)

    def _depth(self, image: str) -> int:
        depth, info = 0, self._info(image)
        while info and info.get("parent"):
            depth += 1
            info = self._info(info["parent"]["image"])
        return depth

    # -- backend ---------------------------------------------------------------------------

    def init_host(self, host: str) -> None:
        for tool in ("rbd", "rados", "ceph", "qemu-img"):
            if shutil.which(tool) is None:
                raise VolumeDriverError(what="init_host", reason=f"{tool} is not installed (ceph-common, qemu-utils)")
        if not os.path.exists(self.conf):
            raise VolumeDriverError(what="init_host", reason=f"no Ceph configuration at {self.conf}")
        self._images()  # the pool is there and the user may read it
        self.scratch.mkdir(parents=True, exist_ok=True, mode=0o700)
        for image in self._images():  # half-made volumes a crash left
            if image.endswith(".tmp") and image.startswith("volume-"):
                self._remove(image)

    def stats(self) -> BackendStats:
        df = json.loads(self._run("reading capacity", ["ceph", *self._client_args(), "df", "--format", "json"]))
        pool = next((p["stats"] for p in df.get("pools", []) if p["name"] == self.pool), None)
        if pool is None:  # a pool made a moment ago: the manager has no figures for it yet
            pool = {"stored": df["stats"]["total_used_bytes"], "max_avail": df["stats"]["total_avail_bytes"]}
        free = pool["max_avail"]
        listed = self._rbd_json("listing the pool", "ls", "-l", self.pool) or []
        allocated = sum(entry["size"] for entry in listed
                        if "snapshot" not in entry and VOLUME_NAME.fullmatch(entry["image"]))
        return BackendStats(total_gb=round((pool["stored"] + free) / GiB, 2), free_gb=round(free / GiB, 2),
                            allocated_gb=allocated // GiB, volume_backend_name="rbd", storage_protocol="ceph")

    def list_volumes(self) -> list[str]:
        return sorted(match.group(1) for match in map(VOLUME_NAME.fullmatch, self._images()) if match)

    # -- volumes -----------------------------------------------------------------------------

    def _make(self, volume_id: str, build) -> None:
        """``build(temp image name)``, then rename it into place; on failure nothing stays."""
        final = f"volume-{volume_id}"
        if self._info(final) is not None:
            raise VolumeExists(volume_id=volume_id)
        temp = f"{final}.tmp"  # one left by a crash went with init_host
        try:
            build(temp)
            self._rbd(f"naming volume {volume_id}", "rename", self._spec(temp), self._spec(final))
        except BaseException:
            self._remove(temp)
            raise

    def _grow(self, image: str, size_gb: int, what: str) -> None:
        info = self._info(image)
        if info["size"] > size_gb * GiB:
            raise VolumeDriverError(what=what, reason=f"the source is larger than {size_gb} GiB")
        if info["size"] < size_gb * GiB:
            self._rbd(what, "resize", "--size", f"{size_gb}G", self._spec(image))

    def create_volume(self, volume_id: str, size_gb: int) -> None:
        """One ``rbd create`` (all or nothing by itself: no temp image needed)."""
        try:
            self._rbd(f"creating volume {volume_id}", "create", "--size", f"{size_gb}G",
                      self._spec(f"volume-{volume_id}"))
        except VolumeDriverError as error:
            if "(17) File exists" in str(error) or "already exists" in str(error):
                raise VolumeExists(volume_id=volume_id) from None
            raise

    def _remove(self, image: str) -> None:
        """Remove an image that has no snapshots; then tidy its parent (see ``_collect``)."""
        info = self._info(image)
        if info is None:
            return
        self._rbd(f"removing {image}", "rm", self._spec(image))
        if info.get("parent"):
            self._collect(info["parent"]["image"], info["parent"]["snapshot"])

    def _collect(self, image: str, snap: str) -> None:
        """A clone of ``image@snap`` went: drop a clone snapshot nothing uses any more, and a
        ``.deleted`` image once nothing is left of it."""
        if snap.endswith(CLONE_SNAP) and not self._children(image, snap):
            self._drop_snap(image, snap)
        if image.endswith(DELETED) and not self._snaps(image):
            self._remove(image)

    def _drop_snap(self, image: str, snap: str) -> None:
        spec = self._spec(image, snap)
        if any(s["name"] == snap and s.get("protected") == "true" for s in self._snaps(image)):
            self._rbd(f"unprotecting {spec}", "snap", "unprotect", spec)
        self._rbd(f"removing {spec}", "snap", "rm", spec)

    def delete_volume(self, volume_id: str) -> None:
        image = f"volume-{volume_id}"
        with self._lock:
            if self._info(image) is None:
                return
            for snap in self._snaps(image):  # clone snapshots nothing uses any more
                if snap["name"].endswith(CLONE_SNAP) and not self._children(image, snap["name"]):
                    self._drop_snap(image, snap["name"])
            if self._snaps(image):  # snapshots, or clones of it: keep the data until they go
                self._rbd(f"deleting volume {volume_id}", "rename", self._spec(image), self._spec(image + DELETED))
                return
            self._remove(image)

    def extend_volume(self, volume_id: str, new_size_gb: int) -> None:
        image = self._volume_image(volume_id)
        if self._info(image)["size"] > new_size_gb * GiB:
            raise VolumeDriverError(what=f"extending volume {volume_id}", reason="volumes do not shrink")
        self._rbd(f"extending volume {volume_id}", "resize", "--size", f"{new_size_gb}G", self._spec(image))

    def _clone(self, image: str, snap: str, temp: str, size_gb: int, flatten: bool, what: str) -> None:
        self._rbd(what, "clone", self._spec(image, snap), self._spec(temp))
        if flatten or self._depth(temp) > self.max_clone_depth:
            self._rbd(what, "flatten", self._spec(temp))
        self._grow(temp, size_gb, what)

    def create_cloned_volume(self, volume_id: str, source_id: str, size_gb: int) -> None:
        source = self._volume_image(source_id)
        snap = f"volume-{volume_id}{CLONE_SNAP}"
        what = f"cloning volume {source_id}"
        if self._info(source)["size"] > size_gb * GiB:
            raise VolumeDriverError(what=what, reason=f"the source is larger than {size_gb} GiB")
        self._rbd(what, "snap", "create", self._spec(source, snap))
        try:
            self._rbd(what, "snap", "protect", self._spec(source, snap))
            self._make(volume_id, lambda temp: self._clone(source, snap, temp, size_gb, False, what))
        except BaseException:
            self._collect(source, snap)
            raise
        self._collect(source, snap)  # flattened: the snapshot has no use left

    def create_volume_from_image(self, volume_id: str, size_gb: int, image: ImageSource) -> None:
        what = f"copying image {image.id}"
        with self._staged(image, size_gb, what) as (path, fmt):
            def build(temp: str) -> None:
                self._run(what, ["qemu-img", "convert", "-U", "-q", "-f", fmt, "-O", "raw", path,
                                 self._qemu_target(temp)])
                self._grow(temp, size_gb, what)

            self._make(volume_id, build)

    def reimage_volume(self, volume_id: str, size_gb: int, image: ImageSource) -> None:
        """Written in place (``qemu-img convert -n``), as a guest would write it: the
        volume's snapshots and clones keep their data (copy on write); past the image's
        end the volume keeps its old bytes. The size is checked before anything is written."""
        target = self._volume_image(volume_id)
        what = f"reimaging volume {volume_id} with image {image.id}"
        with self._staged(image, size_gb, what) as (path, fmt):
            self._run(what, ["qemu-img", "convert", "-U", "-q", "-n", "-f", fmt, "-O", "raw", path,
                             self._qemu_target(target)])

    @contextlib.contextmanager
    def _staged(self, image: ImageSource, size_gb: int, what: str):
        """(path, qemu-img format) of the image's data, checked to fit ``size_gb``."""
        fmt = QEMU_FORMATS.get(image.disk_format)
        if fmt is None:
            raise VolumeDriverError(what=f"image {image.id}", reason=f"disk format {image.disk_format} is not "
                                                                   "supported")
        staged = None
        try:
            path = image.path
            if not path:
                self.scratch.mkdir(parents=True, exist_ok=True, mode=0o700)
                fd, staged = tempfile.mkstemp(prefix=f".tmp-image-{image.id}-", dir=self.scratch)
                with os.fdopen(fd, "wb") as handle:
                    for chunk in image.chunks():
                        handle.write(chunk)
                path = staged
            info = json.loads(self._run(what, ["qemu-img", "info", "-U", "--output=json", "-f", fmt, path]))
            if int(info["virtual-size"]) > size_gb * GiB:
                raise VolumeDriverError(what=what, reason=f"the image is larger than {size_gb} GiB")
            yield path, fmt
        finally:
            if staged:
                os.unlink(staged)

    def copy_volume_to_image(self, volume_id: str, disk_format: str, path: str) -> ImageWritten:
        image = self._volume_image(volume_id)
        fmt = QEMU_FORMATS.get(disk_format)
        what = f"uploading volume {volume_id}"
        if fmt is None:
            raise VolumeDriverError(what=what, reason=f"disk format {disk_format} is not supported")
        try:
            self._run(what, ["qemu-img", "convert", "-U", "-q", "-f", "raw", "-O", fmt, self._qemu_target(image),
                             path])
        except BaseException:
            Path(path).unlink(missing_ok=True)
            raise
        return ImageWritten(disk_format=disk_format, size=os.path.getsize(path))

    # -- snapshots ---------------------------------------------------------------------------

    def create_snapshot(self, snapshot_id: str, volume_id: str) -> None:
        image = f"volume-{volume_id}"
        spec = self._spec(image, f"snapshot-{snapshot_id}")
        what = f"snapshotting volume {volume_id}"
        try:
            self._rbd(what, "snap", "create", spec)
        except VolumeDriverError as error:
            if "(2) No such file" in str(error):
                raise VolumeNotFound(volume_id=volume_id) from None
            raise
        try:
            self._rbd(what, "snap", "protect", spec)
            self._rados(what, "setomapval", INDEX, snapshot_id, volume_id)
        except BaseException:
            self._drop_snap(image, f"snapshot-{snapshot_id}")
            raise

    def delete_snapshot(self, snapshot_id: str) -> None:
        with self._lock:
            try:
                image = self._snapshot_image(snapshot_id)
            except SnapshotNotFound:
                return
            snap = f"snapshot-{snapshot_id}"
            for child in self._children(image, snap):  # its clones get their own copy of the data
                self._rbd(f"flattening {child}", "flatten", self._spec(child))
            self._drop_snap(image, snap)
            try:
                self._rados(f"deleting snapshot {snapshot_id}", "rmomapkey", INDEX, snapshot_id)
            except VolumeDriverError:
                pass  # never indexed
            if image.endswith(DELETED) and not self._snaps(image):
                self._remove(image)

    def create_volume_from_snapshot(self, volume_id: str, snapshot_id: str, size_gb: int) -> None:
        image = self._snapshot_image(snapshot_id)
        what = f"copying snapshot {snapshot_id}"
        self._make(volume_id, lambda temp: self._clone(image, f"snapshot-{snapshot_id}", temp, size_gb,
                                                        self.flatten_from_snapshot, what))

    # -- manage and unmanage: any image in the pool, by its name --------------------------------

    def _foreign(self, ref: dict, what: str) -> tuple[str, dict]:
        name = ref.get("source-name") if isinstance(ref, dict) else None
        if not isinstance(name, str) or not name or "/" in name or "@" in name:
            raise VolumeDriverError(what=what, reason="the reference must be {'source-name': <an image in the pool>}")
        info = self._info(name)
        if info is None:
            raise VolumeDriverError(what=what, reason=f"no image {name} in pool {self.pool}")
        return name, info

    def manageable_volumes(self, managed: set[str]) -> list[dict]:
        found = []
        for entry in self._rbd_json("listing the pool", "ls", "-l", self.pool) or []:
            name = entry["image"]
            if "snapshot" in entry or name.endswith((DELETED, ".tmp")):
                continue
            match = VOLUME_NAME.fullmatch(name)
            ident = match.group(1) if match else None
            item = {"reference": {"source-name": name}, "size": -(-entry["size"] // GiB), "safe_to_manage": True,
                    "reason_not_safe": None, "cinder_id": None, "extra_info": None}
            if ident in managed:
                item.update(safe_to_manage=False, reason_not_safe="already managed", cinder_id=ident)
            found.append(item)
        return found

    def manage_existing(self, volume_id: str, ref: dict) -> int:
        what = f"managing {ref!r} as volume {volume_id}"
        with self._lock:
            name, info = self._foreign(ref, what)
            final = f"volume-{volume_id}"
            if self._info(final) is not None:
                raise VolumeExists(volume_id=volume_id)
            size_gb = max(1, -(-info["size"] // GiB))
            self._rbd(what, "rename", self._spec(name), self._spec(final))
            try:
                self._grow(final, size_gb, what)
            except VolumeDriverError:
                self._rbd(what, "rename", self._spec(final), self._spec(name))
                raise
        return size_gb

    def unmanage(self, volume_id: str) -> None:
        """The image stays as it is (``volume-<id>``), listed as manageable again."""

    def manageable_snapshots(self, managed: set[str]) -> list[dict]:
        found = []
        for entry in self._rbd_json("listing the pool", "ls", "-l", self.pool) or []:
            snap = entry.get("snapshot")
            if not snap or snap.endswith(CLONE_SNAP) or entry["image"].endswith(DELETED):
                continue
            ident = snap.removeprefix("snapshot-") if snap.startswith("snapshot-") else None
            item = {"reference": {"source-name": f"{entry['image']}@{snap}"}, "size": -(-entry["size"] // GiB),
                    "safe_to_manage": True, "reason_not_safe": None, "cinder_id": None, "extra_info": None,
                    "source_reference": {"source-name": entry["image"]}}
            if ident in managed:
                item.update(safe_to_manage=False, reason_not_safe="already managed", cinder_id=ident)
            found.append(item)
        return found

    def manage_existing_snapshot(self, snapshot_id: str, volume_id: str, ref: dict) -> int:
        """``ref`` names a snapshot of the volume's image: ``{"source-name": "<snap>"}`` or
        ``"<image>@<snap>"``; it is renamed ``snapshot-<id>`` and protected."""
        what = f"managing {ref!r} as snapshot {snapshot_id}"
        name = ref.get("source-name") if isinstance(ref, dict) else None
        image = self._volume_image(volume_id)
        snap = str(name or "").split("@")[-1]
        found = next((s for s in self._snaps(image) if s["name"] == snap), None)
        if found is None:
            raise VolumeDriverError(what=what, reason=f"no snapshot {snap or '(none)'} of {image}")
        final = f"snapshot-{snapshot_id}"
        self._rbd(what, "snap", "rename", self._spec(image, snap), self._spec(image, final))
        if found.get("protected") != "true":
            self._rbd(what, "snap", "protect", self._spec(image, final))
        self._rados(what, "setomapval", INDEX, snapshot_id, volume_id)
        return max(1, -(-found["size"] // GiB))

    def unmanage_snapshot(self, snapshot_id: str) -> None:
        """The RBD snapshot stays (``snapshot-<id>``)."""

    # -- connections ---------------------------------------------------------------------------

    def _monitors(self) -> list[tuple[str, str]]:
        """The monitors' v1 addresses, read again at most once a minute."""
        cached = self._mon_cache
        if cached and time.monotonic() - cached[0] < MONITOR_TTL:
            return cached[1]
        dump = json.loads(self._run("reading the monitors", ["ceph", *self._client_args(), "mon", "dump",
                                                              "--format", "json"]))
        found = []
        for mon in dump.get("mons", []):
            vec = (mon.get("public_addrs") or {}).get("addrvec") or []
            addr = next((a["addr"] for a in vec if a.get("type") == "v1"), None) or mon.get("addr", "").split("/")[0]
            host, _, port = addr.rpartition(":")
            if host:
                found.append((host.strip("[]"), port))
        self._mon_cache = (time.monotonic(), found)
        return found

    def initialize_connection(self, volume_id: str, connector: dict, mode: str = "rw") -> dict:
        image = self._volume_image(volume_id)
        monitors = self._monitors()
        return {"driver_volume_type": "rbd", "serial": volume_id,
                "data": {"name": self._spec(image), "hosts": [h for h, _ in monitors],
                         "ports": [p for _, p in monitors], "cluster_name": self.cluster_name,
                         "auth_enabled": True, "auth_username": self.user, "secret_type": "ceph",
                         "secret_uuid": self.secret_uuid, "keyring_path": self.keyring or None,
                         "volume_id": volume_id, "discard": True, "access_mode": mode}}
