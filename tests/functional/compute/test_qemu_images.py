"""AMI-style images and rebuild in place on real guests, driven by the openstack CLI with
the qemu compute driver.

The test guest's kernel and initramfs are uploaded as `aki` and `ari` images and a small
`ami` disk with no boot sector names them (`kernel_id`, `ramdisk_id`): the server boots
the kernel directly. Rebuilding it onto the test guest's disk image keeps the server (its
id, its attached volume, its console log) and gives it a fresh root disk.
"""

from __future__ import annotations

import pytest

from conftest import Cli, random_name
from qemuguests import console, qemu_pids, start_cloud, stop_cloud, wait_status, wait_volume
import testguest

pytestmark = pytest.mark.qemu


@pytest.fixture(scope="module")
def qemu_cloud(tmp_path_factory):
    proc = start_cloud(tmp_path_factory.mktemp("qemu-images") / "data")
    yield proc
    stop_cloud(proc)


def _boot(text: str, n: int) -> str:
    """The console from the ``n``th boot on, empty until it starts."""
    return "OVERCAST-INIT-START".join(text.split("OVERCAST-INIT-START")[n:])


def test_an_ami_boots_its_kernel_then_rebuilds_in_place_onto_a_disk_image(qemu_cloud, tmp_path):
    cli, guest = Cli(qemu_cloud), qemu_cloud.guest
    made = []

    def image(*args):
        made.append(cli.run("image", "create", *args, random_name("img")))
        return made[-1]

    kernel = image("--disk-format", "aki", "--container-format", "aki", "--file", str(guest / "vmlinuz"))
    ramdisk = image("--disk-format", "ari", "--container-format", "ari", "--file", str(guest / "initramfs.cpio.gz"))
    blank = tmp_path / "ami.raw"
    with open(blank, "wb") as handle:
        handle.truncate(1 << 20)
    ami = image("--disk-format", "ami", "--container-format", "ami", "--file", str(blank),
                "--property", f"kernel_id={kernel['id']}", "--property", f"ramdisk_id={ramdisk['id']}")
    disk = image("--disk-format", "qcow2", "--container-format", "bare", "--file", str(guest / "disk.qcow2"))
    flavor = cli.run("flavor", "create", "--ram", "128", "--disk", "1", "--vcpus", "1", random_name("q"))

    name = random_name("ami")
    server = cli.run("server", "create", "--nic", "none", "--flavor", flavor["id"], "--image", ami["id"],
                     "--wait", name)
    first = testguest.wait_for(lambda: console(cli, name), "OVERCAST-READY")
    assert "SYSLINUX" not in first and "OVERCAST-BOOTCOUNT" not in first  # the kernel came from the aki
    volume = cli.run("volume", "create", "--size", "1", random_name("vol"))
    wait_volume(cli, volume["id"], "available")
    cli.ok("server", "add", "volume", name, volume["id"])
    wait_volume(cli, volume["id"], "in-use")

    cli.ok("server", "rebuild", "--image", disk["id"], "--wait", name)
    shown = wait_status(cli, name, "ACTIVE")
    assert shown["id"] == server["id"] and disk["id"] in str(shown["image"])
    second = testguest.wait_for(lambda: _boot(console(cli, name), 2), "OVERCAST-DISKS")  # just after READY
    assert "OVERCAST-BOOTCOUNT 1" in second and "vdb" in second.split("OVERCAST-DISKS", 1)[1].split("\n", 1)[0]
    attached = wait_volume(cli, volume["id"], "in-use")["attachments"]
    assert [a["server_id"] for a in attached] == [server["id"]]
    assert len(qemu_pids(str(qemu_cloud.data_dir))) == 1

    cli.ok("server", "delete", "--wait", name)
    wait_volume(cli, volume["id"], "available")
    cli.ok("volume", "delete", volume["id"])
    cli.ok("flavor", "delete", flavor["id"])
    for made_image in made:
        cli.ok("image", "delete", made_image["id"])
