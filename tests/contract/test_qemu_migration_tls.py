"""Live migration in TLS and post-copy between two QemuHypervisor hosts on this machine
(``tcp`` transport to 127.0.0.1, each host its own certificates from one CA, made as
``overcast tls`` makes them): the QMP commands carry ``tls-creds`` on both ends (the
stream, the NBD server, the mirrors' NBD targets), a plain NBD client is turned away,
the guest keeps running at the destination; a host without certificates, or with
another CA's, or without TLS, fails cleanly with the guest running at the source. A
forced post-copy migration of a guest that keeps dirtying its memory switches with
``migrate-start-postcopy`` instead of pausing it."""

from __future__ import annotations

import subprocess
import threading

import pytest

from overcast.compute import power_state as ps
from overcast.compute.drivers.errors import HypervisorError
from overcast.compute.drivers.qemu import live, tls
from migrationhosts import TCP, TICKER, last_tick, spec_of, two_hosts
import testguest

pytestmark = pytest.mark.qemu
#: ticks, and dirties 16 MiB of memory over and over (dd's buffer filled from /dev/zero)
DIRTIER = (b"#!/bin/sh\n(while true; do dd if=/dev/zero of=/dev/null bs=16M count=8 2>/dev/null; done) &\n"
           b"n=0; while true; do n=$((n+1)); echo tick-$n; sleep 1; done\n")


@pytest.fixture(scope="module")
def guest_dir():
    return testguest.build()


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    """A CA, each host's certificates, and those of a host of another CA."""
    root = tmp_path_factory.mktemp("tls")
    tls.make_ca(root / "ca")
    tls.make_ca(root / "other-ca")
    for name, ca in (("host1", "ca"), ("host2", "ca"), ("stranger", "other-ca")):
        tls.make_host(root / ca, root / name, name, ["127.0.0.1"])
    return root


def _tls(directory) -> dict:
    return {**TCP, "live_migration": live.Settings(tls=True, tls_dir=str(directory))}


@pytest.fixture
def sent(monkeypatch):
    """Every QMP command either QEMU got: (its QMP socket, command, arguments)."""
    got = []
    execute = live.QMPSession.execute

    def spy(self, command, **arguments):
        got.append((self.path, command, arguments))
        return execute(self, command, **arguments)

    monkeypatch.setattr(live.QMPSession, "execute", spy)
    return got


def _ticking(host, guest_dir):
    spec = spec_of(guest_dir, user_data=TICKER)
    host.spawn(spec)
    testguest.wait_for(lambda: host.get_console_output(spec.uuid), "OVERCAST-UD tick-2")
    return spec


def _runs_on(host, spec, other=None):
    """The guest goes on ticking on ``host`` in the same boot (``other``'s copy destroyed)."""
    last = last_tick((other or host).get_console_output(spec.uuid))
    if other is not None:
        other.destroy(spec.uuid)
    text = testguest.wait_for(lambda: host.get_console_output(spec.uuid), f"OVERCAST-UD tick-{last + 2}")
    assert text.count("OVERCAST-INIT-START") == 1
    assert host.get_info(spec.uuid).power_state == ps.RUNNING


def test_live_migration_in_tls_keeps_the_guest_running_and_no_plain_client_gets_in(tmp_path, guest_dir, certs,
                                                                                  sent):
    with two_hosts(tmp_path, _tls(certs / "host1"), _tls(certs / "host2"), peers=True) as (source, dest, _):
        spec = _ticking(source, guest_dir)
        data = dest.pre_live_migration(spec, False, source.live_migration_source_data(spec.uuid))
        assert data["tls"] is True and data["transport"] == "tcp"
        export = next(iter(data["exports"].values()))
        plain = subprocess.run(["qemu-img", "info", f"nbd://{data['nbd']}/{export}"], capture_output=True,
                               text=True, timeout=60)
        assert plain.returncode != 0 and "TLS" in plain.stderr  # the NBD server wants TLS first
        source.live_migration(spec.uuid, dest.host, data)
        dest.post_live_migration_at_destination(spec.uuid, False)
        _runs_on(dest, spec, other=source)
    at = {str(driver.run_dir): driver.host for driver in (source, dest)}
    by_host = {"host-1": [], "host-2": []}
    for path, command, arguments in sent:
        by_host[next(host for run, host in at.items() if path.startswith(run))].append((command, arguments))
    creds = {"qom-type": "tls-creds-x509", "id": tls.CREDS_ID, "verify-peer": True}
    assert ("object-add", {**creds, "dir": str(certs / "host1"), "endpoint": "client"}) in by_host["host-1"]
    assert ("object-add", {**creds, "dir": str(certs / "host2"), "endpoint": "server"}) in by_host["host-2"]
    incoming = [command for command, arguments in by_host["host-2"]
                if command == "migrate-incoming" or arguments.get("tls-creds") == tls.CREDS_ID]
    assert incoming[:3] == ["migrate-set-parameters", "nbd-server-start", "migrate-incoming"] or \
        incoming[:2] == ["migrate-set-parameters", "migrate-incoming"]
    assert [a for c, a in by_host["host-2"] if c == "nbd-server-start"][0]["tls-creds"] == tls.CREDS_ID
    parameters = [a for c, a in by_host["host-1"] if c == "migrate-set-parameters" and "tls-creds" in a]
    assert parameters[0]["tls-creds"] == tls.CREDS_ID and parameters[0]["tls-hostname"] == "127.0.0.1"
    targets = [a for c, a in by_host["host-1"] if c == "blockdev-add"]
    assert targets and all(t["driver"] == "nbd" and t["tls-creds"] == tls.CREDS_ID for t in targets)
    assert not [c for c, a in by_host["host-1"] if c == "drive-mirror"]  # no target without TLS
    assert "PRIVATE KEY" not in repr(sent)  # QEMU reads the keys itself


