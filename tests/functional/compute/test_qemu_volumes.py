"""Volumes on real guests, driven by the openstack CLI: `overcast up` with the qemu compute
driver and the file volume driver.

A volume made from an image whose first bytes the test wrote is attached to a running
test guest (`server add volume`): the guest sees a new disk and prints its first bytes.
The volume stays attached through a stop and start and is removed again (`server remove
volume`), also from a paused guest (which runs just long enough to release it). Guests
boot from volumes (`server create --volume`, `--boot-from-volume` and `--block-device`),
with no root overlay of their own; their volumes outlive them unless marked
delete_on_termination.
"""

from __future__ import annotations

import time

import pytest

from conftest import Cli, random_name
from qemuguests import after_last_boot, console, qemu_pids, start_cloud, stop_cloud, wait_status, wait_volume
import testguest

pytestmark = pytest.mark.qemu


@pytest.fixture(scope="module")
def qemu_cloud(tmp_path_factory):
    proc = start_cloud(tmp_path_factory.mktemp("qemu-volumes") / "data")
    yield proc
    stop_cloud(proc)


@pytest.fixture(scope="module")
def qcli(qemu_cloud):
    return Cli(qemu_cloud)


@pytest.fixture(scope="module")
def guest_image(qemu_cloud, qcli):
    image = qcli.run("image", "create", "--disk-format", "qcow2", "--container-format", "bare", "--file",
                     str(qemu_cloud.guest / "disk.qcow2"), random_name("guest"))
    flavor = qcli.run("flavor", "create", "--ram", "128", "--disk", "1", "--vcpus", "1", random_name("q"))
    yield image, flavor
    qcli.ok("image", "delete", image["id"])
    qcli.ok("flavor", "delete", flavor["id"])


def test_a_volume_is_attached_kept_over_stop_start_and_removed(qemu_cloud, qcli, guest_image, tmp_path):
    cli, (image, flavor) = qcli, guest_image
    head = f"HEAD-{random_name('v')[-8:]}".replace("_", "-")
    data = tmp_path / "data.raw"
    with open(data, "wb") as handle:
        handle.write(head.encode())
        handle.truncate(1 << 20)
    source = cli.run("image", "create", "--disk-format", "raw", "--container-format", "bare", "--file", str(data),
                     random_name("data"))
    volume = cli.run("volume", "create", "--image", source["id"], "--size", "1", random_name("vol"))
    wait_volume(cli, volume["id"], "available")

    name = random_name("vm")
    server = cli.run("server", "create", "--nic", "none", "--flavor", flavor["id"], "--image", image["id"], "--wait",
                     name)
    testguest.wait_for(lambda: console(cli, name), "OVERCAST-READY")
    cli.ok("server", "add", "volume", name, volume["id"])
    shown = wait_volume(cli, volume["id"], "in-use")
    assert shown["attachments"][0]["device"] == "/dev/vdb"
    testguest.wait_for(lambda: console(cli, name), f"OVERCAST-DISK-ADD vdb size_kb=1048576 head={head}")
    attached = cli.run("server", "volume", "list", name)
    assert [a["Volume ID"] for a in attached] == [volume["id"]]

    cli.ok("server", "stop", name)
    wait_status(cli, name, "SHUTOFF")
    cli.ok("server", "start", name)
    wait_status(cli, name, "ACTIVE")
    testguest.wait_for(lambda: console(cli, name), "OVERCAST-BOOTCOUNT 2")
    testguest.wait_for(lambda: after_last_boot(console(cli, name)), "OVERCAST-DISKS vda vda1 vdb")
    testguest.wait_for(lambda: after_last_boot(console(cli, name)), "OVERCAST-READY")

    cli.ok("server", "remove", "volume", name, volume["id"])
    wait_volume(cli, volume["id"], "available")
    testguest.wait_for(lambda: after_last_boot(console(cli, name)).rsplit("OVERCAST-DISKS", 1)[-1], " vda vda1 \n")

    cli.ok("server", "add", "volume", name, volume["id"])  # a paused guest runs just long enough to let go
    wait_volume(cli, volume["id"], "in-use")
    testguest.wait_for(lambda: console(cli, name).rsplit(" vda vda1 \n", 1)[-1], "OVERCAST-DISK-ADD vdb")
    cli.ok("server", "pause", name)
    wait_status(cli, name, "PAUSED")
    cli.ok("server", "remove", "volume", name, volume["id"])
    wait_volume(cli, volume["id"], "available")
    assert cli.run("server", "show", name)["status"] == "PAUSED"
    cli.ok("server", "unpause", name)
    wait_status(cli, name, "ACTIVE")
    testguest.wait_for(lambda: after_last_boot(console(cli, name)).rsplit("OVERCAST-DISKS", 1)[-1], " vda vda1 \n")
    (pid,) = qemu_pids(str(qemu_cloud.data_dir))
    cli.ok("server", "delete", "--wait", name)
    assert qemu_pids(str(qemu_cloud.data_dir)) == []
    assert cli.run("volume", "show", volume["id"])["status"] == "available"  # the server's delete left it
    cli.ok("volume", "delete", volume["id"])
    cli.ok("image", "delete", source["id"])


