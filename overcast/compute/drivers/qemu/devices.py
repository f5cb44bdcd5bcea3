"""Volumes and NICs beyond a guest's own disks: their command line and their hot-plug.

An attached volume is an entry of the spec's ``block_devices`` (the contract's shape)
to which the driver adds ``device`` (``/dev/vdX``, the name it answered) and, when it
was hot-plugged, ``slot`` (its PCI slot). A hot-plugged NIC is a VIF in ``vifs`` with a
``slot``. spec.json holds them, so a stop/start, hard reboot, resize or resume builds
the same devices on the command line.

Hot-plugged devices get an explicit PCI slot counted down from 0x1f: QEMU gives the
devices of a command line the lowest free slots, so the two never meet, and a guest
started again (above all one resumed from its saved memory, whose devices must sit
where they were) finds each device where it was plugged.

QEMU names: a volume's block node ``vol-<hash>`` and its device ``disk-<hash>``, a NIC's
netdev ``net-<hash>`` and device ``nic-<hash>``; the hash is of the volume or port id, so
the names are short (block node names must stay under 32 characters) and stable.
Plugging is all or nothing: a failed ``device_add`` deletes the backend it added.
Unplugging waits for the guest to let go (``DEVICE_DELETED``) before the backend goes.
"""

from __future__ import annotations

import hashlib
import json
import os
import time

from ..base import InstanceSpec
from . import secrets
from .qmp import QMPError, QMPSession

FIRST_SLOT, LAST_SLOT = 0x10, 0x1F
LETTERS = "abcdefghijklmnopqrstuvwxyz"
#: how long a guest may take to release an unplugged device (ACPI, under TCG)
UNPLUG_SECONDS = 30.0
ASK_AGAIN_SECONDS = 5.0


class DeviceError(Exception):
    """A volume or NIC cannot be used; the message says why."""


