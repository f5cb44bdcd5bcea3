"""Rebuild in place: the same instance (UUID, directory, NICs, attached volumes, console
log) with a fresh root disk from the new image, as Nova's rebuild keeps the instance.

The guest is shut down (ACPI, then forced after the timeout), a new overlay of the new
image is made beside the old one and only then replaces it, so a rebuild that fails
(the image cannot be had, the flavor's disk is too small) leaves the instance SHUTDOWN
on its old disk and spec, and a hard reboot starts it again. Ephemeral and swap disks
come back blank and the config drive is written again from the new spec (metadata, user
data, key), as Nova's libvirt driver recreates the instance's local disks. A guest booted
from a volume keeps the volume as its root disk (reimaged by the agent before, while the
guest was off, on a 2.93 rebuild). Whatever a
rescue, a suspend or an unconfirmed resize left is dropped. The driver holds the
instance's lock.
"""

from __future__ import annotations

import dataclasses
import os

from ..base import InstanceSpec, merge_block_devices
from . import devices, disks, resize
from .guest import Guest
from .hotplug import save_spec

MiB = 1 << 20


def merged(old: InstanceSpec, new: InstanceSpec) -> InstanceSpec:
    """``new`` with what the instance keeps: its volumes (they stay attached; the agent's
    spec names only a reimaged root volume's new connection) and its NICs' PCI slots
    (hot-plugged ones keep theirs)."""
    kept = {vif.get("id"): vif for vif in old.vifs}
    vifs = [{**kept.get(vif.get("id"), {}), **vif} for vif in new.vifs]
    return dataclasses.replace(new, block_devices=merge_block_devices(old.block_devices, new.block_devices),
                               vifs=vifs)


def rebuild_in_place(guest: Guest, images: disks.ImageCache, spec: InstanceSpec, stop_timeout: float) -> None:
    """Rebuild ``guest`` from ``spec`` and start it; raises DiskError or ProcessError."""
    paths = guest.paths
    new = merged(guest.spec(), spec)
    guest.stop(stop_timeout)
    paths.saved.unlink(missing_ok=True)
    resize.drop(guest)
    if devices.boot_volume(new) is None:
        if new.image is None:
            raise disks.DiskError("no image and no boot volume to boot from")
        new = dataclasses.replace(new, image=images.boot_image(new.image))
        base, base_format, virtual_size = images.get(new.image)
        fresh = paths.dir / "disk.qcow2.new"
        fresh.unlink(missing_ok=True)
        try:
            disks.create_overlay(base, base_format, virtual_size, fresh, new.root_gb)
        except disks.DiskError:
            fresh.unlink(missing_ok=True)
            raise
        os.replace(fresh, paths.disk)
    for path in (paths.eph0, paths.swap, paths.config, paths.rescue_disk, paths.rescue_marker):
        path.unlink(missing_ok=True)
    if new.ephemeral_gb:
        disks.create_blank(paths.eph0, new.ephemeral_gb << 30)
    if new.swap_mb:
        disks.create_blank(paths.swap, new.swap_mb * MiB)
    if new.config_drive:
        from .configdrive import write_config_drive

        write_config_drive(new, paths.config)
    save_spec(guest, new)
    guest.start(new)
