"""An encrypted (LUKS) volume on a real test guest, driven by the openstack CLI.

A volume type with `--encryption-provider luks` makes LUKS volumes: one made from an image
whose first bytes the test wrote holds those bytes only as ciphertext in its file, while
the guest it is attached to (`server add volume`) reads them in clear, also after a stop
and start. Deleting the volume deletes its key. A guest boots from an encrypted volume made
from the test guest's image (the image written through LUKS), over a stop/start and a
hard reboot.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from conftest import Cli, random_name
from qemuguests import after_last_boot, console, start_cloud, stop_cloud, wait_status, wait_volume
import testguest

pytestmark = pytest.mark.qemu
#: the test guest's FAT16 boot sector: volume label and file system type
BOOT_SECTOR = b"OVERCAST   FAT16   "


@pytest.fixture(scope="module")
def qemu_cloud(tmp_path_factory):
    proc = start_cloud(tmp_path_factory.mktemp("qemu-encrypted") / "data")
    yield proc
    stop_cloud(proc)


def test_an_encrypted_volume_is_ciphertext_on_disk_and_plaintext_in_the_guest(qemu_cloud, tmp_path):
    cli, image, flavor, vtype = _guest_and_luks_type(qemu_cloud)
    head = f"SECRET-{random_name('v')[-8:]}".replace("_", "-")
    data = tmp_path / "data.raw"
    with open(data, "wb") as handle:
        handle.write(head.encode())
        handle.truncate(1 << 20)
    source = cli.run("image", "create", "--disk-format", "raw", "--container-format", "bare", "--file", str(data),
                     random_name("data"))
    volume = cli.run("volume", "create", "--type", vtype["id"], "--image", source["id"], "--size", "1",
                     random_name("vol"))
    shown = wait_volume(cli, volume["id"], "available")
    assert shown["encrypted"] is True
    (path,) = (qemu_cloud.data_dir / "volumes").glob(f"volume-{volume['id']}.*")
    info = json.loads(subprocess.run(["qemu-img", "info", "-U", "--output=json", str(path)], capture_output=True,
                                     text=True, check=True).stdout)
    assert info["encrypted"] is True and info["format-specific"]["data"]["encrypt"]["format"] == "luks"
    assert subprocess.run(["grep", "-c", head, str(path)], capture_output=True).returncode == 1

    name = random_name("vm")
    cli.run("server", "create", "--nic", "none", "--flavor", flavor["id"], "--image", image["id"], "--wait", name)
    testguest.wait_for(lambda: console(cli, name), "OVERCAST-READY")
    cli.ok("server", "add", "volume", name, volume["id"])
    wait_volume(cli, volume["id"], "in-use")
    testguest.wait_for(lambda: console(cli, name), f"OVERCAST-DISK-ADD vdb size_kb=1048576 head={head}")
    spec = (qemu_cloud.data_dir / "compute" / "qemu" / "instances").glob("*/spec.json")
    assert all(head not in p.read_text() for p in spec)

    cli.ok("server", "stop", name)
    wait_status(cli, name, "SHUTOFF")
    cli.ok("server", "start", name)
    wait_status(cli, name, "ACTIVE")
    testguest.wait_for(lambda: console(cli, name), "OVERCAST-BOOTCOUNT 2")
    testguest.wait_for(lambda: after_last_boot(console(cli, name)), "OVERCAST-DISKS vda vda1 vdb")

    cli.ok("server", "remove", "volume", name, volume["id"])
    wait_volume(cli, volume["id"], "available")
    cli.ok("server", "delete", "--wait", name)
    keys_before = _key_count(qemu_cloud)
    cli.ok("volume", "delete", volume["id"])
    _wait_gone(cli, volume["id"])
    assert _key_count(qemu_cloud) == keys_before - 1
    cli.ok("image", "delete", source["id"])
    cli.ok("image", "delete", image["id"])
    cli.ok("flavor", "delete", flavor["id"])
    cli.ok("volume", "type", "delete", vtype["id"])


def test_a_guest_boots_from_an_encrypted_volume(qemu_cloud):
    cli, image, flavor, vtype = _guest_and_luks_type(qemu_cloud)
    volume = cli.run("volume", "create", "--type", vtype["id"], "--image", image["id"], "--size", "1", "--bootable",
                     random_name("root"))
    assert wait_volume(cli, volume["id"], "available")["encrypted"] is True
    (path,) = (qemu_cloud.data_dir / "volumes").glob(f"volume-{volume['id']}.*")
    info = json.loads(subprocess.run(["qemu-img", "info", "-U", "--output=json", str(path)], capture_output=True,
                                     text=True, check=True).stdout)
    assert info["encrypted"] is True and info["format-specific"]["data"]["encrypt"]["format"] == "luks"
    # the image's FAT boot sector (label and type) is in the image in clear, in the volume only as ciphertext
    assert BOOT_SECTOR in (qemu_cloud.guest / "disk.raw").read_bytes() and BOOT_SECTOR not in path.read_bytes()

    name = random_name("vm")
    server = cli.run("server", "create", "--nic", "none", "--flavor", flavor["id"], "--volume", volume["id"],
                     "--wait", name)
    try:
        testguest.wait_for(lambda: console(cli, name), "OVERCAST-READY", timeout=300)
        assert wait_volume(cli, volume["id"], "in-use")["attachments"][0]["device"] == "/dev/vda"
        instance = qemu_cloud.data_dir / "compute" / "qemu" / "instances" / server["id"]
        assert not (instance / "disk.qcow2").exists()
        (root,) = json.loads((instance / "spec.json").read_text())["block_devices"]
        sealed = root["connection_info"]["data"]["encryption"]
        assert "passphrase" not in sealed and sealed["secret"] and sealed["iv"]  # only sealed with the master key
        cli.ok("server", "stop", name)  # the boot counter is written through LUKS
        wait_status(cli, name, "SHUTOFF")
        cli.ok("server", "start", name)
        testguest.wait_for(lambda: console(cli, name), "OVERCAST-BOOTCOUNT 2", timeout=300)
        cli.ok("server", "reboot", "--hard", "--wait", name)
        testguest.wait_for(lambda: console(cli, name), "OVERCAST-BOOTCOUNT 3", timeout=300)
        assert BOOT_SECTOR not in path.read_bytes()
    finally:
        cli.raw("server", "delete", "--wait", name)
        wait_volume(cli, volume["id"], "available")  # not delete_on_termination: it stays
        cli.ok("volume", "delete", volume["id"])
        _wait_gone(cli, volume["id"])
        cli.raw("image", "delete", image["id"])
        cli.raw("flavor", "delete", flavor["id"])
        cli.raw("volume", "type", "delete", vtype["id"])


def _guest_and_luks_type(cloud):
    """(cli, the test guest's image, a flavor, a LUKS volume type)."""
    cli = Cli(cloud)
    image = cli.run("image", "create", "--disk-format", "qcow2", "--container-format", "bare", "--file",
                    str(cloud.guest / "disk.qcow2"), random_name("guest"))
    flavor = cli.run("flavor", "create", "--ram", "128", "--disk", "1", "--vcpus", "1", random_name("q"))
    vtype = cli.run("volume", "type", "create", "--encryption-provider", "luks", "--encryption-cipher",
                    "aes-xts-plain64", "--encryption-key-size", "256", "--encryption-control-location", "front-end",
                    random_name("luks"))
    return cli, image, flavor, vtype


def _key_count(cloud) -> int:
    import sqlite3

    (db,) = [p for p in cloud.data_dir.glob("**/*.db") if p.stat().st_size]
    with sqlite3.connect(db) as connection:
        return connection.execute("SELECT count(*) FROM volume_keys").fetchone()[0]


def _wait_gone(cli, volume_id: str) -> None:
    testguest.wait_for(lambda: "" if cli.raw("volume", "show", volume_id).returncode == 0 else "gone", "gone")
