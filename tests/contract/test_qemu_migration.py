"""Moves between two QemuHypervisor hosts (two state directories on this machine) seen
from inside the test guest: a cold-migrated guest boots from the same disk (its boot
counter, kept on the disk, goes on) grown to the new flavor; a live-migrated guest keeps
running (the counter its user data prints goes on at the destination, no new boot); an
aborted or failed one keeps running at the source; nothing is left on either host.
The driver-level contract (confirm, revert, rollback, abort, force) is in
test_hypervisor_driver.py; these are the guest's view."""

from __future__ import annotations

import socket
import threading

import pytest

from overcast.compute import power_state as ps
from overcast.compute.drivers import InstanceSpec
from overcast.compute.drivers.errors import HypervisorError, InstanceNotFound, MigrationCancelled
from migrationhosts import TCP, TICKER, last_tick, spec_of, two_hosts
import testguest

pytestmark = pytest.mark.qemu


@pytest.fixture(scope="module")
def guest_dir():
    return testguest.build()


@pytest.fixture
def hosts(tmp_path, guest_dir):
    with two_hosts(tmp_path) as made:
        yield made


def test_cold_migration_boots_the_same_disk_grown_to_the_new_flavor(hosts, guest_dir):
    source, dest = hosts
    spec = spec_of(guest_dir)
    source.spawn(spec)
    testguest.wait_for(lambda: source.get_console_output(spec.uuid), "OVERCAST-READY")
    data = source.migrate_disk_and_power_off(spec.uuid, dest.host)
    assert "OVERCAST-POWEROFF" in source.get_console_output(spec.uuid)  # ACPI first, as power_off
    bigger = InstanceSpec(**{**spec.__dict__, "root_gb": 2, "vcpus": 2})
    dest.finish_migration(bigger, data, power_on=True)
    text = testguest.wait_for(lambda: dest.get_console_output(spec.uuid), "OVERCAST-BOOTCOUNT 2")
    assert text.count("OVERCAST-INIT-START") == 2  # the source's console came along
    from overcast.compute.drivers.qemu import disks

    overlay = dest.state_dir / "instances" / spec.uuid / "disk.qcow2"
    details = disks.info(overlay)
    assert details["virtual-size"] == 2 << 30
    assert details["backing-filename"].startswith(str(dest.state_dir / "images"))  # its own cache
    source.confirm_migration(spec.uuid)
    assert source.list_instances() == [] and dest.get_info(spec.uuid).vcpus == 2


def test_a_failed_finish_migration_leaves_nothing_on_the_destination(hosts, guest_dir):
    source, dest = hosts
    spec = spec_of(guest_dir, config_drive=False)
    source.spawn(spec)
    data = source.migrate_disk_and_power_off(spec.uuid, dest.host)
    with pytest.raises(HypervisorError):
        dest.finish_migration(spec, {**data, "files": {"disk": "/nonexistent/disk.qcow2"}}, power_on=True)
    assert dest.list_instances() == [] and not list((dest.state_dir / "instances").iterdir())
    source.finish_revert_migration(spec.uuid, power_on=True)
    assert source.get_info(spec.uuid).power_state == ps.RUNNING


def test_live_migration_keeps_the_same_guest_running(hosts, guest_dir):
    source, dest = hosts
    spec = spec_of(guest_dir, user_data=TICKER)
    source.spawn(spec)
    testguest.wait_for(lambda: source.get_console_output(spec.uuid), "OVERCAST-UD tick-2")
    data = dest.pre_live_migration(spec, False, source.live_migration_source_data(spec.uuid))
    source.live_migration(spec.uuid, dest.host, data)
    dest.post_live_migration_at_destination(spec.uuid, False)
    last = last_tick(source.get_console_output(spec.uuid))
    source.destroy(spec.uuid)
    text = testguest.wait_for(lambda: dest.get_console_output(spec.uuid), f"OVERCAST-UD tick-{last + 2}")
    assert text.count("OVERCAST-INIT-START") == 1  # the same boot, its console carried over
    assert dest.get_info(spec.uuid).power_state == ps.RUNNING
    console = dest.get_remote_console(spec.uuid, "vnc")
    with socket.socket(socket.AF_UNIX) as sock:  # the destination's own VNC server
        sock.settimeout(10)
        sock.connect(console["path"])
        assert sock.recv(12) == b"RFB 003.008\n"
    dest.power_off(spec.uuid, timeout=20)  # and it is a whole guest there: ACPI works
    assert "OVERCAST-POWEROFF" in dest.get_console_output(spec.uuid)


