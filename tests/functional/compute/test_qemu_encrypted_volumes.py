"""An encrypted (LUKS) volume on a real test guest, driven by the openstack CLI.

A volume type with `--encryption-provider luks` makes LUKS volumes: one made from an image
whose first bytes the test wrote holds those bytes only as ciphertext in its file, while
the guest it is attached to (`server add volume`) reads them in clear, also after a stop
and start. Deleting the volume deletes its key.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from conftest import Cli, random_name
from qemuguests import after_last_boot, console, start_cloud, stop_cloud, wait_status, wait_volume
import testguest

pytestmark = pytest.mark.qemu


@pytest.fixture(scope="module")
def qemu_cloud(tmp_path_factory):
    proc = start_cloud(tmp_path_factory.mktemp("qemu-encrypted") / "data")
    yield proc
    stop_cloud(proc)


def test_an_encrypted_volume_is_ciphertext_on_disk_and_plaintext_in_the_guest(qemu_cloud, tmp_path):
    cli = Cli(qemu_cloud)
    image = cli.run("image", "create", "--disk-format", "qcow2", "--container-format", "bare", "--file",
                    str(qemu_cloud.guest / "disk.qcow2"), random_name("guest"))
    flavor = cli.run("flavor", "create", "--ram", "128", "--disk", "1", "--vcpus", "1", random_name("q"))
    vtype = cli.run("volume", "type", "create", "--encryption-provider", "luks", "--encryption-cipher",
                    "aes-xts-plain64", "--encryption-key-size", "256", "--encryption-control-location", "front-end",
                    random_name("luks"))
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


def _key_count(cloud) -> int:
    import sqlite3

    (db,) = [p for p in cloud.data_dir.glob("**/*.db") if p.stat().st_size]
    with sqlite3.connect(db) as connection:
        return connection.execute("SELECT count(*) FROM volume_keys").fetchone()[0]


def _wait_gone(cli, volume_id: str) -> None:
    testguest.wait_for(lambda: "" if cli.raw("volume", "show", volume_id).returncode == 0 else "gone", "gone")
