"""Attach and detach volumes and NICs, on a running guest and on a stopped one.

A running guest gets the device over QMP (``devices``) and keeps it in spec.json; a
stopped guest only has its spec.json changed, and the device is on the command line when
it starts. The spec is written after the plug succeeded and after the unplug finished, so
spec.json never names a device the guest lacks for longer than an operation takes (and
a failed plug has undone itself). A paused guest runs for as long as it takes to release
a device (``_awake``), then is paused again. The driver holds the instance's lock around
each call.
"""

from __future__ import annotations

import contextlib
import dataclasses

from overcast.compute import power_state as ps

from ..base import InstanceSpec
from ..errors import DeviceBusy, HypervisorError, InstanceInvalidState
from . import devices, disks, secrets
from .guest import Guest
from .layout import write_spec
from .qmp import QMPError, QMPSession


def save_spec(guest: Guest, spec: InstanceSpec) -> None:
    write_spec(guest.paths.spec, spec)


def settle(spec: InstanceSpec, instance_dir) -> InstanceSpec:
    """The spec of a new guest with a device name on every block device (the boot volume
    is ``/dev/vda``) and each encrypted volume's passphrase sealed with the master key in
    ``instance_dir``; raises DiskError for a volume QEMU cannot open here."""
    settled: list[dict] = []
    for entry in spec.block_devices:
        info = secrets.seal(instance_dir, entry.get("connection_info") or {})
        try:
            devices.check_volume(info)
        except devices.DeviceError as error:
            raise disks.DiskError(str(error)) from error
        name = "/dev/vda" if devices.is_root(entry) else entry.get("device")
        if not name:
            name = devices.next_device(dataclasses.replace(spec, block_devices=settled))
        settled.append({**entry, "connection_info": info, "device": name})
    return dataclasses.replace(spec, block_devices=settled)


def _running(guest: Guest, action: str) -> bool:
    """True when QEMU runs (hot-plug), False when stopped (spec only); a suspended guest
    is refused, as its saved devices are fixed."""
    state = guest.power()
    if state == ps.SUSPENDED:
        raise InstanceInvalidState(uuid=guest.uuid, state=ps.name(state), action=action)
    return guest.pid() is not None


@contextlib.contextmanager
def _awake(guest: Guest):
    """Let a paused guest run while the body unplugs a device, and pause it again after.

    Unplugging is a request the guest OS answers (ACPI hot-unplug): a paused guest never
    answers, so the volume would stay attached and in-use (Nova's libvirt driver times out
    the same way). The guest runs only until it has released the device, then stops where
    it was; its clock and anything it did meanwhile are what a user unpausing it sees."""
    paused = guest.power() == ps.PAUSED
    if paused:
        guest.qmp("cont")
    try:
        yield
    finally:
        if paused:
            guest.qmp("stop")


def _failed(guest: Guest, what: str, error: Exception) -> HypervisorError:
    return HypervisorError(uuid=guest.uuid, reason=f"{what}: {error}")


# -- volumes ------------------------------------------------------------------------------------


def attach(guest: Guest, connection_info: dict, device: str | None) -> str:
    spec = guest.spec()
    serial = connection_info.get("serial")
    if serial is not None and any(e["connection_info"].get("serial") == serial for e in spec.block_devices):
        raise DeviceBusy(uuid=guest.uuid, device=f"volume {serial}")
    if device is not None and device in devices.used_devices(spec):
        raise DeviceBusy(uuid=guest.uuid, device=device)
    running = _running(guest, "attach_volume")
    connection_info = secrets.seal(guest.paths.dir, connection_info)  # no plaintext key in spec.json
    try:
        devices.check_volume(connection_info)
        entry = {"connection_info": connection_info, "device": device or devices.next_device(spec),
                 "boot_index": None, "slot": devices.free_slot(spec)}
        if running:
            devices.plug_volume(str(guest.paths.qmp), entry, guest.paths.dir)
    except (devices.DeviceError, QMPError) as error:
        raise _failed(guest, "attaching the volume failed", error) from error
    save_spec(guest, dataclasses.replace(spec, block_devices=[*spec.block_devices, entry]))
    return entry["device"]


