"""Resize on one host: keep the old disks and spec aside, grow the disks, and later drop
them (confirm) or put them back (revert).

While a resize is pending the instance directory holds ``spec.old.json``,
``disk.qcow2.old`` (and ``disk.eph0.old``) and ``resize.json`` with the power state to go
back to; the host counts both flavors until then, as nova keeps both claims.
"""

from __future__ import annotations

import json
import os
import shutil

from ..base import InstanceSpec
from . import disks
from .guest import Guest
from .layout import spec_from_json, write_spec

GiB = 1 << 30


def pending(guest: Guest) -> bool:
    return guest.paths.resize_marker.exists()


def old_spec(guest: Guest) -> InstanceSpec | None:
    try:
        return spec_from_json(guest.paths.old_spec.read_text())
    except FileNotFoundError:
        return None


def keep_and_grow(guest: Guest, old: InstanceSpec, new: InstanceSpec, power_state: int) -> None:
    """The guest is stopped: set the old disks and spec aside, grow the disks, write the
    new spec. Undoes itself on failure."""
    paths = guest.paths
    if paths.disk.exists():  # a guest booted from a volume has no root disk of its own
        shutil.copyfile(paths.disk, paths.old_disk)
    if paths.eph0.exists():
        shutil.copyfile(paths.eph0, paths.old_eph0)
    shutil.copy(paths.spec, paths.old_spec)  # its mode too: owner only
    paths.resize_marker.write_text(json.dumps({"power_state": power_state}))
    try:
        if new.root_gb > old.root_gb and paths.disk.exists():
            disks.qemu_img("resize", "-q", str(paths.disk), str(new.root_gb * GiB))
        if new.ephemeral_gb and not paths.eph0.exists():
            disks.create_blank(paths.eph0, new.ephemeral_gb * GiB)
        elif new.ephemeral_gb > old.ephemeral_gb:
            disks.qemu_img("resize", "-q", str(paths.eph0), str(new.ephemeral_gb * GiB))
        if new.swap_mb != old.swap_mb:
            paths.swap.unlink(missing_ok=True)
            if new.swap_mb:
                disks.create_blank(paths.swap, new.swap_mb << 20)
        write_spec(paths.spec, new)
    except Exception:
        restore(guest)
        raise


def drop(guest: Guest) -> None:
    for path in (guest.paths.old_disk, guest.paths.old_eph0, guest.paths.old_spec, guest.paths.resize_marker):
        path.unlink(missing_ok=True)


def restore(guest: Guest) -> int:
    """Put the old disks and spec back; the power state to return to."""
    paths = guest.paths
    state = json.loads(paths.resize_marker.read_text())["power_state"]
    old = spec_from_json(paths.old_spec.read_text())
    if paths.old_disk.exists():
        os.replace(paths.old_disk, paths.disk)
    if paths.old_eph0.exists():
        os.replace(paths.old_eph0, paths.eph0)
    elif not old.ephemeral_gb:
        paths.eph0.unlink(missing_ok=True)
    paths.swap.unlink(missing_ok=True)
    if old.swap_mb:
        disks.create_blank(paths.swap, old.swap_mb << 20)
    os.replace(paths.old_spec, paths.spec)
    paths.resize_marker.unlink(missing_ok=True)
    return state
