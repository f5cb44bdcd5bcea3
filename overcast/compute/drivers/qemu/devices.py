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

Volumes come as ``file`` (QEMU opens the path), ``iscsi`` (QEMU's own initiator, libiscsi,
logs in to the target: nothing on the host is involved) or ``rbd`` connection info (QEMU's
rbd driver; see ``rbd``). An iSCSI volume's CHAP password or an rbd volume's Ceph key
reaches QEMU as a ``secret`` object (``sec-<hash>``): from a file of mode 0600 in the
instance directory on the command line (removed once QEMU has read it), in a QMP
``object-add`` when hot-plugged; never on a command line or in a log. QoS specs in the
connection info (``data.qos_specs``, Cinder's keys) become the device's I/O throttle
(``block_set_io_throttle``, shown by ``query-block``), set when it is plugged and after
QEMU starts.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

from ..base import InstanceSpec
from . import rbd, secrets
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
        raise DeviceError(f"volumes of type {kind!r} cannot be opened as a file by the qemu driver")
    data = connection_info.get("data") or {}
    path, fmt = data.get("path") or "", data.get("format") or "raw"
    if fmt not in ("qcow2", "raw"):
        raise DeviceError(f"volume format {fmt!r} is not qcow2 or raw")
    if not os.path.isfile(path):
        raise DeviceError(f"volume file {path or '(none)'} is not on this host")
    return path, fmt


def iscsi_target(connection_info: dict) -> dict:
    """The ``iscsi`` blockdev options of an iSCSI volume (no secret yet); DeviceError when
    the connection info lacks what QEMU's initiator needs."""
    data = connection_info.get("data") or {}
    portal, iqn, lun = data.get("target_portal"), data.get("target_iqn"), data.get("target_lun")
    if not portal or not iqn or lun is None:
        raise DeviceError("iSCSI connection info needs target_portal, target_iqn and target_lun")
    options = {"driver": "iscsi", "transport": "tcp", "portal": str(portal), "target": str(iqn), "lun": int(lun)}
    method = str(data.get("auth_method") or "").upper()
    if method not in ("", "NONE", "CHAP"):
        raise DeviceError(f"iSCSI auth method {data.get('auth_method')!r} is not CHAP")
    if method == "CHAP":
        if not data.get("auth_username") or not data.get("auth_password"):
            raise DeviceError("iSCSI CHAP needs auth_username and auth_password")
        options["user"] = str(data["auth_username"])
    return options


def check_volume(connection_info: dict) -> None:
    """DeviceError unless the qemu driver can open this volume on this host."""
    kind = connection_info.get("driver_volume_type")
    if kind == "iscsi":
        iscsi_target(connection_info)
    elif kind == "file":
        volume_file(connection_info)
    elif rbd.is_rbd(connection_info):
        try:
            rbd.check(connection_info)  # its key is on this host
        except ValueError as error:
            raise DeviceError(str(error)) from error
    else:
        raise DeviceError(f"volumes of type {kind!r} cannot be attached by the qemu driver (only file, iscsi and rbd)")


def chap_password(entry: dict) -> str | None:
    info = entry["connection_info"]
    if info.get("driver_volume_type") != "iscsi":
        return None
    data = info.get("data") or {}
    return data.get("auth_password") if str(data.get("auth_method") or "").upper() == "CHAP" else None


def volume_secret(entry: dict) -> dict | None:
    """The ``secret`` object's data and format a volume needs (an iSCSI CHAP password, an
    rbd volume's Ceph key), or None."""
    password = chap_password(entry)
    if password is not None:
        return {"data": password, "format": "raw"}
    if rbd.is_rbd(entry["connection_info"]):
        try:
            key = rbd.find_key(entry["connection_info"])
        except ValueError as error:
            raise DeviceError(str(error)) from error
        return {"data": key, "format": "base64"} if key else None
    return None


# -- names -------------------------------------------------------------------------------


def volume_ids(entry: dict) -> tuple[str, str]:
    """(block node name, device id) of an attached volume."""
    tag = _tag(str(entry["connection_info"].get("serial") or entry.get("device")))
    return f"vol-{tag}", f"disk-{tag}"


def secret_id(entry: dict) -> str:
    return secret_for(volume_ids(entry)[0])


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


def secret_for(node: str) -> str:
    """The secret object of block node ``node`` (``vol-<hash>`` -> ``sec-<hash>``, the
    boot volume's ``root`` -> ``sec-root-auth``: ``sec-root`` is its LUKS key's, see secrets)."""
    return "sec-" + (node.partition("-")[2] or f"{node}-auth")


def _volume_backend(entry: dict, node: str) -> dict:
    info = entry["connection_info"]
    if info.get("driver_volume_type") == "iscsi":
        target = iscsi_target(info)
        if "user" in target:
            target["password-secret"] = secret_for(node)
        return {"driver": "raw", "node-name": node, "file": target}
    if rbd.is_rbd(info):
        try:
            return rbd.block_node(info, node, secret_for(node))
        except ValueError as error:
            raise DeviceError(str(error)) from error
    path, fmt = volume_file(info)
    backend = {"driver": fmt, "node-name": node, "discard": "unmap",
               "file": {"driver": "file", "filename": path}}
    if (info.get("data") or {}).get("encrypted"):  # LUKS: the sealed key object (see secrets)
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


def _secret_args(entry: dict, node: str, directory) -> list[str]:
    """``-object secret`` reading the volume's secret from a file of mode 0600 in
    ``directory`` (the instance directory; process.start removes it once QEMU has read it)."""
    secret = volume_secret(entry)
    if secret is None:
        return []
    if directory is None:
        raise DeviceError("a volume with a secret (CHAP, Ceph key) needs the instance directory")
    sid = secret_for(node)
    path = Path(directory) / f"{sid}.key"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(secret["data"])
    return ["-object", f"secret,id={sid},file={path},format={secret['format']}"]


def _backend_args(entry: dict, node: str, directory) -> list[str]:
    """The volume's secrets (CHAP password or Ceph key, sealed LUKS key) and block node."""
    sealed = secrets.volume_object(entry, node)
    return [*_secret_args(entry, node, directory), *(secrets.object_arg(sealed) if sealed else []),
            "-blockdev", json.dumps(_volume_backend(entry, node))]


def volume_args(entry: dict, directory=None) -> list[str]:
    """The volume's command line, its secret (if any) written into ``directory``."""
    node, device_id = volume_ids(entry)
    return [*_backend_args(entry, node, directory), "-device", _keyval(_volume_device(entry, node, device_id))]


def forget_secret(entry: dict, directory) -> None:
    (Path(directory) / f"{secret_id(entry)}.key").unlink(missing_ok=True)


# -- QoS: Cinder's front-end keys -> block_set_io_throttle arguments ----------------------------

#: Cinder/Nova key -> block_set_io_throttle argument (QEMU's names)
THROTTLE_KEYS = {
    "total_bytes_sec": "bps", "read_bytes_sec": "bps_rd", "write_bytes_sec": "bps_wr",
    "total_iops_sec": "iops", "read_iops_sec": "iops_rd", "write_iops_sec": "iops_wr",
    "total_bytes_sec_max": "bps_max", "read_bytes_sec_max": "bps_rd_max", "write_bytes_sec_max": "bps_wr_max",
    "total_iops_sec_max": "iops_max", "read_iops_sec_max": "iops_rd_max", "write_iops_sec_max": "iops_wr_max",
    "total_bytes_sec_max_length": "bps_max_length", "read_bytes_sec_max_length": "bps_rd_max_length",
    "write_bytes_sec_max_length": "bps_wr_max_length", "total_iops_sec_max_length": "iops_max_length",
    "read_iops_sec_max_length": "iops_rd_max_length", "write_iops_sec_max_length": "iops_wr_max_length",
    "size_iops_sec": "iops_size",
}
#: block_set_io_throttle requires these six (0: no limit)
THROTTLE_REQUIRED = ("bps", "bps_rd", "bps_wr", "iops", "iops_rd", "iops_wr")


def throttle(entry: dict) -> dict | None:
    """block_set_io_throttle arguments (without the device) for the entry's QoS specs, or
    None when it has none the qemu driver applies. Unknown keys are ignored, as Nova's
    libvirt driver ignores them; a value that is not a whole number is a DeviceError."""
    specs = (entry["connection_info"].get("data") or {}).get("qos_specs") or {}
    limits = {}
    for key, value in specs.items():
        if key in THROTTLE_KEYS:
            try:
                limits[THROTTLE_KEYS[key]] = int(value)
            except (TypeError, ValueError):
                raise DeviceError(f"QoS spec {key} must be a whole number, not {value!r}") from None
    if not any(limits.values()):
        return None
    for total, read, write in (("bps", "bps_rd", "bps_wr"), ("iops", "iops_rd", "iops_wr")):
        if limits.get(total) and (limits.get(read) or limits.get(write)):
            raise DeviceError(f"QoS specs cannot limit both total and read/write {'bytes' if total == 'bps' else 'iops'}"
                              " per second")
    return {**{key: 0 for key in THROTTLE_REQUIRED}, **limits}


def set_throttle(session: QMPSession, entry: dict) -> None:
    limits = throttle(entry)
    if limits is not None:
        # the block backend hangs off the virtio device inside the PCI proxy that has the id
        session.execute("block_set_io_throttle", id=f"/machine/peripheral/{volume_ids(entry)[1]}/virtio-backend",
                        **limits)


def apply_throttles(qmp_path: str, spec: InstanceSpec) -> None:
    """After QEMU started: each attached volume's QoS limits."""
    entries = [entry for entry in attached_volumes(spec) if throttle(entry) is not None]
    if entries:
        with QMPSession(qmp_path) as session:
            for entry in entries:
                set_throttle(session, entry)


def opened_as_blockdev(entry: dict) -> bool:
    """Whether QEMU opens this boot volume as a ``-blockdev`` node (iSCSI, rbd, LUKS:
    each needs options or a secret a ``-drive`` file cannot carry) rather than a plain file."""
    info = entry["connection_info"]
    return info.get("driver_volume_type") != "file" or bool((info.get("data") or {}).get("encrypted"))


def root_volume_args(entry: dict, directory, node: str, bootindex: bool) -> list[str]:
    """A guest's root disk on an iSCSI, rbd or encrypted boot volume: its secrets, block
    node ``node`` and its device (the guest's first disk, ``/dev/vda``)."""
    device = "virtio-blk-pci,drive=" + node + (",bootindex=0" if bootindex else "")
    return [*_backend_args(entry, node, directory), "-device", device]


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
    """secret (iSCSI CHAP, Ceph key, a LUKS volume's sealed key), blockdev-add, device_add,
    throttle: all of it or nothing."""
    node, device_id = volume_ids(entry)
    throttle(entry)  # a bad QoS value fails before anything is plugged
    secret = volume_secret(entry)
    sealed = secrets.volume_object(entry, node)
    with QMPSession(qmp_path) as session:
        undo: list[tuple[str, dict]] = []
        try:
            if secret is not None:
                try:
                    session.execute("object-del", id=secret_id(entry))  # left by an earlier plug that failed midway
                except QMPError:
                    pass
                session.execute("object-add", **{"qom-type": "secret", "id": secret_id(entry), **secret})
                undo.append(("object-del", {"id": secret_id(entry)}))
            if sealed is not None:
                for obj in (secrets.master_object(instance_dir), sealed):  # the master key stays for the guest's life
                    try:
                        session.execute("object-add", **obj)
                    except QMPError as error:
                        if "already" not in str(error).lower() and "duplicate" not in str(error).lower():
                            raise
                undo.append(("object-del", {"id": sealed["id"]}))
            session.execute("blockdev-add", **_volume_backend(entry, node))
            undo.append(("blockdev-del", {"node-name": node}))
            session.execute("device_add", **_volume_device(entry, node, device_id))
            undo.append(("device_del", {"id": device_id}))
            set_throttle(session, entry)
        except QMPError:
            for command, arguments in reversed(undo):
                try:
                    session.execute(command, **arguments)
                except QMPError:
                    pass
            raise


def resize_volume(qmp_path: str, entry: dict, size: int) -> None:
    """Tell QEMU (and so the guest) that the volume now holds ``size`` bytes: a qcow2
    file is grown by QEMU itself, a raw file or an iSCSI LUN must be that large already."""
    with QMPSession(qmp_path) as session:
        session.execute("block_resize", **{"node-name": volume_ids(entry)[0], "size": int(size)})


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
    ids = [secret_id(entry)] if chap_password(entry) is not None or rbd.is_rbd(entry["connection_info"]) else []
    ids += [secrets.secret_id(node)] if secrets.sealed(entry) else []
    for sid in ids:
        with QMPSession(qmp_path) as session:
            try:
                session.execute("object-del", id=sid)
            except QMPError as error:
                if not _gone(error):
                    raise


def unplug_nic(qmp_path: str, vif: dict, index: int, timeout: float = UNPLUG_SECONDS) -> None:
    netdev, device_id = nic_ids(vif, index)
    _unplug(qmp_path, device_id, ("netdev_del", {"id": netdev}), timeout)
