"""Real guests end to end: `overcast up` with the qemu driver, driven by the openstack CLI.

The test guest (tools/build-test-guest.sh) is uploaded with `openstack image create`,
booted with `openstack server create --wait`, watched through `openstack console log
show`, stopped, started, hard-rebooted, paused, suspended, snapshotted (and the snapshot
booted) and deleted; afterwards no qemu process and no instance file of this cloud may be left.
Guests boot with `--nic none` on the fake network driver (which makes no taps); guests on
real networks are tests/functional/network/test_linux_guests.py's.
"""

from __future__ import annotations

import os
import time

import pytest

from conftest import Cli, random_name
from qemuguests import console, qemu_pids, start_cloud, stop_cloud, wait_status
import testguest

pytestmark = pytest.mark.qemu


@pytest.fixture(scope="module")
def qemu_cloud(tmp_path_factory):
    proc = start_cloud(tmp_path_factory.mktemp("qemu-cloud") / "data")
    yield proc
    stop_cloud(proc)


@pytest.fixture(scope="module")
def qcli(qemu_cloud):
    return Cli(qemu_cloud)


def test_a_real_guest_through_its_whole_life(qemu_cloud, qcli):
    cli = qcli
    hypervisors = cli.run("hypervisor", "list")
    assert [h["Hypervisor Type"] for h in hypervisors] == ["QEMU"]
    shown = cli.run("--os-compute-api-version", "2.53", "hypervisor", "show", hypervisors[0]["ID"])
    assert shown["cpu_info"]["accelerator"] in ("kvm", "tcg")
    image = cli.run("image", "create", "--disk-format", "qcow2", "--container-format", "bare", "--file",
                    str(qemu_cloud.guest / "disk.qcow2"), random_name("guest"))
    assert image["status"] == "active"
    flavor = cli.run("flavor", "create", "--ram", "128", "--disk", "1", "--vcpus", "1", random_name("q"))
    name = random_name("vm")

    started = time.monotonic()
    server = cli.run("server", "create", "--nic", "none", "--flavor", flavor["id"], "--image", image["id"], "--wait", name)
    assert server["status"] == "ACTIVE" and server["OS-EXT-STS:power_state"] in (1, "Running")
    text = testguest.wait_for(lambda: console(cli, name), "OVERCAST-READY", timeout=120)
    print(f"boot: ACTIVE + marker in {time.monotonic() - started:.1f} s (CLI included)")
    assert "OVERCAST-BOOTCOUNT 1" in text and "OVERCAST-NICS none" in text
    assert len(qemu_pids(str(qemu_cloud.data_dir))) == 1
    lines = cli.ok("console", "log", "show", "--lines", "2", name)
    assert lines.strip() and len(lines.strip().splitlines()) <= 2

    cli.ok("server", "stop", name)  # ACPI: the guest powers itself off
    shown = wait_status(cli, name, "SHUTOFF")
    assert shown["OS-EXT-STS:power_state"] in (4, "Shutdown")
    assert "OVERCAST-POWEROFF" in console(cli, name)
    assert qemu_pids(str(qemu_cloud.data_dir)) == []

    cli.ok("server", "start", name)
    wait_status(cli, name, "ACTIVE")
    testguest.wait_for(lambda: console(cli, name), "OVERCAST-BOOTCOUNT 2")

    cli.ok("server", "reboot", "--hard", "--wait", name)
    testguest.wait_for(lambda: console(cli, name), "OVERCAST-BOOTCOUNT 3")
    assert len(qemu_pids(str(qemu_cloud.data_dir))) == 1

    cli.ok("server", "pause", name)
    assert wait_status(cli, name, "PAUSED")["OS-EXT-STS:power_state"] in (3, "Paused")
    cli.ok("server", "unpause", name)
    wait_status(cli, name, "ACTIVE")

    cli.ok("server", "suspend", name)  # the guest's memory goes to a file, QEMU quits
    assert wait_status(cli, name, "SUSPENDED")["OS-EXT-STS:power_state"] in (7, "Suspended")
    assert qemu_pids(str(qemu_cloud.data_dir)) == []
    cli.ok("server", "resume", name)
    wait_status(cli, name, "ACTIVE")
    assert console(cli, name).count("OVERCAST-INIT-START") == 3  # resumed, not booted again

    snapshot = random_name("snap")
    cli.ok("server", "image", "create", "--name", snapshot, "--wait", name)
    assert cli.run("image", "show", snapshot)["status"] == "active"
    copy = random_name("copy")
    cli.run("server", "create", "--nic", "none", "--flavor", flavor["id"], "--image", snapshot, "--wait", copy)
    # the snapshot carries the boot counter the guest wrote to its disk
    testguest.wait_for(lambda: console(cli, copy), "OVERCAST-BOOTCOUNT 4")

    cli.ok("server", "delete", "--wait", name, copy)
    assert qemu_pids(str(qemu_cloud.data_dir)) == []
    assert list((qemu_cloud.data_dir / "compute" / "qemu" / "instances").iterdir()) == []
    cli.ok("image", "delete", snapshot, image["id"])
    cli.ok("flavor", "delete", flavor["id"])


