"""Cold migration between two hosts' state directories: the source hands its stopped
guest's disks over, the destination builds the guest from copies of them.

``hand_over`` (source) marks the instance ``migrated.json`` (the destination host and
the power state to go back to) and returns the migrate data: where each file is, its
size and SHA-256, and the source's host, machine id and transport setting (``remote``).
The destination picks the transport (``remote.decide``): ``local`` reads the source's
files by path (two state directories on one machine, or a shared filesystem); ``tcp``
pulls them from the source agent in pieces over the bus and checks each against its
size and digest (``remote.pull``). Either way ``take_over`` only sees a ``copy(name,
target)``.

``take_over`` (destination) copies the root overlay and the ephemeral disk, points the
overlay at the image in this host's own cache (the base image is fetched here like for
a boot; an overlay needs its base on the same host) with an unsafe rebase, which is
right because both caches hold the same image bytes, and grows the disks to the (maybe
new) flavor as a resize does. Swap is made blank (Nova does not copy it either), the
config drive is written again from the spec, and the console log comes along. Volumes
(a boot volume too) are opened again by their connection info from the source's spec
(``take_volumes``): a file volume at the same path, an iSCSI or rbd one from any host
that reaches its target; an encrypted one only where the source's master key can be read
(``secrets.adopt``). When the
image cannot be had any more (deleted from the image service), the overlay is flattened
from the source's chain instead, which needs the source's cache readable (``local``
only; over ``tcp`` the move fails and leaves nothing here).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
from pathlib import Path
from typing import Callable

from ..base import InstanceSpec
from . import disks, remote, secrets
from .guest import Guest

GiB = 1 << 30
log = logging.getLogger("overcast.compute.qemu")
FILES = ("disk", "eph0", "console")


def pending(guest: Guest) -> bool:
    return (guest.paths.dir / "migrated.json").exists()


def hand_over(guest: Guest, dest_host: str, power_state: int, offer: dict) -> dict:
    """The guest is stopped: mark it moved and say where its files are (and what they
    hold, for a copy over the network); ``offer`` is ``remote.offer`` of this host."""
    (guest.paths.dir / "migrated.json").write_text(json.dumps({"dest": dest_host, "power_state": power_state}))
    paths = {name: getattr(guest.paths, name) for name in FILES if getattr(guest.paths, name).exists()}
    return {"transport": "local", "files": {name: str(path) for name, path in paths.items()},
            "sums": remote.file_sums(paths), "power_state": power_state, **moved_volumes(guest), **offer}


def moved_volumes(guest: Guest) -> dict:
    """The guest's volumes (its boot volume too) as the destination must open them, and
    where the source's instance directory is (for the key of an encrypted one)."""
    return {"block_devices": guest.spec().block_devices, "instance_dir": str(guest.paths.dir)}


def take_volumes(guest: Guest, spec: InstanceSpec, data: dict | None, local: bool) -> InstanceSpec:
    """Destination: ``spec`` with the source's volumes (``moved_volumes``; the agent's spec
    does not carry their connections) and, for encrypted ones, the master key they are
    sealed with; DiskError when a key cannot be had here."""
    data = data or {}
    block_devices = list(data.get("block_devices") or spec.block_devices)
    try:
        secrets.adopt(guest.paths.dir, block_devices, data.get("instance_dir"), local)
    except ValueError as error:
        raise disks.DiskError(str(error)) from error
    return dataclasses.replace(spec, block_devices=block_devices)


def readable(guest: Guest, name: str) -> Path:
    """Source: the file ``name`` a destination may pull: the disks only while a cold
    migration is pending, the console log always (live migration carries it too)."""
    if name not in FILES or (name != "console" and not pending(guest)):
        raise disks.DiskError(f"{name} of {guest.uuid} is not being handed over")
    return getattr(guest.paths, name)


def forget(guest: Guest) -> None:
    (guest.paths.dir / "migrated.json").unlink(missing_ok=True)


#: ``copy(name, target)``: the source's file ``name`` copied to ``target``; its path at
#: the source (None when it has no such file)
Copy = Callable[[str, Path], "Path | None"]


def local_copy(data: dict) -> Copy:
    def copy(name: str, target: Path) -> Path | None:
        source = (data.get("files") or {}).get(name)
        if not source:
            return None
        if not Path(source).is_file():
            raise disks.DiskError(f"the source's {name} ({source}) cannot be read from this host")
        shutil.copyfile(source, target)
        return Path(source)

    return copy


def pulled_copy(data: dict, uuid: str, reader: remote.PeerReader | None) -> Copy:
    """Files pulled from the source agent, checked against the sums it sent."""
    if reader is None:
        raise disks.DiskError("this host cannot pull files from another host (no peer reader)")
    sums = data.get("sums") or {}

    def copy(name: str, target: Path) -> Path | None:
        if name not in sums:
            return None
        try:
            remote.pull(reader, data["host"], uuid, name, sums[name], target)
        except remote.TransferError as error:
            raise disks.DiskError(str(error)) from error
        log.info("pulled %s of %s from %s over the bus (%d bytes, SHA-256 checked)", name, uuid, data["host"],
                 sums[name]["size"])
        return None

    return copy


def _grow(path: Path, size: int) -> None:
    if size > int(disks.info(path)["virtual-size"]):
        disks.qemu_img("resize", "-q", str(path), str(size))


def take_over(images: disks.ImageCache, guest: Guest, spec: InstanceSpec, copy: Copy, local: bool) -> None:
    """Build the instance directory for ``spec`` from the source's files (see above)."""
    paths = guest.paths
    source_disk = copy("disk", paths.disk)
    if paths.disk.exists():
        backing = disks.info(paths.disk).get("backing-filename")
        if backing:
            try:
                base, base_format, _ = images.get(spec.image) if spec.image else (None, None, None)
            except disks.DiskError:
                base = None
            if base is not None:
                disks.qemu_img("rebase", "-u", "-b", str(base.resolve()), "-F", base_format, str(paths.disk))
            elif not local or source_disk is None:
                raise disks.DiskError("the image this disk stands on cannot be had here, and the source's "
                                      "copy of it is on another machine")
            else:  # no image to stand on here: a standalone copy of the source's whole chain
                paths.disk.unlink()
                disks.qemu_img("convert", "-O", "qcow2", str(source_disk), str(paths.disk))
        if spec.root_gb:
            _grow(paths.disk, spec.root_gb * GiB)
    copy("eph0", paths.eph0)
    if paths.eph0.exists():
        if spec.ephemeral_gb:
            _grow(paths.eph0, spec.ephemeral_gb * GiB)
    elif spec.ephemeral_gb:
        disks.create_blank(paths.eph0, spec.ephemeral_gb * GiB)
    if spec.swap_mb:
        disks.create_blank(paths.swap, spec.swap_mb << 20)
    if spec.config_drive:
        from .configdrive import write_config_drive

        write_config_drive(spec, paths.config)
    copy("console", paths.console)
