"""Cold migration between two hosts' state directories: the source hands its stopped
guest's disks over, the destination builds the guest from copies of them.

``hand_over`` (source) marks the instance ``migrated.json`` (the destination host and
the power state to go back to) and returns the migrate data: where each file is. Today
the transport is ``local``: the destination reads the source's files by path, which
works for two state directories on one machine (or a shared filesystem). A copy between
machines would add another transport (an HTTP or ssh URL per file in ``files``) and
change nothing else: the destination only ever copies from ``files``.

``take_over`` (destination) copies the root overlay and the ephemeral disk, points the
overlay at the image in this host's own cache (the base image is fetched here like for
a boot; an overlay needs its base on the same host) with an unsafe rebase, which is
right because both caches hold the same image bytes, and grows the disks to the (maybe
new) flavor as a resize does. Swap is made blank (Nova does not copy it either), the
config drive is written again from the spec, and the console log comes along. When the
image cannot be had any more (deleted from the image service), the overlay is flattened
from the source's chain instead, which needs the source's cache readable (one machine).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from ..base import InstanceSpec
from . import disks
from .guest import Guest

GiB = 1 << 30
FILES = ("disk", "eph0", "console")


def pending(guest: Guest) -> bool:
    return (guest.paths.dir / "migrated.json").exists()


def hand_over(guest: Guest, dest_host: str, power_state: int) -> dict:
    """The guest is stopped: mark it moved and say where its files are."""
    (guest.paths.dir / "migrated.json").write_text(json.dumps({"dest": dest_host, "power_state": power_state}))
    files = {name: str(getattr(guest.paths, name)) for name in FILES if getattr(guest.paths, name).exists()}
    return {"transport": "local", "files": files, "power_state": power_state}


def forget(guest: Guest) -> None:
    (guest.paths.dir / "migrated.json").unlink(missing_ok=True)


def _fetch(data: dict, name: str, target: Path) -> Path | None:
    """Copy the source's file ``name`` to ``target``; the source's path, or None without one."""
    if data.get("transport", "local") != "local":
        raise disks.DiskError(f"migrate data transport {data.get('transport')!r} is not supported")
    source = (data.get("files") or {}).get(name)
    if not source:
        return None
    if not Path(source).is_file():
        raise disks.DiskError(f"the source's {name} ({source}) cannot be read from this host")
    shutil.copyfile(source, target)
    return Path(source)


def _grow(path: Path, size: int) -> None:
    if size > int(disks.info(path)["virtual-size"]):
        disks.qemu_img("resize", "-q", str(path), str(size))


def take_over(images: disks.ImageCache, guest: Guest, spec: InstanceSpec, data: dict) -> None:
    """Build the instance directory for ``spec`` from the source's files (see above)."""
    paths = guest.paths
    source_disk = _fetch(data, "disk", paths.disk)
    if source_disk is not None:
        backing = disks.info(paths.disk).get("backing-filename")
        if backing:
            try:
                base, base_format, _ = images.get(spec.image) if spec.image else (None, None, None)
            except disks.DiskError:
                base = None
            if base is not None:
                disks.qemu_img("rebase", "-u", "-b", str(base.resolve()), "-F", base_format, str(paths.disk))
            else:  # no image to stand on here: a standalone copy of the source's whole chain
                paths.disk.unlink()
                disks.qemu_img("convert", "-O", "qcow2", str(source_disk), str(paths.disk))
        if spec.root_gb:
            _grow(paths.disk, spec.root_gb * GiB)
    if _fetch(data, "eph0", paths.eph0) is not None:
        if spec.ephemeral_gb:
            _grow(paths.eph0, spec.ephemeral_gb * GiB)
    elif spec.ephemeral_gb:
        disks.create_blank(paths.eph0, spec.ephemeral_gb * GiB)
    if spec.swap_mb:
        disks.create_blank(paths.swap, spec.swap_mb << 20)
    if spec.config_drive:
        from .configdrive import write_config_drive

        write_config_drive(spec, paths.config)
    _fetch(data, "console", paths.console)
