"""Nova 2.93 on a real guest: `openstack server rebuild --reimage-boot-volume` of a server
booted from a file volume reimages that volume with the new image (the test guest
uploaded a second time under another name) and the guest boots it afresh: the boot
counter the guest keeps on its disk starts again at 1, and the volume's
``volume_image_metadata`` names the new image."""

from __future__ import annotations

import pytest

from conftest import Cli, random_name
from qemuguests import after_last_boot, console, qemu_pids, start_cloud, stop_cloud, wait_status, wait_volume
import testguest

pytestmark = pytest.mark.qemu


@pytest.fixture(scope="module")
def qemu_cloud(tmp_path_factory):
    proc = start_cloud(tmp_path_factory.mktemp("qemu-reimage") / "data")
    yield proc
    stop_cloud(proc)


def test_rebuild_reimages_the_boot_volume_and_the_guest_boots_the_new_image(qemu_cloud):
    cli = Cli(qemu_cloud)
    disk = str(qemu_cloud.guest / "disk.qcow2")
    first, second = (cli.run("image", "create", "--disk-format", "qcow2", "--container-format", "bare", "--file",
                             disk, random_name(prefix)) for prefix in ("guest", "guest-again"))
    flavor = cli.run("flavor", "create", "--ram", "128", "--disk", "1", "--vcpus", "1", random_name("q"))
    name = random_name("bfv")
    server = cli.run("server", "create", "--nic", "none", "--flavor", flavor["id"], "--image", first["id"],
                     "--boot-from-volume", "1", "--wait", name)
    testguest.wait_for(lambda: console(cli, name), "OVERCAST-READY")
    root = cli.run("server", "show", name)["volumes_attached"][0]["id"]
    cli.ok("server", "stop", name)  # the boot counter is written to the volume
    wait_status(cli, name, "SHUTOFF")
    cli.ok("server", "start", name)
    testguest.wait_for(lambda: console(cli, name), "OVERCAST-BOOTCOUNT 2")
    testguest.wait_for(lambda: after_last_boot(console(cli, name)), "OVERCAST-READY")

    boots = console(cli, name).count("OVERCAST-INIT-START")
    cli.ok("--os-compute-api-version", "2.93", "server", "rebuild", "--image", second["id"],
           "--reimage-boot-volume", "--wait", name)

    def new_boot() -> str:
        text = console(cli, name)
        return after_last_boot(text) if text.count("OVERCAST-INIT-START") > boots else ""

    text = testguest.wait_for(new_boot, "OVERCAST-READY", timeout=300)
    assert "OVERCAST-BOOTCOUNT 1 " in text  # a fresh disk: the counter starts again
    shown = cli.run("server", "show", name)
    assert shown["status"] == "ACTIVE" and [v["id"] for v in shown["volumes_attached"]] == [root]
    volume = wait_volume(cli, root, "in-use")
    assert volume["volume_image_metadata"]["image_id"] == second["id"]
    assert volume["attachments"][0]["server_id"] == server["id"] and volume["attachments"][0]["device"] == "/dev/vda"

    cli.ok("server", "delete", "--wait", name)
    assert qemu_pids(str(qemu_cloud.data_dir)) == []
    wait_volume(cli, root, "available")
    cli.ok("volume", "delete", root)
    cli.ok("image", "delete", first["id"], second["id"])
    cli.ok("flavor", "delete", flavor["id"])