def _tag(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def is_root(entry: dict) -> bool:
    return str(entry.get("boot_index")) == "0"


def boot_volume(spec: InstanceSpec) -> dict | None:
    """The block device the guest boots from (boot index 0), if it boots from a volume."""
    return next((entry for entry in spec.block_devices if is_root(entry)), None)


def attached_volumes(spec: InstanceSpec) -> list[dict]:
    return [entry for entry in spec.block_devices if not is_root(entry)]


def volume_file(connection_info: dict) -> tuple[str, str]:
    """(path, qemu format) of a ``file`` volume; DeviceError for what QEMU cannot open here."""
    kind = connection_info.get("driver_volume_type")
    if kind != "file":
        raise DeviceError(f"volumes of type {kind!r} cannot be attached by the qemu driver (only file)")
    data = connection_info.get("data") or {}
    path, fmt = data.get("path") or "", data.get("format") or "raw"
    if fmt not in ("qcow2", "raw"):
        raise DeviceError(f"volume format {fmt!r} is not qcow2 or raw")
    if not os.path.isfile(path):
        raise DeviceError(f"volume file {path or '(none)'} is not on this host")
    return path, fmt


# -- names -------------------------------------------------------------------------------


def volume_ids(entry: dict) -> tuple[str, str]:
    """(block node name, device id) of an attached volume."""
    tag = _tag(str(entry["connection_info"].get("serial") or entry.get("device")))
    return f"vol-{tag}", f"disk-{tag}"


def nic_ids(vif: dict, index: int) -> tuple[str, str | None]:
    """(netdev id, device id) of a VIF; VIFs without a port id keep the old ``net<index>``."""
    if not vif.get("id"):
        return f"net{index}", None
    tag = _tag(str(vif["id"]))
    return f"net-{tag}", f"nic-{tag}"


def used_devices(spec: InstanceSpec) -> set[str]:
    """The ``/dev/vdX`` names taken: the root, ephemeral, swap and every volume."""
    used = {"/dev/vda"}
    extra = int(bool(spec.ephemeral_gb)) + int(bool(spec.swap_mb))
    used.update(f"/dev/vd{LETTERS[1 + n]}" for n in range(extra))
    used.update(entry["device"] for entry in spec.block_devices if entry.get("device"))
    return used


def next_device(spec: InstanceSpec) -> str:
    used = used_devices(spec)
    for letter in LETTERS[1:]:
        if f"/dev/vd{letter}" not in used:
            return f"/dev/vd{letter}"
    raise DeviceError("no free /dev/vdX name is left")


def free_slot(spec: InstanceSpec) -> int:
    used = {entry.get("slot") for entry in [*spec.block_devices, *spec.vifs]}
    for slot in range(LAST_SLOT, FIRST_SLOT - 1, -1):
        if slot not in used:
            return slot
    raise DeviceError("no PCI slot is free for another hot-plugged device")


# -- the command line ------------------------------------------------------------------------


def _volume_backend(entry: dict, node: str) -> dict:
    path, fmt = volume_file(entry["connection_info"])
    backend = {"driver": fmt, "node-name": node, "discard": "unmap",
               "file": {"driver": "file", "filename": path}}
    data = entry["connection_info"].get("data") or {}
    if data.get("encrypted"):
        if fmt != "qcow2" or not secrets.sealed(entry):
            raise DeviceError("the volume is encrypted and its key was not given to this host")
        backend["encrypt"] = {"format": "luks", "key-secret": secrets.secret_id(node)}
    return backend


def _volume_device(entry: dict, node: str, device_id: str) -> dict:
    options = {"driver": "virtio-blk-pci", "drive": node, "id": device_id}
    serial = entry["connection_info"].get("serial")
    if serial:
        options["serial"] = str(serial)[:20]  # virtio-blk carries 20 bytes of serial
    if entry.get("slot") is not None:
        options["addr"] = hex(entry["slot"])
    return options


def _keyval(options: dict) -> str:
    """``-device`` options: the driver first, bare, as QEMU's help writes them."""
    rest = {key: value for key, value in options.items() if key != "driver"}
    return ",".join([options["driver"], *(f"{key}={value}" for key, value in rest.items())])


def volume_args(entry: dict) -> list[str]:
    node, device_id = volume_ids(entry)
    secret = secrets.volume_object(entry, node)
    return [*(secrets.object_arg(secret) if secret else []), "-blockdev", json.dumps(_volume_backend(entry, node)),
            "-device", _keyval(_volume_device(entry, node, device_id))]


def _nic_device(vif: dict, netdev: str, device_id: str | None) -> dict:
    # no option ROM: guests never boot from the network here, and iPXE costs boot time and memory
    options = {"driver": "virtio-net-pci", "netdev": netdev, "mac": vif["mac"], "romfile": ""}
    if device_id:
        options["id"] = device_id
    if vif.get("mtu"):
        options["host_mtu"] = int(vif["mtu"])
    if vif.get("slot") is not None:
        options["addr"] = hex(vif["slot"])
    return options


def nic_args(vif: dict, index: int) -> list[str]:
    netdev, device_id = nic_ids(vif, index)
    return ["-netdev", f"tap,id={netdev},ifname={vif['devname']},script=no,downscript=no",
            "-device", _keyval(_nic_device(vif, netdev, device_id))]


# -- hot-plug --------------------------------------------------------------------------------


def _plug(qmp_path: str, backend: tuple[str, dict], device: dict, undo: tuple[str, dict]) -> None:
    with QMPSession(qmp_path) as session:
        session.execute(backend[0], **backend[1])
        try:
            session.execute("device_add", **device)
        except QMPError:
            try:
                session.execute(undo[0], **undo[1])
            except QMPError:
                pass
            raise


def plug_volume(qmp_path: str, entry: dict, instance_dir=None) -> None:
    node, device_id = volume_ids(entry)
    secret = secrets.volume_object(entry, node)
    if secret is not None:
        with QMPSession(qmp_path) as session:
            try:
                session.execute("object-add", **secrets.master_object(instance_dir))
            except QMPError as error:
                if "already" not in str(error).lower() and "duplicate" not in str(error).lower():
                    raise
            try:
                session.execute("object-add", **secret)
            except QMPError as error:
                if "already" not in str(error).lower() and "duplicate" not in str(error).lower():
                    raise
    try:
        _plug_volume(qmp_path, entry, node, device_id)
    except QMPError:
        if secret is not None:
            _drop_secret(qmp_path, node)
        raise


def _drop_secret(qmp_path: str, node: str) -> None:
    try:
        with QMPSession(qmp_path) as session:
            session.execute("object-del", id=secrets.secret_id(node))
    except QMPError:
        pass


def _plug_volume(qmp_path: str, entry: dict, node: str, device_id: str) -> None:
    _plug(qmp_path, ("blockdev-add", _volume_backend(entry, node)), _volume_device(entry, node, device_id),
          ("blockdev-del", {"node-name": node}))


def plug_nic(qmp_path: str, vif: dict) -> None:
    netdev, device_id = nic_ids(vif, 0)
    backend = {"type": "tap", "id": netdev, "ifname": vif["devname"], "script": "no", "downscript": "no"}
    _plug(qmp_path, ("netdev_add", backend), _nic_device(vif, netdev, device_id), ("netdev_del", {"id": netdev}))


def _gone(error: QMPError) -> bool:
    return "not found" in str(error).lower()


def _unplug(qmp_path: str, device_id: str | None, backend: tuple[str, dict], timeout: float) -> None:
    """device_del, wait for the guest to let go, then delete the backend. A device
    already gone counts as unplugged (an earlier unplug finished late)."""
    with QMPSession(qmp_path) as session:
        deadline = time.monotonic() + timeout
        waiting = device_id is not None
        while waiting:
            try:  # asked again now and then: a guest still booting misses the request
                session.execute("device_del", id=device_id)
            except QMPError as error:
                if _gone(error):
                    break
                if "in the process of unplug" not in str(error):
                    raise
            ask_again = min(deadline, time.monotonic() + ASK_AGAIN_SECONDS)
            while waiting and time.monotonic() < ask_again:
                event = session.wait_event("DEVICE_DELETED", max(0.0, ask_again - time.monotonic()))
                waiting = event is None or (event.get("data") or {}).get("device") != device_id
            if waiting and time.monotonic() >= deadline:
                raise DeviceError(f"the guest did not release {device_id} within {timeout:.0f} s")
        try:
            session.execute(backend[0], **backend[1])
        except QMPError as error:
            if not _gone(error):
                raise


def unplug_volume(qmp_path: str, entry: dict, timeout: float = UNPLUG_SECONDS) -> None:
    node, device_id = volume_ids(entry)
    _unplug(qmp_path, device_id, ("blockdev-del", {"node-name": node}), timeout)
    if secrets.sealed(entry):
        _drop_secret(qmp_path, node)


def unplug_nic(qmp_path: str, vif: dict, index: int, timeout: float = UNPLUG_SECONDS) -> None:
    netdev, device_id = nic_ids(vif, index)
    _unplug(qmp_path, device_id, ("netdev_del", {"id": netdev}), timeout)
