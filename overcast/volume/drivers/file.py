"""FileVolumeDriver: each volume is a sparse file under DATA_DIR/volumes.

Volumes are ``volume-<id>.qcow2`` (the default) or ``volume-<id>.raw``; snapshots are
standalone qcow2 copies, ``snapshot-<id>.qcow2``, so a snapshot outlives its volume's
later writes and a volume can be deleted whatever snapshots were taken of it (no backing
chain to keep). Clones and volumes from snapshots or images are copies made by
``qemu-img convert``, which skips zeros, so a copy costs what the data holds, not the
volume's size.

Every file is written under a temp name (``.tmp-*``) in the same directory and renamed
into place once complete, so a crash or failure never leaves a half-made volume;
``init_host`` sweeps temp files left by a crash. Connection info names the file and its
format: the QEMU driver opens it directly (the volume must be on a filesystem the
connecting host sees). With ``target_helper = "tgtadm"`` a connected volume is exported
instead as an iSCSI target by tgtd (``targets``), so a host that cannot read this one's
files attaches it over the network; tgt serves a file's bytes as the disk, so volumes are
then raw files.

Extending: raw files are grown by ``truncate`` (safe while a guest has them open); a
qcow2 file that a running QEMU on this host holds (its image lock refuses ``qemu-img
resize``) is left for that QEMU to grow, which it does when the hypervisor is told of the
new size (``block_resize``, as Nova's libvirt driver does for file-based volumes).

Encrypted volumes (``encryption``, an :class:`~.luks.Encryption`) are qcow2 files with
LUKS encryption whatever ``file_format`` says; their snapshots are encrypted with the same
passphrase; clones and volumes from snapshots are written with their own (``encryption``),
the source opened with its (``source_encryption``), so the copy is re-keyed as Cinder
re-keys clones. Images are written into them through the encryption; an encrypted image
(``ImageSource.encrypted``, what an encrypted volume uploads) is a raw LUKS container opened
with the new volume's passphrase (its key is a copy of the image's). Uploading writes such
a container. The connection info says ``encrypted``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from .base import BackendStats, Capabilities, ImageSource, ImageWritten, VolumeDriver
from .errors import SnapshotNotFound, VolumeDriverError, VolumeExists, VolumeNotFound
from .targets import TgtTargets
from .luks import SOURCE_SECRET_ID, Encryption, open_args, secret_object

# Glance disk formats -> qemu-img format names
QEMU_FORMATS = {"raw": "raw", "qcow2": "qcow2", "vmdk": "vmdk", "vdi": "vdi", "vhd": "vpc", "vhdx": "vhdx",
                "iso": "raw", "ami": "raw", "img": "raw"}
FORMATS = ("qcow2", "raw")
TARGET_HELPERS = ("none", "tgtadm")
GiB = 1 << 30
CPU_CLOCK_ATTEMPTS = 10  # tries of a qemu-img command whose PBKDF2 timing the host's load defeated


def _run(what: str, *argv: str) -> str:
    for attempt in range(CPU_CLOCK_ATTEMPTS):
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=3600)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise VolumeDriverError(what=what, reason=str(error)) from None
        # LUKS key-slot set-up times PBKDF2 on this thread's CPU clock, which a busy host
        # can defeat (three times in a row at load 6 on 2 cores); trying again a little
        # later is safe (nothing was published)
        if done.returncode == 0 or "Unable to get accurate CPU usage" not in done.stderr:
            break
        time.sleep(0.2 * (attempt + 1))
    if done.returncode != 0:
        reason = (done.stderr or done.stdout).strip().splitlines()
        raise VolumeDriverError(what=what, reason=reason[-1] if reason else f"{argv[0]} exited {done.returncode}")
    return done.stdout


class FileVolumeDriver(VolumeDriver):
    name = "file"
    storage_protocol = "file"
    capabilities = Capabilities(supports_snapshot=True, supports_clone=True, supports_image=True,
                                supports_extend=True, supports_multiattach=False, thin_provisioning=True,
                                supports_manage=True, supports_encryption=True)

    def __init__(self, data_path, file_format: str = "qcow2", qemu_img: str = "qemu-img",
                 target_helper: str = "none", target_ip_address: str = "127.0.0.1", target_port: int = 3260):
        if file_format not in FORMATS:
            raise ValueError(f"file volume format must be one of {', '.join(FORMATS)}, not {file_format!r}")
        if target_helper not in TARGET_HELPERS:
            raise ValueError(f"volume target helper must be one of {', '.join(TARGET_HELPERS)}, not "
                             f"{target_helper!r}")
        if target_helper == "tgtadm" and file_format != "raw":
            raise ValueError("the tgtadm target helper exports raw files: set volume.file_format = raw")
        self.root = Path(data_path) / "volumes"
        self.format = file_format
        self.qemu_img = qemu_img
        self.targets = TgtTargets(Path(data_path) / "volume-targets", target_ip_address, target_port) \
            if target_helper == "tgtadm" else None
        if self.targets is not None:
            self.storage_protocol = "iSCSI"
        self._lock = threading.Lock()

    # -- backend ---------------------------------------------------------------------

    def init_host(self, host: str) -> None:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        if shutil.which(self.qemu_img) is None:
            raise VolumeDriverError(what="init_host", reason=f"{self.qemu_img} is not installed (qemu-utils)")
        for leftover in self.root.glob(".tmp-*"):
            leftover.unlink(missing_ok=True)
        if self.targets is not None:  # tgtd keeps no targets across its restarts
            self.targets.ensure_daemon()
            self.targets.restore()

    def stats(self) -> BackendStats:
        usage = shutil.disk_usage(self.root)
        allocated = 0
        for path in self.root.glob("volume-*"):
            allocated += self._virtual_size(path) // GiB if path.suffix == ".qcow2" else path.stat().st_size // GiB
        return BackendStats(total_gb=round(usage.total / GiB, 2), free_gb=round(usage.free / GiB, 2),
                            allocated_gb=allocated, volume_backend_name="file", storage_protocol=self.storage_protocol)

    def list_volumes(self) -> list[str]:
        return sorted(path.stem.removeprefix("volume-") for path in self.root.glob("volume-*"))

    # -- paths and the temp-then-rename write ------------------------------------------

    def _volume_path(self, volume_id: str) -> Path | None:
        for fmt in FORMATS:
            path = self.root / f"volume-{volume_id}.{fmt}"
            if path.exists():
                return path
        return None

    def _existing(self, volume_id: str) -> Path:
        path = self._volume_path(volume_id)
        if path is None:
            raise VolumeNotFound(volume_id=volume_id)
        return path

    def _snapshot_path(self, snapshot_id: str) -> Path:
        return self.root / f"snapshot-{snapshot_id}.qcow2"

    def _temp(self, name: str) -> Path:
        fd, path = tempfile.mkstemp(prefix=f".tmp-{name}-", dir=self.root)
        os.close(fd)
        return Path(path)

    def _publish(self, temp: Path, final: Path) -> None:
        """fsync the finished temp file and rename it into place (atomic on one filesystem)."""
        with open(temp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temp, final)
        dir_fd = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def _make(self, volume_id: str, build, encrypted: bool = False) -> None:
        """Run ``build(temp_path)`` and publish it as the volume; on failure nothing stays."""
        if self._volume_path(volume_id) is not None:
            raise VolumeExists(volume_id=volume_id)
        final = self.root / f"volume-{volume_id}.{'qcow2' if encrypted else self.format}"
        temp = self._temp(f"volume-{volume_id}")
        try:
            build(temp)
            self._publish(temp, final)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise

    def _virtual_size(self, path: Path, fmt: str | None = None) -> int:
        argv = [self.qemu_img, "info", "-U", "--output=json"]
        if fmt:
            argv += ["-f", fmt]
        return int(json.loads(_run(f"reading {path.name}", *argv, str(path)))["virtual-size"])

    def _grow(self, path: Path, size_gb: int, encryption: Encryption | None = None, fmt: str | None = None) -> None:
        fmt = fmt or (path.suffix.lstrip(".") if path.suffix in (".qcow2", ".raw") else self.format)
        if fmt == "raw" and encryption is None:  # no image lock to take: a guest may hold the file open
            if path.stat().st_size < size_gb * GiB:
                os.truncate(path, size_gb * GiB)
        elif self._virtual_size(path, fmt) < size_gb * GiB:
            with secret_object(self.root, encryption) as secret:
                _run(f"resizing {path.name}", self.qemu_img, "resize", "-q", *secret,
                     *open_args(path, fmt, encryption), f"{size_gb}G")

    def _convert(self, what: str, source: Path, source_format: str, target: Path, target_format: str,
                 source_encryption: Encryption | None = None, encryption: Encryption | None = None) -> None:
        """Copy ``source`` into a new ``target``; with ``encryption`` the target is an
        encrypted qcow2, or with ``target_format`` "luks" a raw LUKS container
        (``source_encryption`` opens an encrypted source: a qcow2, or with
        ``source_format`` "luks" a container; each has its own secret, so a copy can change
        the passphrase)."""
        with secret_object(self.root, encryption) as secret, \
                secret_object(self.root, source_encryption, SOURCE_SECRET_ID) as source_secret:
            target_args = ["-O", target_format]
            if encryption is not None:
                container = target_format == "luks"
                target_args = ["-O", "luks" if container else "qcow2", "-o", encryption.create_options(container)]
            _run(what, self.qemu_img, "convert", "-U", "-q", *secret, *source_secret,
                 *open_args(source, source_format, source_encryption, SOURCE_SECRET_ID), *target_args, str(target))

    # -- volumes -------------------------------------------------------------------------

    def create_volume(self, volume_id: str, size_gb: int, encryption: Encryption | None = None) -> None:
        def build(temp: Path) -> None:
            if encryption is not None:
                with secret_object(self.root, encryption) as secret:
                    _run(f"creating volume {volume_id}", self.qemu_img, "create", "-q", *secret, "-f", "qcow2",
                         "-o", encryption.create_options(), str(temp), f"{size_gb}G")
            elif self.format == "raw":
                os.truncate(temp, size_gb * GiB)
            else:
                _run(f"creating volume {volume_id}", self.qemu_img, "create", "-q", "-f", "qcow2", str(temp),
                     f"{size_gb}G")

        self._make(volume_id, build, encrypted=encryption is not None)

    def delete_volume(self, volume_id: str) -> None:
        if self.targets is not None:
            self.targets.unexport(volume_id)
        for fmt in FORMATS:
            (self.root / f"volume-{volume_id}.{fmt}").unlink(missing_ok=True)

    def extend_volume(self, volume_id: str, new_size_gb: int, encryption: Encryption | None = None) -> None:
        path = self._existing(volume_id)
        fmt = path.suffix.lstrip(".")
        if self._virtual_size(path, fmt) > new_size_gb * GiB:
            raise VolumeDriverError(what=f"extending volume {volume_id}", reason="volumes do not shrink")
        try:
            self._grow(path, new_size_gb, encryption)
        except VolumeDriverError as error:
            if fmt != "qcow2" or not any(word in str(error) for word in ("lock", "another process")):
                raise
            # a QEMU on this host has the file open: it grows it when told (block_resize)
            return
        if self.targets is not None:
            self.targets.refresh(volume_id)

    def _copy_from(self, volume_id: str, source: Path, source_format: str, size_gb: int, what: str,
                   source_encryption: Encryption | None = None, encryption: Encryption | None = None) -> None:
        fmt = "qcow2" if encryption is not None else self.format
        self._make(volume_id, lambda temp: self._fill(temp, fmt, source, source_format, size_gb, what,
                                                       source_encryption, encryption),
                   encrypted=encryption is not None)

    def _fill(self, temp: Path, fmt: str, source: Path, source_format: str, size_gb: int, what: str,
              source_encryption: Encryption | None = None, encryption: Encryption | None = None) -> None:
        """Convert ``source`` into ``temp`` (``fmt``) and grow it to ``size_gb``."""
        self._convert(what, source, source_format, temp, fmt, source_encryption, encryption)
        if self._virtual_size(temp, fmt) > size_gb * GiB:
            raise VolumeDriverError(what=what, reason=f"the source is larger than {size_gb} GiB")
        self._grow(temp, size_gb, encryption, fmt)

    def create_cloned_volume(self, volume_id: str, source_id: str, size_gb: int,
                             encryption: Encryption | None = None, source_encryption: Encryption | None = None) -> None:
        source = self._existing(source_id)
        self._copy_from(volume_id, source, source.suffix.lstrip("."), size_gb, f"cloning volume {source_id}",
                        source_encryption or encryption, encryption)

    def create_volume_from_image(self, volume_id: str, size_gb: int, image: ImageSource,
                                 encryption: Encryption | None = None) -> None:
        with self._image_file(image, encryption) as (path, fmt, source_encryption):
            self._copy_from(volume_id, path, fmt, size_gb, f"copying image {image.id}", source_encryption, encryption)

    def reimage_volume(self, volume_id: str, size_gb: int, image: ImageSource,
                       encryption: Encryption | None = None) -> None:
        """The image is written into a temp file of the volume's format (and encryption),
        which then replaces the volume's file; an iSCSI export serves the new file."""
        final = self._existing(volume_id)
        what = f"reimaging volume {volume_id} with image {image.id}"
        with self._image_file(image, encryption) as (path, fmt, source_encryption):
            temp = self._temp(f"volume-{volume_id}")
            try:
                self._fill(temp, final.suffix.lstrip("."), path, fmt, size_gb, what, source_encryption, encryption)
                self._publish(temp, final)
            except BaseException:
                temp.unlink(missing_ok=True)
                raise
        if self.targets is not None:
            with self._lock:
                self.targets.refresh(volume_id)

    @contextlib.contextmanager
    def _image_file(self, image: ImageSource, encryption: Encryption | None):
        """(path, qemu-img format, its encryption) of the image's data, staged here when it
        comes in chunks; an encrypted image (a LUKS container) opens with the volume's key."""
        fmt = QEMU_FORMATS.get(image.disk_format)
        if fmt is None:
            raise VolumeDriverError(what=f"image {image.id}", reason=f"disk format {image.disk_format} is not "
                                                                   "supported")
        source_encryption = None
        if image.encrypted:
            if encryption is None or fmt != "raw":
                raise VolumeDriverError(what=f"image {image.id}", reason="an encrypted image is a raw LUKS "
                                                                       "container for an encrypted volume")
            fmt, source_encryption = "luks", encryption
        if image.path:
            yield Path(image.path), fmt, source_encryption
            return
        staged = self._temp(f"image-{image.id}")
        try:
            with open(staged, "wb") as handle:
                for chunk in image.chunks():
                    handle.write(chunk)
            yield staged, fmt, source_encryption
        finally:
            staged.unlink(missing_ok=True)

    def copy_volume_to_image(self, volume_id: str, disk_format: str, path: str,
                             encryption: Encryption | None = None) -> ImageWritten:
        source = self._existing(volume_id)
        fmt = QEMU_FORMATS.get(disk_format)
        if fmt is None or (encryption is not None and fmt != "raw"):
            raise VolumeDriverError(what=f"uploading volume {volume_id}", reason=f"disk format {disk_format} is "
                                                                                 "not supported")
        try:
            self._convert(f"uploading volume {volume_id}", source, source.suffix.lstrip("."), Path(path),
                          "luks" if encryption is not None else fmt, encryption, encryption)
        except BaseException:
            Path(path).unlink(missing_ok=True)
            raise
        return ImageWritten(disk_format=disk_format, size=os.path.getsize(path))

    # -- snapshots -----------------------------------------------------------------------

    def create_snapshot(self, snapshot_id: str, volume_id: str, encryption: Encryption | None = None) -> None:
        source = self._existing(volume_id)
        final = self._snapshot_path(snapshot_id)
        temp = self._temp(f"snapshot-{snapshot_id}")
        try:
            self._convert(f"snapshotting volume {volume_id}", source, source.suffix.lstrip("."), temp, "qcow2",
                          encryption, encryption)
            self._publish(temp, final)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise

    def delete_snapshot(self, snapshot_id: str) -> None:
        self._snapshot_path(snapshot_id).unlink(missing_ok=True)

    def create_volume_from_snapshot(self, volume_id: str, snapshot_id: str, size_gb: int,
                                    encryption: Encryption | None = None,
                                    source_encryption: Encryption | None = None) -> None:
        source = self._snapshot_path(snapshot_id)
        if not source.exists():
            raise SnapshotNotFound(snapshot_id=snapshot_id)
        self._copy_from(volume_id, source, "qcow2", size_gb, f"copying snapshot {snapshot_id}",
                        source_encryption or encryption, encryption)

    # -- manage and unmanage: any file in the volume directory, by its name -------------------

    def _foreign(self, ref: dict, what: str) -> Path:
        name = ref.get("source-name") if isinstance(ref, dict) else None
        if not isinstance(name, str) or not name or "/" in name or name.startswith("."):
            raise VolumeDriverError(what=what, reason="the reference must be {'source-name': <a file name in the "
                                                      "volume directory>}")
        path = self.root / name
        if not path.is_file():
            raise VolumeDriverError(what=what, reason=f"no file {name} in the volume directory")
        return path

    def _disk(self, path: Path, what: str) -> tuple[str, int]:
        """(format, virtual size in bytes) of a qcow2 or raw file."""
        info = json.loads(_run(what, self.qemu_img, "info", "-U", "--output=json", str(path)))
        fmt = info.get("format")
        if fmt not in FORMATS or info.get("backing-filename"):
            raise VolumeDriverError(what=what, reason=f"{path.name} is not a standalone qcow2 or raw disk")
        return fmt, int(info["virtual-size"])

    def _listing(self, prefix: str, managed: set[str]) -> list[dict]:
        found = []
        for path in sorted(self.root.iterdir()):
            name = path.name
            if name.startswith(".") or not path.is_file() or (prefix == "volume-" and name.startswith("snapshot-")) \
                    or (prefix == "snapshot-" and not name.startswith("snapshot-")):
                continue
            ident = path.stem.removeprefix(prefix) if name.startswith(prefix) else None
            entry = {"reference": {"source-name": name}, "size": 0, "safe_to_manage": True, "reason_not_safe": None,
                     "cinder_id": None, "extra_info": None}
            try:
                entry["size"] = -(-self._disk(path, f"reading {name}")[1] // GiB)
            except VolumeDriverError:
                entry.update(safe_to_manage=False, reason_not_safe="not a standalone qcow2 or raw disk")
            if ident in managed:
                entry.update(safe_to_manage=False, reason_not_safe="already managed", cinder_id=ident)
            if prefix == "snapshot-":
                entry["source_reference"] = None
            found.append(entry)
        return found

    def manageable_volumes(self, managed: set[str]) -> list[dict]:
        return self._listing("volume-", managed)

    def manage_existing(self, volume_id: str, ref: dict) -> int:
        what = f"managing {ref!r} as volume {volume_id}"
        with self._lock:
            path = self._foreign(ref, what)
            fmt, size = self._disk(path, what)
            if self._volume_path(volume_id) is not None:
                raise VolumeExists(volume_id=volume_id)
            size_gb = max(1, -(-size // GiB))
            final = self.root / f"volume-{volume_id}.{fmt}"
            os.replace(path, final)
        try:
            self._grow(final, size_gb)
        except VolumeDriverError:
            os.replace(final, path)
            raise
        return size_gb

    def unmanage(self, volume_id: str) -> None:
        """The file stays as it is (``volume-<id>.<format>``), listed as manageable again."""

    def manageable_snapshots(self, managed: set[str]) -> list[dict]:
        return self._listing("snapshot-", managed)

    def manage_existing_snapshot(self, snapshot_id: str, volume_id: str, ref: dict) -> int:
        what = f"managing {ref!r} as snapshot {snapshot_id}"
        with self._lock:
            path = self._foreign(ref, what)
            fmt, size = self._disk(path, what)
            if fmt != "qcow2":
                raise VolumeDriverError(what=what, reason="snapshots are qcow2 files")
            os.replace(path, self._snapshot_path(snapshot_id))
        return max(1, -(-size // GiB))

    def unmanage_snapshot(self, snapshot_id: str) -> None:
        """The file stays (``snapshot-<id>.qcow2``)."""

    # -- connections -----------------------------------------------------------------------

    def initialize_connection(self, volume_id: str, connector: dict, mode: str = "rw") -> dict:
        path = self._existing(volume_id)
        if self.targets is None:
            data = {"path": str(path), "format": path.suffix.lstrip("."), "access_mode": mode}
            if path.suffix == ".qcow2" and self._encrypted(path):
                data["encrypted"] = True
            return {"driver_volume_type": "file", "serial": volume_id, "data": data}
        if path.suffix != ".raw":
            raise VolumeDriverError(what=f"exporting volume {volume_id}", reason="the tgtadm target helper exports "
                                                                                 "raw files only")
        with self._lock:
            properties = self.targets.export(volume_id, str(path))
        return {"driver_volume_type": "iscsi", "serial": volume_id,
                "data": {**properties, "encrypted": False, "access_mode": mode}}

    def _encrypted(self, path: Path) -> bool:
        info = json.loads(_run(f"reading {path.name}", self.qemu_img, "info", "-U", "--output=json", "-f", "qcow2",
                               str(path)))
        return bool(info.get("encrypted"))

    def terminate_connection(self, volume_id: str, connector: dict | None) -> None:
        """With tgtadm the export goes (one connection per volume: no multiattach)."""
        if self.targets is not None:
            with self._lock:
                self.targets.unexport(volume_id)
