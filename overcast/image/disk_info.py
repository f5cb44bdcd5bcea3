"""What ``qemu-img info`` says about an image file: its virtual size and detected format.

qemu-img parses untrusted, user-supplied files, so every run is confined the way Glance
confines it: 1 GiB of address space, 30 s of CPU (``prlimit``, or setrlimit in the child
when util-linux's ``prlimit`` is missing) and a wall-clock timeout. The format is always
given with ``-f`` when we know it, so a raw image is never probed, and the path is
absolute, so qemu-img never reads it as a protocol (``nbd:``, ``json:``) spec.

Nothing here raises: a missing qemu-img, a timeout or a file qemu-img rejects is logged
as a warning and answered with None. Blocking (a subprocess): call from a worker thread.
``qemu-img`` is in Debian's ``qemu-utils`` package.
"""

from __future__ import annotations

import json
import logging
import os
import resource
import shutil
import subprocess

log = logging.getLogger(__name__)

#: Glance disk_format -> qemu-img driver name, for the formats qemu-img can size
QEMU_FORMATS: dict[str, str] = {
    "qcow2": "qcow2",
    "vmdk": "vmdk",
    "vhd": "vpc",
    "vhdx": "vhdx",
    "vdi": "vdi",
    "raw": "raw",
    "iso": "raw",
}
#: qemu-img driver name -> Glance disk_format, for inspect_format's answer
DISK_FORMATS: dict[str, str] = {"vpc": "vhd", "parallels": "ploop"}

ADDRESS_SPACE = 1 << 30  # bytes
CPU_SECONDS = 30
TIMEOUT = 30.0  # seconds of wall-clock time


def virtual_size(path: str, disk_format: str, *, timeout: float = TIMEOUT) -> int | None:
    """The size in bytes of the disk the image holds, or None when it cannot be told.

    For raw and iso it is the file's size, exactly as Glance reports it (qemu-img would
    round it up to whole 512-byte sectors, and it needs no subprocess); for the other
    formats in :data:`QEMU_FORMATS` it is qemu-img's ``virtual-size``; any other
    disk_format (ami, aki, ari, ploop, ...) gives None.
    """
    fmt = QEMU_FORMATS.get(disk_format)
    if fmt is None:
        return None
    if fmt == "raw":
        try:
            return os.stat(path).st_size
        except OSError as error:
            log.warning("cannot stat image file %s: %s", path, error)
            return None
    info = _qemu_img_info(path, fmt, timeout)
    size = info.get("virtual-size") if info else None
    if isinstance(size, int) and size >= 0:
        return size
    if info:
        log.warning("qemu-img info gave no virtual size for %s", path)
    return None


def inspect_format(path: str, *, timeout: float = TIMEOUT) -> str | None:
    """The format qemu-img detects, named as Glance's disk_format (``vpc`` -> ``vhd``,
    ``parallels`` -> ``ploop``, others unchanged, e.g. ``qcow2``, ``raw``); None when
    qemu-img is missing or fails. Probing a file is only a report: never use its answer
    to open the image (a raw image can look like anything)."""
    info = _qemu_img_info(path, None, timeout)
    fmt = info.get("format") if info else None
    if not isinstance(fmt, str):
        return None
    return DISK_FORMATS.get(fmt, fmt)


def _qemu_img_info(path: str, fmt: str | None, timeout: float) -> dict | None:
    qemu_img = shutil.which("qemu-img")
    if qemu_img is None:
        log.warning("qemu-img is not installed (Debian package qemu-utils); cannot inspect %s", path)
        return None
    argv = [qemu_img, "info", "--output=json", "--force-share"]
    if fmt is not None:
        argv += ["-f", fmt]
    argv.append(os.path.abspath(path))
    prlimit = shutil.which("prlimit")
    if prlimit is not None:
        argv = [prlimit, f"--as={ADDRESS_SPACE}", f"--cpu={CPU_SECONDS}", "--"] + argv
    try:
        done = subprocess.run(argv, capture_output=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL,
                              env={**os.environ, "LC_ALL": "C"},
                              preexec_fn=None if prlimit is not None else _limit_resources)
    except subprocess.TimeoutExpired:
        log.warning("qemu-img info on %s took longer than %s s; killed", path, timeout)
        return None
    except OSError as error:
        log.warning("cannot run qemu-img on %s: %s", path, error)
        return None
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip()[:500]
        log.warning("qemu-img info on %s failed (exit %s): %s", path, done.returncode, message)
        return None
    try:
        info = json.loads(done.stdout)
    except ValueError:
        log.warning("qemu-img info on %s printed something that is not JSON", path)
        return None
    return info if isinstance(info, dict) else None


def _limit_resources() -> None:  # runs in the child between fork and exec
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))