def test_live_migration_carries_disk_writes_made_during_the_copy(hosts, guest_dir, tmp_path):
    """A guest writing to its disk while it moves: its next boot at the destination
    counts on from what it wrote (the boot counter lives on the disk)."""
    source, dest = hosts
    spec = spec_of(guest_dir)
    source.spawn(spec)
    testguest.wait_for(lambda: source.get_console_output(spec.uuid), "OVERCAST-READY")
    source.reboot(spec.uuid, hard=False)  # the counter is written while the copy may run
    data = dest.pre_live_migration(spec, False, source.live_migration_source_data(spec.uuid))
    source.live_migration(spec.uuid, dest.host, data)
    dest.post_live_migration_at_destination(spec.uuid, False)
    source.destroy(spec.uuid)
    testguest.wait_for(lambda: dest.get_console_output(spec.uuid), "OVERCAST-BOOTCOUNT 2")
    dest.reboot(spec.uuid, hard=True)
    testguest.wait_for(lambda: dest.get_console_output(spec.uuid), "OVERCAST-BOOTCOUNT 3")


def test_an_aborted_live_migration_leaves_the_guest_running_at_the_source(hosts, guest_dir):
    from overcast.compute.drivers.qemu.live import Settings

    source, dest = hosts
    source.live_settings = Settings(bandwidth_mib=1)
    spec = spec_of(guest_dir, user_data=TICKER)
    source.spawn(spec)
    testguest.wait_for(lambda: source.get_console_output(spec.uuid), "OVERCAST-UD tick-2")
    data = dest.pre_live_migration(spec, False, source.live_migration_source_data(spec.uuid))
    raised = []
    thread = threading.Thread(target=lambda: raised.append(_attempt(source, spec, dest, data)))
    thread.start()
    while thread.is_alive():
        source.live_migration_abort(spec.uuid)
        thread.join(0.5)
    assert isinstance(raised[0], MigrationCancelled)
    dest.rollback_live_migration_at_destination(spec.uuid)
    assert dest.list_instances() == []
    last = last_tick(source.get_console_output(spec.uuid))
    text = testguest.wait_for(lambda: source.get_console_output(spec.uuid), f"OVERCAST-UD tick-{last + 2}")
    assert text.count("OVERCAST-INIT-START") == 1


def test_a_live_migration_to_a_vanished_destination_fails_and_the_guest_runs_on(hosts, guest_dir):
    source, dest = hosts
    spec = spec_of(guest_dir, config_drive=False)
    source.spawn(spec)
    data = dest.pre_live_migration(spec, False)
    dest.rollback_live_migration_at_destination(spec.uuid)  # its QEMU and sockets are gone
    with pytest.raises(HypervisorError):
        source.live_migration(spec.uuid, dest.host, data)
    assert source.get_info(spec.uuid).power_state == ps.RUNNING
    with pytest.raises(InstanceNotFound):
        dest.post_live_migration_at_destination(spec.uuid)


def _attempt(source, spec, dest, data):
    try:
        source.live_migration(spec.uuid, dest.host, data)
    except Exception as error:  # noqa: BLE001 (the test checks what it was)
        return error
    return None


# -- the same moves with the transport forced to tcp (as between two machines) ------------------


@pytest.fixture
def tcp_hosts(tmp_path, guest_dir):
    with two_hosts(tmp_path, TCP, peers=True) as made:
        yield made