def test_a_live_migration_in_tls_to_a_host_without_certificates_fails_cleanly(tmp_path, guest_dir, certs):
    with two_hosts(tmp_path, _tls(certs / "host1"), _tls(tmp_path / "none"), peers=True) as (source, dest, _):
        spec = _ticking(source, guest_dir)
        with pytest.raises(HypervisorError, match="lacks ca-cert.pem"):
            dest.pre_live_migration(spec, False, source.live_migration_source_data(spec.uuid))
        assert dest.list_instances() == [] and not list((dest.state_dir / "instances").iterdir())
        dest.live_settings = live.Settings()  # no TLS there: the source will not send in the clear
        data = dest.pre_live_migration(spec, False, source.live_migration_source_data(spec.uuid))
        with pytest.raises(HypervisorError, match="does not offer"):
            source.live_migration(spec.uuid, dest.host, data)
        dest.rollback_live_migration_at_destination(spec.uuid)
        _runs_on(source, spec)


def test_a_live_migration_to_a_host_of_another_ca_fails_and_the_guest_runs_on(tmp_path, guest_dir, certs):
    with two_hosts(tmp_path, _tls(certs / "host1"), _tls(certs / "stranger"), peers=True) as (source, dest, _):
        spec = _ticking(source, guest_dir)
        data = dest.pre_live_migration(spec, False, source.live_migration_source_data(spec.uuid))
        with pytest.raises(HypervisorError):
            source.live_migration(spec.uuid, dest.host, data)
        dest.rollback_live_migration_at_destination(spec.uuid)
        _runs_on(source, spec)
        source.suspend(spec.uuid)  # no TLS left behind for the next migration (to a file)
        source.resume(spec.uuid)
        _runs_on(source, spec)


def test_a_forced_post_copy_migration_switches_without_pausing_a_guest_that_dirties_memory(tmp_path, guest_dir,
                                                                                          sent):
    post_copy = {"live_migration": live.Settings(bandwidth_mib=1, post_copy=True)}
    with two_hosts(tmp_path, post_copy) as (source, dest):
        switched = []
        source.live.post_copy_listener = switched.append
        spec = spec_of(guest_dir, user_data=DIRTIER)
        source.spawn(spec)
        testguest.wait_for(lambda: source.get_console_output(spec.uuid), "OVERCAST-UD tick-2")
        data = dest.pre_live_migration(spec, False, source.live_migration_source_data(spec.uuid))
        assert data["post_copy"] is True
        failed = []
        thread = threading.Thread(target=lambda: _migrate(source, spec, dest, data, failed))
        thread.start()
        while thread.is_alive():
            source.live_migration_force_complete(spec.uuid)
            thread.join(0.5)
        assert not failed, failed
        assert switched == [spec.uuid]  # reported once, as Nova's 'running (post-copy)'
        dest.post_live_migration_at_destination(spec.uuid, False)
        _runs_on(dest, spec, other=source)
    commands = [command for path, command, arguments in sent if path.startswith(str(source.run_dir))]
    assert "migrate-start-postcopy" in commands and "stop" not in commands  # never paused
    enabled = [a for p, c, a in sent if c == "migrate-set-capabilities"
               and {"capability": "postcopy-ram", "state": True} in a["capabilities"]]
    assert len(enabled) == 2  # both ends


def _migrate(source, spec, dest, data, failed):
    try:
        source.live_migration(spec.uuid, dest.host, data)
    except Exception as error:  # noqa: BLE001 (the test shows it)
        failed.append(error)