def test_an_image_that_is_not_a_disk_ends_in_error_with_a_reason(qemu_cloud, qcli, tmp_path):
    cli = qcli
    junk = tmp_path / "junk.raw"
    junk.write_bytes(b"not a disk\n" * 1000)
    image = cli.run("image", "create", "--disk-format", "raw", "--container-format", "bare", "--file", str(junk),
                    random_name("junk"))
    name = random_name("bad")
    result = cli.raw("server", "create", "--nic", "none", "--flavor", "m1.tiny", "--image", image["id"], "--wait", name)
    assert result.returncode != 0
    shown = cli.run("server", "show", name)
    assert shown["status"] == "ERROR"
    assert "not a bootable disk" in str(shown.get("fault"))
    cli.ok("server", "delete", "--wait", name)
    assert list((qemu_cloud.data_dir / "compute" / "qemu" / "instances").iterdir()) == []
    cli.ok("image", "delete", image["id"])


def test_resize_and_rescue_through_the_cli(qemu_cloud, qcli):
    cli = qcli
    image = cli.run("image", "create", "--disk-format", "qcow2", "--container-format", "bare", "--file",
                    str(qemu_cloud.guest / "disk.qcow2"), random_name("guest"))
    small = cli.run("flavor", "create", "--ram", "128", "--disk", "1", "--vcpus", "1", random_name("s"))
    big = cli.run("flavor", "create", "--ram", "192", "--disk", "2", "--vcpus", "1", random_name("b"))
    name = random_name("vm")
    cli.run("server", "create", "--nic", "none", "--flavor", small["id"], "--image", image["id"], "--wait", name)
    testguest.wait_for(lambda: console(cli, name), "OVERCAST-READY")

    cli.ok("server", "resize", "--flavor", big["id"], name)
    wait_status(cli, name, "VERIFY_RESIZE")
    (pid,) = qemu_pids(str(qemu_cloud.data_dir))
    with open(f"/proc/{pid}/cmdline", "rb") as handle:
        assert b"\0-m\x00192\0" in handle.read()
    cli.ok("server", "resize", "confirm", name)
    shown = wait_status(cli, name, "ACTIVE")
    assert big["name"] in str(shown["flavor"])

    cli.ok("server", "rescue", name)
    wait_status(cli, name, "RESCUE")
    testguest.wait_for(lambda: console(cli, name), "OVERCAST-DISKS vda vda1 vdb vdb1")
    cli.ok("server", "unrescue", name)
    wait_status(cli, name, "ACTIVE")

    cli.ok("server", "delete", "--wait", name)
    assert qemu_pids(str(qemu_cloud.data_dir)) == []
    assert list((qemu_cloud.data_dir / "compute" / "qemu" / "instances").iterdir()) == []
    cli.ok("image", "delete", image["id"])
    cli.ok("flavor", "delete", small["id"], big["id"])