def detach(guest: Guest, connection_info: dict, device: str | None, timeout: float) -> None:
    spec = guest.spec()
    serial = connection_info.get("serial")
    found = [e for e in spec.block_devices
             if (serial is not None and e["connection_info"].get("serial") == serial)
             or (serial is None and device is not None and e.get("device") == device)]
    if not found:
        return
    entry = found[0]
    if devices.is_root(entry):
        raise InstanceInvalidState(uuid=guest.uuid, state=ps.name(guest.power()), action="detach the root volume")
    if _running(guest, "detach_volume"):
        try:
            with _awake(guest):
                devices.unplug_volume(str(guest.paths.qmp), entry, timeout)
        except (devices.DeviceError, QMPError) as error:
            raise _failed(guest, "detaching the volume failed", error) from error
    save_spec(guest, dataclasses.replace(spec, block_devices=[e for e in spec.block_devices if e is not entry]))
    devices.forget_secret(entry, guest.paths.dir)


def extend(guest: Guest, volume_id: str, size: int) -> None:
    """The attached volume ``volume_id`` now holds ``size`` bytes: a running guest is told
    (QMP ``block_resize``; the guest's virtio disk sees the new capacity at once). A
    stopped guest sees it when it starts; a qcow2 file the volume service could not grow
    while QEMU held it is grown here. Not attached: nothing to do."""
    spec = guest.spec()
    entry = next((e for e in spec.block_devices if e["connection_info"].get("serial") == volume_id), None)
    if entry is None:
        return
    running = guest.pid() is not None
    try:
        if running and devices.is_root(entry):
            # a -drive root is the block backend ``root``; an iSCSI, rbd or LUKS one the node ``root``
            target = {"node-name": "root"} if devices.opened_as_blockdev(entry) else {"device": "root"}
            with QMPSession(str(guest.paths.qmp)) as session:
                session.execute("block_resize", size=int(size), **target)
        elif running:
            devices.resize_volume(str(guest.paths.qmp), entry, size)
        elif entry["connection_info"].get("driver_volume_type") == "file":
            path, fmt = devices.volume_file(entry["connection_info"])
            disks.grow(path, fmt, size)
    except (devices.DeviceError, QMPError, disks.DiskError) as error:
        raise _failed(guest, "extending the volume failed", error) from error


# -- NICs -----------------------------------------------------------------------------------------


def attach_nic(guest: Guest, vif: dict) -> None:
    spec = guest.spec()
    if any(v.get("id") == vif.get("id") for v in spec.vifs):
        raise DeviceBusy(uuid=guest.uuid, device=f"port {vif.get('id')}")
    running = _running(guest, "attach_interface")
    from .process import tap_exists

    try:
        entry = {**vif, "slot": devices.free_slot(spec)}
        if not vif.get("id") or not vif.get("mac"):
            raise devices.DeviceError("the VIF has no port id or MAC")
        if not tap_exists(vif.get("devname", "")):
            raise devices.DeviceError(f"tap {vif.get('devname')} does not exist (the network agent plugs it)")
        if running:
            devices.plug_nic(str(guest.paths.qmp), entry)
    except (devices.DeviceError, QMPError) as error:
        raise _failed(guest, "attaching the interface failed", error) from error
    save_spec(guest, dataclasses.replace(spec, vifs=[*spec.vifs, entry]))


def detach_nic(guest: Guest, vif: dict, timeout: float) -> None:
    spec = guest.spec()
    index = next((n for n, v in enumerate(spec.vifs) if v.get("id") and v.get("id") == vif.get("id")), None)
    if index is None:
        return
    if _running(guest, "detach_interface"):
        try:
            with _awake(guest):
                devices.unplug_nic(str(guest.paths.qmp), spec.vifs[index], index, timeout)
        except (devices.DeviceError, QMPError) as error:
            raise _failed(guest, "detaching the interface failed", error) from error
    save_spec(guest, dataclasses.replace(spec, vifs=[v for n, v in enumerate(spec.vifs) if n != index]))
