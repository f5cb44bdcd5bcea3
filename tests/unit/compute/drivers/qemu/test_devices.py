"""The qemu driver's volume and NIC naming and command line (no QEMU needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from overcast.compute.drivers.base import ImageRef, InstanceSpec
from overcast.compute.drivers.qemu import devices, process
from overcast.compute.drivers.qemu.layout import InstancePaths


def volume(tmp_path: Path, serial: str, **extra) -> dict:
    path = tmp_path / f"volume-{serial}.qcow2"
    path.write_bytes(b"")
    return {"connection_info": {"driver_volume_type": "file", "serial": serial,
                                "data": {"path": str(path), "format": "qcow2"}}, **extra}


def spec(**changes) -> InstanceSpec:
    values = dict(uuid="u1", name="vm", vcpus=1, memory_mb=128, root_gb=1, image=ImageRef(id="i", path="/i"))
    values.update(changes)
    return InstanceSpec(**values)


def test_device_names_skip_the_root_ephemeral_swap_and_attached_volumes(tmp_path):
    assert devices.next_device(spec()) == "/dev/vdb"
    assert devices.next_device(spec(ephemeral_gb=1, swap_mb=64)) == "/dev/vdd"
    taken = spec(block_devices=[volume(tmp_path, "a", device="/dev/vdb"), volume(tmp_path, "b", device="/dev/vdd")])
    assert devices.next_device(taken) == "/dev/vdc"


def test_hot_plug_slots_count_down_and_run_out():
    vifs = [{"id": f"p{n}", "slot": slot} for n, slot in enumerate(range(0x1F, 0x11, -1))]
    assert devices.free_slot(spec(vifs=vifs)) == 0x11
    vifs.append({"id": "last", "slot": 0x11})
    vifs.append({"id": "really", "slot": 0x10})
    with pytest.raises(devices.DeviceError, match="slot"):
        devices.free_slot(spec(vifs=vifs))


def test_only_file_volumes_that_exist_are_opened(tmp_path):
    with pytest.raises(devices.DeviceError, match="iscsi"):
        devices.volume_file({"driver_volume_type": "iscsi", "data": {}})
    with pytest.raises(devices.DeviceError, match="not on this host"):
        devices.volume_file({"driver_volume_type": "file", "data": {"path": str(tmp_path / "none")}})
    entry = volume(tmp_path, "v")
    assert devices.volume_file(entry["connection_info"]) == (entry["connection_info"]["data"]["path"], "qcow2")


def test_the_command_line_boots_from_a_volume_and_carries_attached_devices(tmp_path):
    paths = InstancePaths(dir=tmp_path / "u1", qmp=tmp_path / "u1.qmp")
    root = volume(tmp_path, "root", device="/dev/vda", boot_index=0)
    data = volume(tmp_path, "data-volume-with-a-long-id", device="/dev/vdb", slot=0x1F)
    nic = {"id": "port-1", "mac": "fa:16:3e:00:00:01", "devname": "tap1", "mtu": 1450, "slot": 0x1E}
    line = process.argv("qemu-system-x86_64", "tcg", spec(image=None, block_devices=[root, data], vifs=[nic]), paths)
    text = " ".join(line)
    assert f"file={root['connection_info']['data']['path']},if=none,id=root,format=qcow2" in text
    assert str(paths.disk) not in text
    node, device_id = devices.volume_ids(data)
    assert len(node) < 32
    assert f"virtio-blk-pci,drive={node},id={device_id},serial=data-volume-with-a-l,addr=0x1f" in text
    netdev, nic_id = devices.nic_ids(nic, 0)
    assert f"tap,id={netdev},ifname=tap1,script=no,downscript=no" in text
    assert f"virtio-net-pci,netdev={netdev},mac=fa:16:3e:00:00:01,romfile=,id={nic_id},host_mtu=1450,addr=0x1e" in text
    assert "-nic" not in line


def test_a_missing_boot_volume_stops_the_start(tmp_path):
    paths = InstancePaths(dir=tmp_path / "u1", qmp=tmp_path / "u1.qmp")
    root = {"connection_info": {"driver_volume_type": "file", "data": {"path": str(tmp_path / "gone")}},
            "boot_index": 0}
    with pytest.raises(process.ProcessError, match="boot from volume"):
        process.argv("qemu-system-x86_64", "tcg", spec(image=None, block_devices=[root]), paths)


def iscsi_volume(serial: str, **data) -> dict:
    base = {"target_portal": "127.0.0.1:3260", "target_iqn": f"iqn.2010-10.org.openstack:volume-{serial}",
            "target_lun": 1, "auth_method": "CHAP", "auth_username": "user20", "auth_password": "s3cret-pass"}
    return {"connection_info": {"driver_volume_type": "iscsi", "serial": serial, "data": {**base, **data}},
            "device": "/dev/vdb"}


def test_an_iscsi_volume_opens_with_qemus_initiator_and_its_secret_in_a_private_file(tmp_path):
    entry = iscsi_volume("v1")
    line = devices.volume_args(entry, tmp_path)
    assert "s3cret-pass" not in " ".join(line)
    secret = tmp_path / f"{devices.secret_id(entry)}.key"
    assert secret.read_text() == "s3cret-pass" and secret.stat().st_mode & 0o777 == 0o600
    assert line[:2] == ["-object", f"secret,id={devices.secret_id(entry)},file={secret},format=raw"]
    import json

    backend = json.loads(line[line.index("-blockdev") + 1])
    assert backend["driver"] == "raw" and backend["file"] == {
        "driver": "iscsi", "transport": "tcp", "portal": "127.0.0.1:3260", "lun": 1, "user": "user20",
        "target": "iqn.2010-10.org.openstack:volume-v1", "password-secret": devices.secret_id(entry)}
    devices.forget_secret(entry, tmp_path)
    assert not secret.exists()


def test_iscsi_connection_info_without_a_target_or_chap_password_is_refused():
    with pytest.raises(devices.DeviceError):
        devices.check_volume(iscsi_volume("v", target_iqn=None)["connection_info"])
    with pytest.raises(devices.DeviceError):
        devices.check_volume(iscsi_volume("v", auth_password="")["connection_info"])
    with pytest.raises(devices.DeviceError):
        devices.check_volume({"driver_volume_type": "nfs", "data": {}})
    devices.check_volume(iscsi_volume("v", auth_method=None)["connection_info"])


def test_qos_specs_become_block_set_io_throttle_arguments():
    entry = iscsi_volume("v", qos_specs={"total_bytes_sec": "1048576", "read_iops_sec": 50,
                                         "write_iops_sec_max": "80", "unknown_key": "1"})
    assert devices.throttle(entry) == {"bps": 1048576, "bps_rd": 0, "bps_wr": 0, "iops": 0, "iops_rd": 50,
                                       "iops_wr": 0, "iops_wr_max": 80}
    assert devices.throttle(iscsi_volume("v")) is None
    assert devices.throttle(iscsi_volume("v", qos_specs=None)) is None
    with pytest.raises(devices.DeviceError):
        devices.throttle(iscsi_volume("v", qos_specs={"total_bytes_sec": "fast"}))
    with pytest.raises(devices.DeviceError):  # QEMU refuses total together with read/write
        devices.throttle(iscsi_volume("v", qos_specs={"total_iops_sec": 10, "read_iops_sec": 5}))


def test_a_guest_boots_from_an_iscsi_volume_through_qemus_initiator(tmp_path):
    paths = InstancePaths(dir=tmp_path / "u1", qmp=tmp_path / "u1.qmp")
    paths.dir.mkdir()
    root = {**iscsi_volume("root"), "device": "/dev/vda", "boot_index": 0}
    line = process.argv("qemu-system-x86_64", "tcg", spec(image=None, block_devices=[root]), paths)
    assert "s3cret-pass" not in " ".join(line) and str(paths.disk) not in " ".join(line)
    assert "virtio-blk-pci,drive=root,bootindex=0" in line
    import json

    backend = json.loads(line[line.index("-blockdev") + 1])
    assert backend["node-name"] == "root" and backend["file"]["driver"] == "iscsi"
    assert backend["file"]["password-secret"] == "sec-root-auth"
    assert (paths.dir / "sec-root-auth.key").read_text() == "s3cret-pass"
    rescue = process.argv("qemu-system-x86_64", "tcg", spec(image=None, block_devices=[root]), paths, rescue=True)
    assert "virtio-blk-pci,drive=root-volume" in rescue and "virtio-blk-pci,drive=root,bootindex=0" in rescue


def test_a_guest_boots_from_an_encrypted_volume_with_its_key_sealed(tmp_path):
    from overcast.compute.drivers.qemu import hotplug

    paths = InstancePaths(dir=tmp_path / "u1", qmp=tmp_path / "u1.qmp")
    paths.dir.mkdir()
    root = volume(tmp_path, "root", boot_index=0)
    root["connection_info"]["data"].update(encrypted=True, encryption={"passphrase": "0123abcd" * 8})
    settled = hotplug.settle(spec(image=None, block_devices=[root]), paths.dir)
    (entry,) = settled.block_devices
    assert entry["device"] == "/dev/vda" and "0123abcd" not in str(entry)
    line = process.argv("qemu-system-x86_64", "tcg", settled, paths)
    assert "0123abcd" not in " ".join(line)
    objects = [line[n + 1] for n, arg in enumerate(line) if arg == "-object"]
    assert objects[0].startswith("secret,id=masterkey0,") and objects[1].startswith("secret,id=sec-root,")
    import json

    backend = json.loads(line[line.index("-blockdev") + 1])
    assert backend["node-name"] == "root" and backend["driver"] == "qcow2"
    assert backend["encrypt"] == {"format": "luks", "key-secret": "sec-root"}
    assert "virtio-blk-pci,drive=root,bootindex=0" in line


def test_a_moved_guest_takes_the_master_key_its_volume_keys_are_sealed_with(tmp_path):
    from overcast.compute.drivers.qemu import secrets

    source, dest = tmp_path / "a", tmp_path / "b"
    source.mkdir(), dest.mkdir()
    entry = {"connection_info": secrets.seal(source, {"data": {"encryption": {"passphrase": "abc"}}})}
    secrets.adopt(dest, [{"connection_info": {"data": {}}}], None, local=False)  # nothing sealed: nothing to take
    assert not secrets.master_path(dest).exists()
    with pytest.raises(ValueError, match="another machine"):
        secrets.adopt(dest, [entry], str(source), local=False)
    secrets.adopt(dest, [entry], str(source), local=True)
    assert secrets.master_path(dest).read_bytes() == secrets.master_path(source).read_bytes()
    assert secrets.master_path(dest).stat().st_mode & 0o777 == 0o600