def test_delete_during_build_leaves_nothing(qemu_cloud, qcli):
    cli = qcli
    image = cli.run("image", "create", "--disk-format", "qcow2", "--container-format", "bare", "--file",
                    str(qemu_cloud.guest / "disk.qcow2"), random_name("guest"))
    flavor = cli.run("flavor", "create", "--ram", "128", "--disk", "1", "--vcpus", "1", random_name("q"))
    names = [random_name("gone") for _ in range(3)]
    for name in names:
        cli.run("server", "create", "--nic", "none", "--flavor", flavor["id"], "--image", image["id"], name)
    cli.ok("server", "delete", "--wait", *names)
    assert qemu_pids(str(qemu_cloud.data_dir)) == []
    assert list((qemu_cloud.data_dir / "compute" / "qemu" / "instances").iterdir()) == []
    cli.ok("image", "delete", image["id"])
    cli.ok("flavor", "delete", flavor["id"])


def test_a_flavor_larger_than_the_host_is_not_scheduled(qemu_cloud, qcli):
    cli = qcli
    host_ram = cli.run("hypervisor", "stats", "show")["memory_mb"]
    assert host_ram > 1024  # the host's real RAM, not the fake driver's 64 GB
    huge = cli.run("flavor", "create", "--ram", str(host_ram * 2), "--disk", "1", "--vcpus", "1", random_name("huge"))
    image = cli.run("image", "create", "--disk-format", "qcow2", "--container-format", "bare", "--file",
                    str(qemu_cloud.guest / "disk.qcow2"), random_name("guest"))
    name = random_name("huge")
    assert cli.raw("server", "create", "--nic", "none", "--flavor", huge["id"], "--image", image["id"], "--wait", name).returncode
    shown = cli.run("server", "show", name)
    assert shown["status"] == "ERROR" and "No valid host" in str(shown.get("fault"))
    assert qemu_pids(str(qemu_cloud.data_dir)) == []
    cli.ok("server", "delete", "--wait", name)
    cli.ok("image", "delete", image["id"])
    cli.ok("flavor", "delete", huge["id"])


def test_a_guest_whose_qemu_dies_becomes_shutoff_with_an_event(qemu_cloud, qcli):
    cli = qcli
    image = cli.run("image", "create", "--disk-format", "qcow2", "--container-format", "bare", "--file",
                    str(qemu_cloud.guest / "disk.qcow2"), random_name("guest"))
    flavor = cli.run("flavor", "create", "--ram", "128", "--disk", "1", "--vcpus", "1", random_name("q"))
    name = random_name("vm")
    cli.run("server", "create", "--nic", "none", "--flavor", flavor["id"], "--image", image["id"], "--wait", name)
    (pid,) = qemu_pids(str(qemu_cloud.data_dir))
    os.kill(pid, 9)  # as the OOM killer would
    shown = wait_status(cli, name, "SHUTOFF", timeout=60)  # the power-state sync runs every 10 s
    assert shown["OS-EXT-STS:power_state"] in (0, 4, 6, "NOSTATE", "Shutdown", "Crashed")
    actions = [event["Action"] for event in cli.run("server", "event", "list", name)]
    assert actions[0] == "stop" and "create" in actions
    cli.ok("server", "start", name)  # it boots again from its disk
    wait_status(cli, name, "ACTIVE")
    assert len(qemu_pids(str(qemu_cloud.data_dir))) == 1
    cli.ok("server", "delete", "--wait", name)
    assert qemu_pids(str(qemu_cloud.data_dir)) == []
    cli.ok("image", "delete", image["id"])
    cli.ok("flavor", "delete", flavor["id"])
