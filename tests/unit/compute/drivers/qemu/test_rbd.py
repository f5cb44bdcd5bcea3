"""RBD volumes on the qemu driver's command line (no QEMU or Ceph needed): the key reaches
QEMU only through a secret object read from a root-only file, never the command line."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from overcast.compute.drivers.base import ImageRef, InstanceSpec
from overcast.compute.drivers.qemu import devices, process, rbd
from overcast.compute.drivers.qemu.layout import InstancePaths

KEY = "AQBsecretsecretsecretsecretsecretsecretQQ=="


def keyring(tmp_path: Path, user: str = "cinder") -> Path:
    path = tmp_path / "ceph.keyring"
    path.write_text(f"[client.admin]\n\tkey = AQBotherother==\n"
                    f"[client.{user}]\n\tkey = {KEY}\n\tcaps mon = \"allow r\"\n")
    return path


def rbd_volume(tmp_path: Path, serial: str, **extra) -> dict:
    return {"connection_info": {"driver_volume_type": "rbd", "serial": serial,
                                "data": {"name": f"volumes/volume-{serial}", "hosts": ["127.0.0.1"],
                                         "ports": ["16789"], "auth_enabled": True, "auth_username": "cinder",
                                         "keyring_path": str(keyring(tmp_path)), "cluster_name": "ceph",
                                         "discard": True, "access_mode": "rw"}}, **extra}


def spec(**changes) -> InstanceSpec:
    values = dict(uuid="u1", name="vm", vcpus=1, memory_mb=128, root_gb=1, image=ImageRef(id="i", path="/i"))
    values.update(changes)
    return InstanceSpec(**values)


def test_the_key_comes_from_the_users_section_of_the_keyring(tmp_path):
    assert rbd.read_key(keyring(tmp_path), "cinder") == KEY
    assert rbd.read_key(keyring(tmp_path), "nobody") is None
    info = rbd_volume(tmp_path, "v")["connection_info"]
    info["data"]["keyring_path"] = str(tmp_path / "missing")
    info["data"]["cluster_name"] = "no-such-cluster"
    with pytest.raises(devices.DeviceError, match="no key for client.cinder"):
        devices.check_volume(info)


def test_an_attached_rbd_volume_gets_a_secret_object_from_a_private_file(tmp_path):
    paths = InstancePaths(dir=tmp_path / "u1", qmp=tmp_path / "u1.qmp")
    paths.dir.mkdir()
    data = rbd_volume(tmp_path, "data", device="/dev/vdb", slot=0x1F)
    line = process.argv("qemu-system-x86_64", "tcg", spec(block_devices=[data]), paths)
    assert KEY not in " ".join(line)
    node, _ = devices.volume_ids(data)
    secret = line[line.index("-object") + 1]
    sid = "sec-" + node.removeprefix("vol-")
    assert secret.startswith(f"secret,id={sid},file=") and secret.endswith(",format=base64")
    key_file = Path(secret.split("file=")[1].split(",")[0])
    assert key_file.read_text() == KEY and stat.S_IMODE(key_file.stat().st_mode) == 0o600
    backend = json.loads(next(arg for arg in line if arg.startswith("{") and '"rbd"' in arg))
    assert backend["driver"] == "raw" and backend["node-name"] == node
    assert backend["file"] == {"driver": "rbd", "pool": "volumes", "image": "volume-data",
                               "server": [{"host": "127.0.0.1", "port": "16789"}], "user": "cinder",
                               "auth-client-required": ["cephx"], "key-secret": sid}


def test_a_guest_boots_from_an_rbd_volume_with_no_disk_of_its_own(tmp_path):
    paths = InstancePaths(dir=tmp_path / "u1", qmp=tmp_path / "u1.qmp")
    paths.dir.mkdir()
    root = rbd_volume(tmp_path, "root", device="/dev/vda", boot_index=0)
    line = process.argv("qemu-system-x86_64", "tcg", spec(image=None, block_devices=[root]), paths)
    text = " ".join(line)
    assert str(paths.disk) not in text and KEY not in text
    assert "virtio-blk-pci,drive=root,bootindex=0" in line
    backend = json.loads(line[line.index("-blockdev") + 1])
    assert backend["node-name"] == "root" and backend["file"]["image"] == "volume-root"
    assert backend["file"]["key-secret"] == "sec-root-auth"  # sec-root is a LUKS key's name
    rescue = process.argv("qemu-system-x86_64", "tcg", spec(image=None, block_devices=[root]), paths, rescue=True)
    assert "virtio-blk-pci,drive=root-volume" in rescue


def test_hot_plug_adds_the_secret_before_the_node_and_removes_it_after(tmp_path, monkeypatch):
    sent = []

    class Session:
        def __init__(self, path):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def execute(self, command, **arguments):
            sent.append((command, arguments))
            return {}

        def wait_event(self, name, timeout):
            return {"event": name, "data": {"device": sent[-1][1].get("id")}}

    monkeypatch.setattr(devices, "QMPSession", Session)
    entry = rbd_volume(tmp_path, "hot", device="/dev/vdb", slot=0x1E)
    devices.plug_volume("qmp", entry)
    commands = [command for command, _ in sent]
    assert commands == ["object-del", "object-add", "blockdev-add", "device_add"]
    assert sent[1][1] == {"qom-type": "secret", "id": sent[2][1]["file"]["key-secret"], "data": KEY,
                          "format": "base64"}
    sent.clear()
    devices.unplug_volume("qmp", entry, timeout=1)
    assert [command for command, _ in sent] == ["device_del", "blockdev-del", "object-del"]