def test_cold_migration_over_tcp_pulls_the_disks_and_checks_them(tcp_hosts, guest_dir):
    source, dest, peers = tcp_hosts
    spec = spec_of(guest_dir, ephemeral_gb=1)
    source.spawn(spec)
    testguest.wait_for(lambda: source.get_console_output(spec.uuid), "OVERCAST-READY")
    data = source.migrate_disk_and_power_off(spec.uuid, dest.host)
    assert set(data["sums"]) == {"disk", "eph0", "console"} and data["host"] == source.host
    # no path of the source is read: the files must come through the peer reader
    dest.finish_migration(spec, {**data, "files": {name: "/nonexistent" for name in data["files"]}}, power_on=True)
    assert {name for host, name in peers.reads if host == source.host} == {"disk", "eph0", "console"}
    text = testguest.wait_for(lambda: dest.get_console_output(spec.uuid), "OVERCAST-BOOTCOUNT 2")
    assert text.count("OVERCAST-INIT-START") == 2
    source.confirm_migration(spec.uuid)
    assert source.list_instances() == []


def test_a_corrupted_pull_leaves_nothing_on_the_destination(tcp_hosts, guest_dir):
    source, dest, peers = tcp_hosts
    spec = spec_of(guest_dir, config_drive=False)
    source.spawn(spec)
    data = source.migrate_disk_and_power_off(spec.uuid, dest.host)
    peers.corrupt = True
    with pytest.raises(HypervisorError, match="checksum"):
        dest.finish_migration(spec, data, power_on=True)
    assert dest.list_instances() == [] and not list((dest.state_dir / "instances").iterdir())
    source.finish_revert_migration(spec.uuid, power_on=True)
    assert source.get_info(spec.uuid).power_state == ps.RUNNING


def test_live_migration_over_tcp_listens_on_my_ip_and_uses_no_unix_socket(tcp_hosts, guest_dir, monkeypatch):
    from overcast.compute.drivers.qemu import live

    source, dest, peers = tcp_hosts
    sent = []
    execute = live.QMPSession.execute

    def spy(self, command, **arguments):
        sent.append((command, arguments))
        return execute(self, command, **arguments)

    monkeypatch.setattr(live.QMPSession, "execute", spy)
    spec = spec_of(guest_dir, user_data=TICKER)
    source.spawn(spec)
    testguest.wait_for(lambda: source.get_console_output(spec.uuid), "OVERCAST-UD tick-2")
    data = dest.pre_live_migration(spec, False, source.live_migration_source_data(spec.uuid))
    assert data["transport"] == "tcp" and data["uri"].startswith("tcp:127.0.0.1:")
    ports = [int(data["uri"].rsplit(":", 1)[1]), int(data["nbd"].rsplit(":", 1)[1])]
    assert all(49152 <= port <= 49215 for port in ports) and ports[0] != ports[1]
    assert data["nbd"].startswith("127.0.0.1:") and all(len(name) > 32 for name in data["exports"].values())
    pid = int((dest.state_dir / "instances" / spec.uuid / "qemu.pid").read_text())
    cmdline = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
    assert cmdline[cmdline.index(b"-incoming") + 1] == b"defer"
    assert not [p for p in dest.run_dir.iterdir() if p.suffix in (".mig", ".nbd")]
    source.live_migration(spec.uuid, dest.host, data)
    migrates = [args for command, args in sent if command == "migrate"]
    mirrors = [args["target"] for command, args in sent if command == "drive-mirror"]
    assert migrates == [{"uri": data["uri"]}] and mirrors and all(t.startswith("nbd://127.0.0.1:") for t in mirrors)
    dest.post_live_migration_at_destination(spec.uuid, False)
    last = last_tick(source.get_console_output(spec.uuid))
    source.destroy(spec.uuid)
    text = testguest.wait_for(lambda: dest.get_console_output(spec.uuid), f"OVERCAST-UD tick-{last + 2}")
    assert text.count("OVERCAST-INIT-START") == 1  # the same boot; its console pulled from the source
    assert "OVERCAST-UD tick-1\n" in text.replace("\r", "")
    assert dest.get_info(spec.uuid).power_state == ps.RUNNING
    import socket as sockets

    for port in ports:  # the listeners are gone
        with sockets.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0
