"""Disks: the per-host image cache, the per-instance overlays, snapshots (qemu-img).

An image is fetched once per host into ``images/<id>``: its checksum is verified when
the image service gave one, ``qemu-img info`` must find a disk without a backing file,
and any format but qcow2 and raw is converted to qcow2. Each instance boots from a qcow2
overlay on the cached image, sized to the flavor's root disk, so the cache is never
written to.

AMI-style images (an ``ami`` disk whose ``kernel_id``/``ramdisk_id`` properties name
``aki``/``ari`` images) boot their kernel directly: the image service's boot properties
are kept beside the cached disk (``images/<id>.json``), and ``boot_image`` fetches the
kernel and ramdisk into the same cache (checksums verified; they are files for
``-kernel``/``-initrd``, not disks, so nothing else is checked).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import threading
from dataclasses import replace
from pathlib import Path
from typing import Callable

from ..base import ImageRef

GiB = 1 << 30
#: ``fetcher(image_id, destination)`` writes the image's bytes to ``destination`` and
#: returns what the image service knows: ``checksum`` (md5), ``os_hash_algo``,
#: ``os_hash_value``, ``disk_format`` and ``properties`` (all optional; of the properties
#: only BOOT_PROPERTIES are used).
ImageFetcher = Callable[[str, Path], dict]
DIRECT_FORMATS = ("qcow2", "raw")
BOOT_PROPERTIES = ("kernel_id", "ramdisk_id", "os_command_line")
BLOB_FORMATS = ("aki", "ari")  # a kernel and a ramdisk: files QEMU reads, not disks


class DiskError(Exception):
    """A disk operation failed; the message says why in words a user can act on."""


def qemu_img(*args: str, timeout: float = 600) -> str:
    try:
        done = subprocess.run(["qemu-img", *args], capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise DiskError(f"qemu-img {args[0]} failed: {error}") from error
    if done.returncode != 0:
        raise DiskError(f"qemu-img {args[0]} failed: {done.stderr.strip() or done.returncode}")
    return done.stdout


def info(path: Path) -> dict:
    """``qemu-img info`` as a dict; ``-U`` so it also reads a disk a running guest holds."""
    return json.loads(qemu_img("info", "-U", "--output=json", str(path)))


def _digest(path: Path, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _has_boot_sector(path: Path) -> bool:
    with open(path, "rb") as handle:
        head = handle.read(512)
    return len(head) == 512 and head[510:512] == b"\x55\xaa"


class ImageCache:
    def __init__(self, root: Path, fetcher: ImageFetcher | None = None):
        self.root = root
        self.fetcher = fetcher
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def _lock(self, image_id: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(image_id, threading.Lock())

    def _cached(self, image: ImageRef, blob: bool = False) -> Path:
        if "/" in image.id or image.id in ("", ".", ".."):
            raise DiskError(f"bad image id {image.id!r}")
        with self._lock(image.id):
            cached = self.root / image.id
            if not cached.exists():
                self._fill(image, cached, blob)
            return cached

    def get(self, image: ImageRef) -> tuple[Path, str, int]:
        """The local path, format and virtual size of ``image``, fetching it first if
        needed. Raises DiskError when it cannot be had or is not a usable disk."""
        cached = self._cached(image)
        details = info(cached)
        return cached, details["format"], int(details["virtual-size"])

    def boot_image(self, image: ImageRef) -> ImageRef:
        """``image`` (fetched into the cache) with the kernel, ramdisk and command line of
        a direct kernel boot when the image service names them (``kernel_id``,
        ``ramdisk_id``, ``os_command_line``); a kernel already given is kept."""
        self._cached(image)
        if image.kernel_path:
            return image
        try:
            props = json.loads((self.root / f"{image.id}.json").read_text())
        except (FileNotFoundError, ValueError):
            return image
        kernel_path = ramdisk_path = None
        if props.get("kernel_id"):
            kernel_path = str(self._cached(ImageRef(id=props["kernel_id"], path="", disk_format="aki"), blob=True))
        if props.get("ramdisk_id") and kernel_path:
            ramdisk_path = str(self._cached(ImageRef(id=props["ramdisk_id"], path="", disk_format="ari"), blob=True))
        return replace(image, kernel_path=kernel_path, ramdisk_path=ramdisk_path,
                       kernel_cmdline=props.get("os_command_line") or None)

    def _fill(self, image: ImageRef, cached: Path, blob: bool = False) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        part = cached.with_name(cached.name + ".part")
        try:
            if image.path and Path(image.path).is_file():
                shutil.copyfile(image.path, part)
                known = {"disk_format": image.disk_format}
            elif self.fetcher is not None:
                known = self.fetcher(image.id, part) or {}
            else:
                raise DiskError(f"image {image.id} is not on this host ({image.path or 'no path'})")
            self._verify(image.id, part, known)
            if blob or known.get("disk_format") in BLOB_FORMATS:
                os.replace(part, cached)
                return
            props = {k: v for k, v in (known.get("properties") or {}).items() if k in BOOT_PROPERTIES and v}
            if props:
                (self.root / f"{image.id}.json").write_text(json.dumps(props))
                image = replace(image, kernel_path=image.kernel_path or props.get("kernel_id"))
            self._settle(image, part, cached, known.get("disk_format"))
        finally:
            part.unlink(missing_ok=True)
            cached.with_name(cached.name + ".converting").unlink(missing_ok=True)

    @staticmethod
    def _verify(image_id: str, path: Path, known: dict) -> None:
        if known.get("os_hash_algo") and known.get("os_hash_value"):
            if _digest(path, known["os_hash_algo"]) != known["os_hash_value"]:
                raise DiskError(f"image {image_id}: {known['os_hash_algo']} checksum mismatch")
        elif known.get("checksum") and _digest(path, "md5") != known["checksum"]:
            raise DiskError(f"image {image_id}: md5 checksum mismatch")

    @staticmethod
    def _settle(image: ImageRef, part: Path, cached: Path, declared: str | None) -> None:
        """Check what ``part`` really is and move it (or its qcow2 conversion) into place."""
        try:
            details = info(part)
        except DiskError as error:
            raise DiskError(f"image {image.id} is not a disk image qemu can read: {error}") from error
        found = details["format"]
        if details.get("backing-filename"):
            raise DiskError(f"image {image.id} has a backing file; only standalone images can boot")
        if declared in DIRECT_FORMATS and declared != found:
            raise DiskError(f"image {image.id} is declared {declared} but is {found}")
        if found == "raw" and not image.kernel_path and declared != "iso" and not _has_boot_sector(part):
            raise DiskError(f"image {image.id} is not a bootable disk (no boot sector)")
        if found in DIRECT_FORMATS:
            os.replace(part, cached)
            return
        converting = cached.with_name(cached.name + ".converting")
        qemu_img("convert", "-f", found, "-O", "qcow2", str(part), str(converting))
        os.replace(converting, cached)


def create_overlay(base: Path, base_format: str, virtual_size: int, target: Path, root_gb: int) -> int:
    """A qcow2 overlay on ``base`` of the flavor's root size (the image's size for
    root_gb 0). Returns the overlay's virtual size. Raises DiskError when the flavor's
    disk is smaller than the image."""
    size = root_gb * GiB if root_gb else virtual_size
    if size < virtual_size:
        raise DiskError(f"flavor's disk is too small for the image: {root_gb} GiB < "
                        f"{virtual_size / GiB:.2f} GiB")
    qemu_img("create", "-q", "-f", "qcow2", "-b", str(base.resolve()), "-F", base_format, str(target), str(size))
    return size


def grow(path, fmt: str, size_bytes: int) -> None:
    """Grow a qcow2 or raw file no QEMU holds to ``size_bytes`` (never shrinks)."""
    if fmt == "raw":
        if os.path.getsize(path) < size_bytes:
            os.truncate(path, size_bytes)
    elif int(info(Path(path))["virtual-size"]) < size_bytes:
        qemu_img("resize", "-q", "-f", fmt, str(path), str(size_bytes))


def create_blank(target: Path, size_bytes: int) -> None:
    """An empty qcow2 disk (ephemeral or swap; the guest formats it)."""
    qemu_img("create", "-q", "-f", "qcow2", str(target), str(size_bytes))


def flatten(disk: Path, target: Path) -> tuple[int, int]:
    """Copy ``disk`` with its backing chain into a standalone qcow2; (size, virtual size)."""
    qemu_img("convert", "-U", "-O", "qcow2", str(disk), str(target))
    return target.stat().st_size, int(info(target)["virtual-size"])