def test_guests_boot_from_volumes(qemu_cloud, qcli, guest_image):
    cli, (image, flavor) = qcli, guest_image
    instances = qemu_cloud.data_dir / "compute" / "qemu" / "instances"
    root = cli.run("volume", "create", "--image", image["id"], "--size", "1", "--bootable", random_name("root"))
    wait_volume(cli, root["id"], "available")
    by_volume, from_image = random_name("bfv"), random_name("bfi")
    server = cli.run("server", "create", "--nic", "none", "--flavor", flavor["id"], "--volume", root["id"], "--wait",
                     by_volume)
    testguest.wait_for(lambda: console(cli, by_volume), "OVERCAST-READY")
    assert not (instances / server["id"] / "disk.qcow2").exists()  # the volume is its root disk
    assert wait_volume(cli, root["id"], "in-use")["attachments"][0]["device"] == "/dev/vda"

    other = cli.run("server", "create", "--nic", "none", "--flavor", flavor["id"], "--image", image["id"],
                    "--boot-from-volume", "1", "--wait", from_image)
    testguest.wait_for(lambda: console(cli, from_image), "OVERCAST-READY")
    assert not (instances / other["id"] / "disk.qcow2").exists()
    made = [v["ID"] for v in cli.run("volume", "list") if v["ID"] != root["id"]]
    assert len(made) == 1 and cli.run("volume", "show", made[0])["status"] == "in-use"

    cli.ok("server", "stop", by_volume)  # the boot counter is written to the volume
    wait_status(cli, by_volume, "SHUTOFF")
    cli.ok("server", "start", by_volume)
    testguest.wait_for(lambda: console(cli, by_volume), "OVERCAST-BOOTCOUNT 2")

    cli.ok("server", "delete", "--wait", by_volume, from_image)
    assert qemu_pids(str(qemu_cloud.data_dir)) == []
    assert list(instances.iterdir()) == []
    for volume_id in (root["id"], made[0]):  # neither was marked delete_on_termination
        wait_volume(cli, volume_id, "available")
        cli.ok("volume", "delete", volume_id)


def test_volumes_of_a_new_server_marked_delete_on_termination_go_with_it(qemu_cloud, qcli, guest_image):
    cli, (image, flavor) = qcli, guest_image
    before = {v["ID"] for v in cli.run("volume", "list")}
    name = random_name("dot")
    cli.run("server", "create", "--nic", "none", "--flavor", flavor["id"], "--block-device",
            f"uuid={image['id']},source_type=image,destination_type=volume,volume_size=1,boot_index=0,"
            "delete_on_termination=true", "--block-device",
            "source_type=blank,destination_type=volume,volume_size=1,delete_on_termination=true", "--wait", name)
    text = testguest.wait_for(lambda: console(cli, name), "OVERCAST-DISKS")  # just after READY
    assert "OVERCAST-DISKS vda vda1 vdb" in text  # the root volume, and the blank one second
    made = {v["ID"] for v in cli.run("volume", "list")} - before
    assert len(made) == 2
    cli.ok("server", "delete", "--wait", name)
    for _ in range(240):
        if not made & {v["ID"] for v in cli.run("volume", "list")}:
            break
        time.sleep(0.5)
    assert not made & {v["ID"] for v in cli.run("volume", "list")}, "delete_on_termination volumes are left"


def test_a_qcow2_volume_extended_while_attached_grows_in_the_guest(qemu_cloud, qcli, guest_image, tmp_path):
    """3.42 on a `file` qcow2 volume a running QEMU holds: the volume agent cannot resize
    the locked file, QEMU grows it on `block_resize` when told (`volume-extended`)."""
    from guestscripts import WATCH_VDB

    cli, (image, flavor) = qcli, guest_image
    volume = cli.run("volume", "create", "--size", "1", random_name("vol"))
    wait_volume(cli, volume["id"], "available")
    script = tmp_path / "watch.sh"
    script.write_text(WATCH_VDB)
    name = random_name("vm")
    cli.run("server", "create", "--nic", "none", "--flavor", flavor["id"], "--image", image["id"], "--config-drive",
            "true", "--user-data", str(script), "--wait", name)
    try:
        testguest.wait_for(lambda: console(cli, name), "OVERCAST-READY")
        cli.ok("server", "add", "volume", name, volume["id"])
        wait_volume(cli, volume["id"], "in-use")
        testguest.wait_for(lambda: console(cli, name), "OVERCAST-UD VDB-SIZE 2097152")
        cli.ok("--os-volume-api-version", "3.42", "volume", "set", "--size", "3", volume["id"])
        assert wait_volume(cli, volume["id"], "in-use")["size"] == 3
        testguest.wait_for(lambda: console(cli, name), "OVERCAST-UD VDB-SIZE 6291456")
        cli.ok("server", "remove", "volume", name, volume["id"])
        wait_volume(cli, volume["id"], "available")
    finally:
        cli.raw("server", "delete", "--wait", name)
        cli.raw("volume", "delete", volume["id"])
