"""One behaviour suite for every HypervisorDriver: the fake now, QEMU later.

``HypervisorDriverContract`` holds the behaviours; each implementation subclasses it with
a ``driver`` fixture (``init_host`` already called, everything destroyed afterwards),
``new_spec()`` (a spec that boots on that driver) and ``failing_spec()`` (one whose spawn
must fail). Optional behaviours skip when the driver's capability flag is False, and
``test_capability_flags_are_honest`` checks each flag against its methods either way.
Implementation-specific behaviours (failure knobs, resolving by alias) live in the
subclasses and at the bottom.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import subprocess
import threading
import time
import uuid as uuidlib

import pytest

from overcast.common.errors import Conflict, NotFound, OvercastError, Unimplemented
from overcast.compute import power_state as ps
from overcast.compute.drivers import (Capabilities, HypervisorDriver, ImageRef, InstanceSpec, UnknownHypervisorDriver,
                                      make_driver, resolve_driver)
from overcast.compute.drivers.errors import (DeviceBusy, DriverCapabilityError, HypervisorError, InstanceBuildFailed,
                                             InstanceExists,
                                             InstanceInvalidState, InstanceNotFound, InstanceRebootFailed,
                                             MigrationCancelled, ResizeError)
from overcast.compute.drivers.fake import FakeHypervisor
import testguest  # noqa: E402  (tests/ is on sys.path: tests/conftest.py)

GiB = 1 << 30


def volume(volume_id: str | None = None) -> dict:
    volume_id = volume_id or str(uuidlib.uuid4())
    return {"driver_volume_type": "file", "serial": volume_id, "data": {"path": f"/nonexistent/{volume_id}"}}


def vif(port_id: str | None = None) -> dict:
    return {"id": port_id or str(uuidlib.uuid4()), "mac": "fa:16:3e:00:00:11", "devname": "tapfake0",
            "bridge": "brqfake", "mtu": 1450}


# Every operation that names an instance: (name, capability flag or None, call).
OPERATIONS = [
    ("reboot", None, lambda d, u: d.reboot(u, hard=True)),
    ("power_off", None, lambda d, u: d.power_off(u, timeout=0)),
    ("power_on", None, lambda d, u: d.power_on(u)),
    ("get_info", None, lambda d, u: d.get_info(u)),
    ("pause", "supports_pause", lambda d, u: d.pause(u)),
    ("unpause", "supports_pause", lambda d, u: d.unpause(u)),
    ("suspend", "supports_suspend", lambda d, u: d.suspend(u)),
    ("resume", "supports_suspend", lambda d, u: d.resume(u)),
    ("snapshot", "supports_snapshot", lambda d, u: d.snapshot(u, lambda chunk: None)),
    ("resize", "supports_resize",
     lambda d, u: d.resize(u, InstanceSpec(uuid=u, name="x", vcpus=2, memory_mb=256, root_gb=2))),
    ("confirm_resize", "supports_resize", lambda d, u: d.confirm_resize(u)),
    ("revert_resize", "supports_resize", lambda d, u: d.revert_resize(u)),
    ("attach_volume", "supports_attach_volume", lambda d, u: d.attach_volume(u, volume())),
    ("detach_volume", "supports_attach_volume", lambda d, u: d.detach_volume(u, volume())),
    ("attach_interface", "supports_attach_interface", lambda d, u: d.attach_interface(u, vif())),
    ("detach_interface", "supports_attach_interface", lambda d, u: d.detach_interface(u, vif())),
    ("get_console_output", "supports_console_output", lambda d, u: d.get_console_output(u)),
    ("get_remote_console", "supports_remote_console", lambda d, u: d.get_remote_console(u, "vnc")),
    ("rescue", "supports_rescue", lambda d, u: d.rescue(u, ImageRef(id="rescue", path="/nonexistent"))),
    ("unrescue", "supports_rescue", lambda d, u: d.unrescue(u)),
    ("get_diagnostics", "supports_diagnostics", lambda d, u: d.get_diagnostics(u)),
    ("migrate_disk_and_power_off", "supports_migrate", lambda d, u: d.migrate_disk_and_power_off(u, "elsewhere")),
    ("finish_revert_migration", "supports_migrate", lambda d, u: d.finish_revert_migration(u, True)),
    ("live_migration", "supports_live_migration", lambda d, u: d.live_migration(u, "elsewhere", {})),
    ("post_live_migration_at_destination", "supports_live_migration",
     lambda d, u: d.post_live_migration_at_destination(u)),
]
# Optional operations that make an instance or accept a missing one (no NotFound to check).
LENIENT = [
    ("finish_migration", "supports_migrate",
     lambda d, u: d.finish_migration(InstanceSpec(uuid=str(uuidlib.uuid4()), name="x", vcpus=1, memory_mb=128,
                                                  root_gb=1), {}, True)),
    ("confirm_migration", "supports_migrate", lambda d, u: d.confirm_migration(u)),
    ("pre_live_migration", "supports_live_migration",
     lambda d, u: d.pre_live_migration(InstanceSpec(uuid=str(uuidlib.uuid4()), name="x", vcpus=1, memory_mb=128,
                                                    root_gb=1), False)),
    ("rollback_live_migration_at_destination", "supports_live_migration",
     lambda d, u: d.rollback_live_migration_at_destination(u)),
    ("live_migration_abort", "supports_live_migration", lambda d, u: d.live_migration_abort(u)),
    ("live_migration_force_complete", "supports_live_migration", lambda d, u: d.live_migration_force_complete(u)),
]
OPTIONAL = [op for op in OPERATIONS + LENIENT if op[1]]


class HypervisorDriverContract:
    def new_spec(self, **changes) -> InstanceSpec:
        raise NotImplementedError

    def failing_spec(self) -> InstanceSpec:
        raise NotImplementedError

    @staticmethod
    def need(driver, flag: str) -> None:
        if not getattr(driver.capabilities, flag):
            pytest.skip(f"{driver.name} has no {flag}")

    def spawned(self, driver, **changes) -> InstanceSpec:
        spec = self.new_spec(**changes)
        driver.spawn(spec)
        return spec

    def state(self, driver, uuid: str) -> int:
        return driver.get_info(uuid).power_state

    # -- lifecycle ---------------------------------------------------------------

    def test_spawn_makes_a_running_instance(self, driver):
        spec = self.spawned(driver)
        info = driver.get_info(spec.uuid)
        assert info.power_state == ps.RUNNING
        assert (info.vcpus, info.memory_mb) == (spec.vcpus, spec.memory_mb)
        assert spec.uuid in driver.list_instances()

    def test_spawn_of_an_existing_uuid_raises_instance_exists(self, driver):
        spec = self.spawned(driver)
        with pytest.raises(InstanceExists):
            driver.spawn(spec)
        assert self.state(driver, spec.uuid) == ps.RUNNING

    def test_failed_spawn_leaves_nothing(self, driver):
        self.spawned(driver)
        before, resources = driver.list_instances(), driver.host_resources()
        spec = self.failing_spec()
        with pytest.raises(InstanceBuildFailed):
            driver.spawn(spec)
        assert driver.list_instances() == before
        assert driver.host_resources() == resources
        with pytest.raises(InstanceNotFound):
            driver.get_info(spec.uuid)
        driver.destroy(spec.uuid)

    def test_destroy_removes_the_instance(self, driver):
        spec = self.spawned(driver)
        driver.destroy(spec.uuid, spec)
        assert spec.uuid not in driver.list_instances()
        with pytest.raises(InstanceNotFound):
            driver.get_info(spec.uuid)

    def test_destroy_of_a_missing_instance_succeeds(self, driver):
        spec = self.spawned(driver)
        driver.destroy(spec.uuid)
        driver.destroy(spec.uuid)
        driver.destroy(str(uuidlib.uuid4()))

    def test_destroy_of_a_stopped_instance(self, driver):
        spec = self.spawned(driver)
        driver.power_off(spec.uuid, timeout=0)
        driver.destroy(spec.uuid)
        assert spec.uuid not in driver.list_instances()

    def test_list_instances_holds_every_power_state_sorted(self, driver):
        running, stopped = self.spawned(driver), self.spawned(driver)
        driver.power_off(stopped.uuid, timeout=0)
        listed = driver.list_instances()
        assert listed == sorted(listed)
        assert {running.uuid, stopped.uuid} <= set(listed)

    @pytest.mark.parametrize("hard", [False, True])
    def test_reboot_ends_running(self, driver, hard):
        spec = self.spawned(driver)
        driver.reboot(spec.uuid, hard=hard)
        assert self.state(driver, spec.uuid) == ps.RUNNING

    @pytest.mark.parametrize("hard", [False, True])
    def test_reboot_of_a_stopped_instance_starts_it(self, driver, hard):
        spec = self.spawned(driver)
        driver.power_off(spec.uuid, timeout=0)
        driver.reboot(spec.uuid, hard=hard)
        assert self.state(driver, spec.uuid) == ps.RUNNING

    def test_power_off_then_on(self, driver):
        spec = self.spawned(driver)
        driver.power_off(spec.uuid, timeout=0)
        assert self.state(driver, spec.uuid) == ps.SHUTDOWN
        assert spec.uuid in driver.list_instances()
        driver.power_on(spec.uuid)
        assert self.state(driver, spec.uuid) == ps.RUNNING

    def test_power_off_and_on_are_idempotent(self, driver):
        spec = self.spawned(driver)
        driver.power_on(spec.uuid)
        assert self.state(driver, spec.uuid) == ps.RUNNING
        driver.power_off(spec.uuid, timeout=0)
        driver.power_off(spec.uuid, timeout=0)
        assert self.state(driver, spec.uuid) == ps.SHUTDOWN

    def test_rebuild_keeps_the_uuid_and_runs(self, driver):
        spec = self.spawned(driver)
        driver.power_off(spec.uuid, timeout=0)
        driver.rebuild(spec)
        assert driver.list_instances().count(spec.uuid) == 1
        assert self.state(driver, spec.uuid) == ps.RUNNING

    def test_rebuild_of_a_missing_instance_raises_not_found(self, driver):
        with pytest.raises(InstanceNotFound):
            driver.rebuild(self.new_spec())

    @pytest.mark.parametrize("name,flag,call", OPERATIONS, ids=[op[0] for op in OPERATIONS])
    def test_operations_on_a_missing_instance_raise_not_found(self, driver, name, flag, call):
        if flag:
            self.need(driver, flag)
        missing = str(uuidlib.uuid4())  # detaching from a missing *instance* is an error too
        with pytest.raises(InstanceNotFound) as raised:
            call(driver, missing)
        assert isinstance(raised.value, NotFound) and raised.value.status == 404
        assert missing in str(raised.value)

    # -- pause, suspend ------------------------------------------------------------

    def test_pause_and_unpause(self, driver):
        self.need(driver, "supports_pause")
        spec = self.spawned(driver)
        driver.pause(spec.uuid)
        assert self.state(driver, spec.uuid) == ps.PAUSED
        driver.pause(spec.uuid)
        assert self.state(driver, spec.uuid) == ps.PAUSED
        driver.unpause(spec.uuid)
        assert self.state(driver, spec.uuid) == ps.RUNNING
        driver.unpause(spec.uuid)
        assert self.state(driver, spec.uuid) == ps.RUNNING

    def test_pause_of_a_stopped_instance_is_invalid(self, driver):
        self.need(driver, "supports_pause")
        spec = self.spawned(driver)
        driver.power_off(spec.uuid, timeout=0)
        with pytest.raises(InstanceInvalidState) as raised:
            driver.pause(spec.uuid)
        assert isinstance(raised.value, Conflict)
        assert self.state(driver, spec.uuid) == ps.SHUTDOWN

    def test_power_on_of_a_paused_instance_is_invalid(self, driver):
        self.need(driver, "supports_pause")
        spec = self.spawned(driver)
        driver.pause(spec.uuid)
        with pytest.raises(InstanceInvalidState):
            driver.power_on(spec.uuid)
        assert self.state(driver, spec.uuid) == ps.PAUSED

    def test_power_off_of_a_paused_instance(self, driver):
        self.need(driver, "supports_pause")
        spec = self.spawned(driver)
        driver.pause(spec.uuid)
        driver.power_off(spec.uuid, timeout=0)
        assert self.state(driver, spec.uuid) == ps.SHUTDOWN

    def test_suspend_and_resume(self, driver):
        self.need(driver, "supports_suspend")
        spec = self.spawned(driver)
        driver.suspend(spec.uuid)
        assert self.state(driver, spec.uuid) == ps.SUSPENDED
        driver.suspend(spec.uuid)
        driver.resume(spec.uuid)
        assert self.state(driver, spec.uuid) == ps.RUNNING
        driver.resume(spec.uuid)
        assert self.state(driver, spec.uuid) == ps.RUNNING

    def test_suspend_of_a_paused_instance(self, driver):
        self.need(driver, "supports_suspend")
        self.need(driver, "supports_pause")
        spec = self.spawned(driver)
        driver.pause(spec.uuid)
        driver.suspend(spec.uuid)
        assert self.state(driver, spec.uuid) == ps.SUSPENDED

    def test_suspend_or_resume_of_a_stopped_instance_is_invalid(self, driver):
        self.need(driver, "supports_suspend")
        spec = self.spawned(driver)
        driver.power_off(spec.uuid, timeout=0)
        for call in (driver.suspend, driver.resume):
            with pytest.raises(InstanceInvalidState):
                call(spec.uuid)
        assert self.state(driver, spec.uuid) == ps.SHUTDOWN

    # -- host resources --------------------------------------------------------------

    def test_host_resources_count_every_instance(self, driver):
        before = driver.host_resources()
        a = self.spawned(driver, vcpus=1, memory_mb=128, root_gb=1)
        b = self.spawned(driver, vcpus=2, memory_mb=256, root_gb=2, ephemeral_gb=1, swap_mb=512)
        driver.power_off(b.uuid, timeout=0)
        now = driver.host_resources()
        assert now.vcpus_used - before.vcpus_used == 3
        assert now.memory_mb_used - before.memory_mb_used == 384
        assert now.local_gb_used - before.local_gb_used == 1 + 2 + 1 + 1
        assert now.running_vms - before.running_vms == 1
        assert (now.vcpus, now.memory_mb, now.local_gb) == (before.vcpus, before.memory_mb, before.local_gb)
        driver.destroy(a.uuid)
        driver.destroy(b.uuid)
        assert driver.host_resources() == before

    def test_host_resources_describe_the_host(self, driver):
        resources = driver.host_resources()
        assert resources.hypervisor_hostname == self.host
        assert resources.vcpus > 0 and resources.memory_mb > 0 and resources.local_gb > 0
        assert isinstance(resources.hypervisor_version, int) and resources.hypervisor_type
        assert isinstance(resources.cpu_info, dict)

    # -- snapshot, resize, rescue ------------------------------------------------------

    def test_snapshot_to_a_callable_and_to_a_path(self, driver, tmp_path):
        self.need(driver, "supports_snapshot")
        spec = self.spawned(driver)
        chunks: list[bytes] = []
        info = driver.snapshot(spec.uuid, chunks.append)
        assert info.size == sum(map(len, chunks)) > 0
        assert info.virtual_size == spec.root_gb * GiB
        assert info.disk_format in ("qcow2", "raw")
        target = tmp_path / "snap"
        info2 = driver.snapshot(spec.uuid, target)
        assert target.stat().st_size == info2.size
        assert self.state(driver, spec.uuid) == ps.RUNNING

    def test_resize_then_confirm_releases_the_old_flavor(self, driver):
        self.need(driver, "supports_resize")
        spec = self.spawned(driver, vcpus=1, memory_mb=128, root_gb=1)
        before = driver.host_resources()
        driver.resize(spec.uuid, dataclasses.replace(spec, vcpus=2, memory_mb=256, root_gb=2))
        info = driver.get_info(spec.uuid)
        assert (info.power_state, info.vcpus, info.memory_mb) == (ps.RUNNING, 2, 256)
        pending = driver.host_resources()  # the old flavor stays claimed until confirm/revert
        assert (pending.vcpus_used - before.vcpus_used, pending.memory_mb_used - before.memory_mb_used) == (2, 256)
        with pytest.raises(InstanceInvalidState):
            driver.resize(spec.uuid, dataclasses.replace(spec, vcpus=4, root_gb=3))
        driver.confirm_resize(spec.uuid)
        driver.confirm_resize(spec.uuid)
        after = driver.host_resources()
        assert (after.vcpus_used - before.vcpus_used, after.memory_mb_used - before.memory_mb_used,
                after.local_gb_used - before.local_gb_used) == (1, 128, 1)
        with pytest.raises(InstanceInvalidState):
            driver.revert_resize(spec.uuid)

    def test_resize_then_revert_restores_the_old_flavor_and_state(self, driver):
        self.need(driver, "supports_resize")
        spec = self.spawned(driver, vcpus=1, memory_mb=128, root_gb=1)
        driver.power_off(spec.uuid, timeout=0)
        before = driver.host_resources()
        driver.resize(spec.uuid, dataclasses.replace(spec, vcpus=2, memory_mb=256, root_gb=2))
        assert self.state(driver, spec.uuid) == ps.SHUTDOWN
        driver.revert_resize(spec.uuid)
        info = driver.get_info(spec.uuid)
        assert (info.power_state, info.vcpus, info.memory_mb) == (ps.SHUTDOWN, 1, 128)
        assert driver.host_resources() == before

    def test_resize_down_is_refused(self, driver):
        self.need(driver, "supports_resize")
        spec = self.spawned(driver, root_gb=2)
        with pytest.raises(ResizeError):
            driver.resize(spec.uuid, dataclasses.replace(spec, root_gb=1))
        assert driver.get_info(spec.uuid).power_state == ps.RUNNING
        driver.confirm_resize(spec.uuid)

    def test_rescue_and_unrescue(self, driver):
        self.need(driver, "supports_rescue")
        spec = self.spawned(driver)
        driver.rescue(spec.uuid, spec.image)
        assert self.state(driver, spec.uuid) == ps.RUNNING
        with pytest.raises(InstanceInvalidState):
            driver.rescue(spec.uuid, spec.image)
        driver.unrescue(spec.uuid)
        driver.unrescue(spec.uuid)
        assert self.state(driver, spec.uuid) == ps.RUNNING

    # -- volumes, interfaces --------------------------------------------------------------

    def test_attach_and_detach_a_volume(self, driver):
        self.need(driver, "supports_attach_volume")
        spec = self.spawned(driver)
        info = volume()
        device = driver.attach_volume(spec.uuid, info)
        assert device.startswith("/dev/") and device != "/dev/vda"
        with pytest.raises(DeviceBusy):
            driver.attach_volume(spec.uuid, info)
        with pytest.raises(DeviceBusy):
            driver.attach_volume(spec.uuid, volume(), device)
        assert driver.attach_volume(spec.uuid, volume(), "/dev/vdz") == "/dev/vdz"
        driver.detach_volume(spec.uuid, info, device)
        driver.detach_volume(spec.uuid, info, device)
        assert driver.attach_volume(spec.uuid, info) == device

    def test_attach_and_detach_an_interface(self, driver):
        self.need(driver, "supports_attach_interface")
        spec = self.spawned(driver)
        port = vif()
        driver.attach_interface(spec.uuid, port)
        with pytest.raises(DeviceBusy):
            driver.attach_interface(spec.uuid, port)
        driver.detach_interface(spec.uuid, port)
        driver.detach_interface(spec.uuid, port)
        driver.attach_interface(spec.uuid, port)

    # -- consoles, diagnostics ---------------------------------------------------------------

    def test_console_output_is_per_instance_and_stable(self, driver):
        self.need(driver, "supports_console_output")
        a, b = self.spawned(driver), self.spawned(driver)
        text = driver.get_console_output(a.uuid)
        assert isinstance(text, str) and text
        assert driver.get_console_output(a.uuid) == text
        assert driver.get_console_output(b.uuid) != text
        last = driver.get_console_output(a.uuid, max_lines=2)
        assert last == "".join(text.splitlines(keepends=True)[-2:])
        driver.power_off(a.uuid, timeout=0)
        assert driver.get_console_output(a.uuid) == text

    def test_remote_console_says_where_to_connect(self, driver):
        self.need(driver, "supports_remote_console")
        spec = self.spawned(driver)
        console = driver.get_remote_console(spec.uuid, "vnc")
        assert console["kind"] == "vnc" and console["host"]
        assert isinstance(console["port"], int) or console["path"]  # TCP, or a unix socket
        assert {"internal_access_path", "path"} <= set(console)
        assert driver.get_remote_console(spec.uuid, "vnc") == console
        with pytest.raises(DriverCapabilityError):
            driver.get_remote_console(spec.uuid, "carrier-pigeon")
        driver.power_off(spec.uuid, timeout=0)
        with pytest.raises(InstanceInvalidState):
            driver.get_remote_console(spec.uuid, "vnc")

    def test_diagnostics_follow_nova_and_hide_backend_ids(self, driver):
        self.need(driver, "supports_diagnostics")
        spec = self.spawned(driver, vifs=[vif()])
        diagnostics = driver.get_diagnostics(spec.uuid)
        assert diagnostics["state"] == "running"
        assert diagnostics["num_cpus"] == spec.vcpus and diagnostics["num_nics"] == 1
        assert diagnostics["memory_details"]["maximum"] == spec.memory_mb
        text = repr(diagnostics)
        assert "tapfake0" not in text and "brqfake" not in text

    # -- capabilities ---------------------------------------------------------------------------

    # -- moves between hosts: ``other`` is a second host's driver -------------------------

    @pytest.fixture
    def other(self, driver):
        if not (driver.capabilities.supports_migrate or driver.capabilities.supports_live_migration):
            pytest.skip(f"{driver.name} moves no instances between hosts")
        second = self.other_host_driver()
        second.init_host(f"{self.host}-2")
        yield second
        for uuid in second.list_instances():
            second.destroy(uuid)
        run_dir = getattr(second, "run_dir", None)
        if run_dir is not None and run_dir.is_dir():
            assert list(run_dir.iterdir()) == []  # no QMP, VNC, NBD or migration socket left
            run_dir.rmdir()

    def other_host_driver(self) -> HypervisorDriver:
        raise NotImplementedError

    def test_cold_migration_then_confirm_leaves_only_the_destination_copy(self, driver, other):
        self.need(driver, "supports_migrate")
        spec = self.spawned(driver)
        data = driver.migrate_disk_and_power_off(spec.uuid, other.host)
        assert self.state(driver, spec.uuid) == ps.SHUTDOWN
        other.finish_migration(dataclasses.replace(spec, vcpus=2), data, power_on=True)
        assert self.state(other, spec.uuid) == ps.RUNNING
        assert other.host_resources().vcpus_used == 2
        driver.confirm_migration(spec.uuid)
        driver.confirm_migration(spec.uuid)  # nothing kept: a no-op
        assert spec.uuid not in driver.list_instances()
        assert driver.host_resources().vcpus_used == 0

    def test_cold_migration_then_revert_runs_the_source_copy_again(self, driver, other):
        self.need(driver, "supports_migrate")
        spec = self.spawned(driver)
        data = driver.migrate_disk_and_power_off(spec.uuid, other.host)
        other.finish_migration(spec, data, power_on=False)
        assert self.state(other, spec.uuid) == ps.SHUTDOWN
        other.destroy(spec.uuid)
        driver.finish_revert_migration(spec.uuid, power_on=True)
        assert self.state(driver, spec.uuid) == ps.RUNNING
        assert other.list_instances() == []
        with pytest.raises(InstanceNotFound):
            other.finish_revert_migration(spec.uuid, power_on=True)

    @pytest.mark.parametrize("paused", [False, True])
    def test_live_migration_moves_a_running_or_paused_guest(self, driver, other, paused):
        self.need(driver, "supports_live_migration")
        spec = self.spawned(driver)
        if paused:
            self.need(driver, "supports_pause")
            driver.pause(spec.uuid)
        data = other.pre_live_migration(spec, paused)
        driver.live_migration(spec.uuid, other.host, data)
        other.post_live_migration_at_destination(spec.uuid, paused)
        driver.destroy(spec.uuid)
        assert self.state(other, spec.uuid) == (ps.PAUSED if paused else ps.RUNNING)
        assert driver.list_instances() == [] and other.list_instances() == [spec.uuid]

    def test_live_migration_rolled_back_leaves_the_destination_empty(self, driver, other):
        self.need(driver, "supports_live_migration")
        spec = self.spawned(driver)
        other.pre_live_migration(spec, False)
        other.rollback_live_migration_at_destination(spec.uuid)
        other.rollback_live_migration_at_destination(spec.uuid)
        assert other.list_instances() == []
        assert self.state(driver, spec.uuid) == ps.RUNNING
        with pytest.raises(InstanceNotFound):
            driver.live_migration(str(uuidlib.uuid4()), other.host, {})


    def slow_live_migration(self, driver) -> None:
        """Make ``driver``'s live migrations run until aborted or forced."""
        raise NotImplementedError

    def _signal_while_migrating(self, driver, other, spec, signal: str) -> Exception | None:
        """Live-migrate ``spec`` in a thread, sending ``signal`` (abort, force_complete)
        until the migration returns; what it raised."""
        self.need(driver, "supports_live_migration")
        self.slow_live_migration(driver)
        data = other.pre_live_migration(spec, False)
        raised: list[Exception] = []

        def run():
            try:
                driver.live_migration(spec.uuid, other.host, data)
            except Exception as error:  # noqa: BLE001 (handed to the test)
                raised.append(error)

        thread = threading.Thread(target=run)
        thread.start()
        deadline = time.monotonic() + 120
        while thread.is_alive():
            getattr(driver, f"live_migration_{signal}")(spec.uuid)  # a no-op until it runs
            thread.join(0.2)
            if time.monotonic() > deadline:
                driver.live_migration_abort(spec.uuid)
                thread.join()
                pytest.fail(f"live_migration_{signal} did not end the migration")
        return raised[0] if raised else None

    def test_live_migration_aborted_keeps_the_guest_here(self, driver, other):
        spec = self.spawned(driver)
        assert isinstance(self._signal_while_migrating(driver, other, spec, "abort"), MigrationCancelled)
        other.rollback_live_migration_at_destination(spec.uuid)
        assert other.list_instances() == [] and self.state(driver, spec.uuid) == ps.RUNNING
        driver.live_migration_abort(spec.uuid)  # nothing migrating: a no-op

    def test_live_migration_forced_to_complete_runs_at_the_destination(self, driver, other):
        spec = self.spawned(driver)
        assert self._signal_while_migrating(driver, other, spec, "force_complete") is None
        other.post_live_migration_at_destination(spec.uuid, False)
        driver.destroy(spec.uuid)
        assert self.state(other, spec.uuid) == ps.RUNNING and driver.list_instances() == []

    @pytest.mark.parametrize("name,flag,call", OPTIONAL, ids=[op[0] for op in OPTIONAL])
    def test_capability_flags_are_honest(self, driver, name, flag, call):
        spec = self.spawned(driver)
        if getattr(driver.capabilities, flag):
            try:
                call(driver, spec.uuid)
            except DriverCapabilityError:
                pytest.fail(f"{driver.name} sets {flag} but {name} raised DriverCapabilityError")
            except OvercastError:
                pass  # a state error is fine; only the capability matters here
        else:
            with pytest.raises(DriverCapabilityError) as raised:
                call(driver, spec.uuid)
            assert isinstance(raised.value, Unimplemented) and raised.value.status == 501

    def test_shelve_needs_snapshot(self, driver):
        caps = driver.capabilities
        assert not caps.supports_shelve or caps.supports_snapshot


class FakeSpecs:
    host = "compute-1"

    def other_host_driver(self) -> HypervisorDriver:
        return FakeHypervisor()

    def slow_live_migration(self, driver) -> None:
        driver.live_migration_seconds = 600

    def new_spec(self, **changes) -> InstanceSpec:
        uuid = str(uuidlib.uuid4())
        values = dict(uuid=uuid, name=f"vm-{uuid[:8]}", vcpus=1, memory_mb=128, root_gb=1,
                      image=ImageRef(id="cirros", path="/images/cirros.qcow2", virtual_size=GiB))
        values.update(changes)
        return InstanceSpec(**values)

    def failing_spec(self) -> InstanceSpec:
        return self.new_spec(name="will-fail", block_devices=[{"connection_info": volume(), "device": None}],
                             vifs=[vif()])


class TestFakeHypervisor(FakeSpecs, HypervisorDriverContract):
    @pytest.fixture
    def driver(self):
        driver = FakeHypervisor(fail_spawn_on={"will-fail"})
        driver.init_host(self.host)
        yield driver
        for uuid in driver.list_instances():
            driver.destroy(uuid)

    def test_every_capability_is_on(self, driver):
        assert all(driver.capabilities.as_dict().values())

    def test_fail_spawn_on_a_callable(self):
        driver = FakeHypervisor(fail_spawn_on=lambda spec: spec.memory_mb > 1024)
        driver.spawn(self.new_spec(memory_mb=512))
        with pytest.raises(InstanceBuildFailed):
            driver.spawn(self.new_spec(memory_mb=2048))
        assert len(driver.list_instances()) == 1

    def test_spawn_with_a_broken_vif_fails_and_leaves_nothing(self, driver):
        with pytest.raises(InstanceBuildFailed):
            driver.spawn(self.new_spec(vifs=[vif("p1"), vif("p1")]))
        assert driver.list_instances() == []

    def test_fail_reboot_leaves_the_instance_as_it_was(self):
        driver = FakeHypervisor(fail_reboot=True)
        spec = self.new_spec()
        driver.spawn(spec)
        driver.power_off(spec.uuid, timeout=0)
        with pytest.raises(InstanceRebootFailed) as raised:
            driver.reboot(spec.uuid, hard=True)
        assert raised.value.status == 500
        assert driver.get_info(spec.uuid).power_state == ps.SHUTDOWN

    def test_spawn_records_block_devices_and_vifs(self, driver):
        spec = self.spawned(driver, block_devices=[{"connection_info": volume("v1"), "device": "/dev/vdb"}],
                            vifs=[vif("p1")])
        inst = driver.instances[spec.uuid]
        assert list(inst.volumes) == ["/dev/vdb"] and list(inst.vifs) == ["p1"]
        assert driver.attach_volume(spec.uuid, volume()) == "/dev/vdc"

    def test_console_output_ends_with_the_ready_marker(self, driver):
        spec = self.spawned(driver)
        assert driver.get_console_output(spec.uuid, max_lines=1) == f"OVERCAST-READY {spec.uuid}\n"
        assert driver.get_console_output(spec.uuid, max_lines=0) == ""


class TestFakeHypervisorWithoutCapabilities(FakeSpecs, HypervisorDriverContract):
    """The same suite with every optional feature switched off: optional behaviours skip,
    and each optional method must raise DriverCapabilityError."""

    @pytest.fixture
    def driver(self):
        driver = FakeHypervisor(fail_spawn_on={"will-fail"}, capabilities=Capabilities())
        driver.init_host(self.host)
        yield driver

    def test_every_capability_is_off(self, driver):
        assert not any(driver.capabilities.as_dict().values())


@pytest.fixture(scope="module")
def test_guest():
    return testguest.build()


@pytest.mark.qemu
class TestQemuHypervisor(HypervisorDriverContract):
    """The contract against real QEMU guests (TCG: the test guest boots in seconds).
    Every spawn starts a real qemu-system-x86_64; destroy must leave no process or file."""

    host = "qemu-contract-host"

    @pytest.fixture
    def driver(self, tmp_path, test_guest):
        from overcast.compute.drivers.qemu import QemuHypervisor

        self.guest, self.tmp = test_guest, tmp_path
        driver = QemuHypervisor(state_dir=tmp_path / "qemu", accel="tcg", soft_reboot_timeout=3)
        driver.init_host(self.host)
        yield driver
        for uuid in driver.list_instances():
            driver.destroy(uuid)
        assert list((tmp_path / "qemu" / "instances").iterdir()) == []
        assert not _qemu_processes(str(tmp_path))
        assert list(driver.run_dir.iterdir()) == []  # no QMP socket left
        driver.run_dir.rmdir()  # tmp_path is too long for sockets: they live under /tmp

    def new_spec(self, **changes) -> InstanceSpec:
        uuid = str(uuidlib.uuid4())
        values = dict(uuid=uuid, name=f"vm-{uuid[:8]}", vcpus=1, memory_mb=128, root_gb=1,
                      image=ImageRef(id="test-guest", path=str(self.guest / "disk.qcow2"), virtual_size=64 << 20))
        values.update(changes)
        return InstanceSpec(**values)

    def failing_spec(self) -> InstanceSpec:
        return self.new_spec(image=ImageRef(id="missing-image", path="/nonexistent/disk.qcow2"))

    def other_host_driver(self, **options) -> HypervisorDriver:
        """A second host: its own state directory (and run directory) on this machine."""
        from overcast.compute.drivers.qemu import QemuHypervisor

        return QemuHypervisor(state_dir=self.tmp / "qemu-2", accel="tcg", soft_reboot_timeout=3, **options)

    def slow_live_migration(self, driver) -> None:
        from overcast.compute.drivers.qemu.live import Settings

        driver.live_settings = Settings(bandwidth_mib=1)  # tens of seconds for the test guest's memory

    def test_console_output_is_per_instance_and_stable(self, driver):
        # with a config drive each guest prints its own uuid: two guests without one can
        # print the very same lines (same boot, same uptimes to the hundredth)
        a, b = self.spawned(driver, config_drive=True), self.spawned(driver, config_drive=True)
        for spec in (a, b):  # a booting guest's console grows: compare quiet ones
            testguest.wait_for(lambda: driver.get_console_output(spec.uuid), "OVERCAST-READY")
        text = driver.get_console_output(a.uuid)
        assert "OVERCAST-READY" in text and "OVERCAST-NICS none" in text
        assert f"OVERCAST-CONFIGDRIVE uuid={a.uuid}" in text
        assert driver.get_console_output(a.uuid) == text
        other = driver.get_console_output(b.uuid)
        assert f"OVERCAST-CONFIGDRIVE uuid={b.uuid}" in other and a.uuid not in other
        assert driver.get_console_output(a.uuid, max_lines=2) == "".join(text.splitlines(keepends=True)[-2:])
        driver.power_off(a.uuid, timeout=0)
        assert driver.get_console_output(a.uuid) == text

    def test_the_guest_boots_and_stops_cleanly_by_acpi(self, driver):
        spec = self.spawned(driver)
        testguest.wait_for(lambda: driver.get_console_output(spec.uuid), "OVERCAST-READY")
        driver.power_off(spec.uuid, timeout=30)
        assert "OVERCAST-POWEROFF" in driver.get_console_output(spec.uuid)
        driver.power_on(spec.uuid)
        text = testguest.wait_for(lambda: driver.get_console_output(spec.uuid), "OVERCAST-BOOTCOUNT 2")
        assert text.count("OVERCAST-INIT-START") == 2

    def test_hard_reboot_resets_the_same_process(self, driver):
        spec = self.spawned(driver)
        testguest.wait_for(lambda: driver.get_console_output(spec.uuid), "OVERCAST-BOOTCOUNT 1")
        driver.reboot(spec.uuid, hard=True)
        testguest.wait_for(lambda: driver.get_console_output(spec.uuid), "OVERCAST-BOOTCOUNT 2")

    def test_the_vnc_socket_greets_and_survives_stop_start_and_suspend(self, driver):
        import socket

        def greeting(console: dict) -> bytes:
            with socket.socket(socket.AF_UNIX) as sock:
                sock.settimeout(10)
                sock.connect(console["path"])
                return sock.recv(12)

        spec = self.spawned(driver)
        console = driver.get_remote_console(spec.uuid, "vnc")
        assert console["port"] is None and console["path"].endswith(f"{spec.uuid}.vnc")
        assert greeting(console) == b"RFB 003.008\n"
        driver.power_off(spec.uuid, timeout=0)
        driver.power_on(spec.uuid)
        assert driver.get_remote_console(spec.uuid, "vnc") == console
        assert greeting(console) == b"RFB 003.008\n"
        driver.suspend(spec.uuid)
        driver.resume(spec.uuid)
        assert greeting(console) == b"RFB 003.008\n"

    def test_a_guest_is_adopted_by_a_new_driver(self, driver, tmp_path):
        from overcast.compute.drivers.qemu import QemuHypervisor

        running, stopped = self.spawned(driver), self.spawned(driver)
        driver.power_off(stopped.uuid, timeout=0)
        again = QemuHypervisor(state_dir=tmp_path / "qemu", accel="tcg")
        again.init_host(self.host)
        assert set(again.list_instances()) == {running.uuid, stopped.uuid}
        assert again.get_info(running.uuid).power_state == ps.RUNNING
        assert again.get_info(stopped.uuid).power_state == ps.SHUTDOWN
        assert len(_qemu_processes(str(tmp_path))) == 1

    def test_qemu_dying_leaves_the_instance_shut_down(self, driver, tmp_path):
        import os
        import signal

        spec = self.spawned(driver)
        (pid,) = _qemu_processes(str(tmp_path))
        os.kill(pid, signal.SIGKILL)
        testguest.wait_for(lambda: str(driver.get_info(spec.uuid).power_state), str(ps.SHUTDOWN), timeout=10)
        driver.power_on(spec.uuid)
        assert driver.get_info(spec.uuid).power_state == ps.RUNNING

    def test_spawn_without_vifs_has_no_nic_and_a_missing_tap_fails(self, driver):
        spec = self.spawned(driver)
        with pytest.raises(InstanceBuildFailed, match="tap"):
            driver.spawn(self.new_spec(vifs=[vif()]))
        assert driver.list_instances() == [spec.uuid]

    def test_an_image_that_is_not_a_disk_fails_with_a_reason(self, driver, tmp_path):
        junk = tmp_path / "junk.img"
        junk.write_bytes(b"this is not a disk image\n" * 100)
        with pytest.raises(InstanceBuildFailed, match="not a bootable disk"):
            driver.spawn(self.new_spec(image=ImageRef(id="junk", path=str(junk), disk_format="raw")))
        assert driver.list_instances() == []

    def test_a_flavor_smaller_than_the_image_fails(self, driver):
        with pytest.raises(InstanceBuildFailed, match="too small"):
            driver.spawn(self.new_spec(root_gb=1, image=ImageRef(id="big", path=str(_big_image(self.guest)))))

    def test_a_config_drive_carries_metadata_and_user_data(self, driver):
        spec = self.spawned(driver, config_drive=True, key_data="ssh-ed25519 AAAAC3Nz test@overcast",
                            user_data=b"#!/bin/sh\necho hello from the config drive\n")
        text = testguest.wait_for(lambda: driver.get_console_output(spec.uuid), "OVERCAST-UD-EXIT")
        assert f"OVERCAST-CONFIGDRIVE uuid={spec.uuid} name={spec.name}" in text
        assert "OVERCAST-UD hello from the config drive" in text

    def test_suspend_keeps_the_guest_in_a_file_and_resume_continues_it(self, driver, tmp_path):
        ticker = b"#!/bin/sh\nn=0; while true; do n=$((n+1)); echo tick-$n; sleep 1; done\n"
        spec = self.spawned(driver, config_drive=True, user_data=ticker)
        testguest.wait_for(lambda: driver.get_console_output(spec.uuid), "OVERCAST-UD tick-2")
        driver.suspend(spec.uuid)
        assert not _qemu_processes(str(tmp_path))
        assert driver.host_resources().running_vms == 0
        before = driver.get_console_output(spec.uuid)
        driver.resume(spec.uuid)
        last = max(int(line.rsplit("-", 1)[1]) for line in before.splitlines() if "OVERCAST-UD tick-" in line)
        text = testguest.wait_for(lambda: driver.get_console_output(spec.uuid), f"OVERCAST-UD tick-{last + 2}")
        assert text.count("OVERCAST-INIT-START") == 1  # the same boot, not a new one

    def test_diagnostics_follow_nova_and_hide_backend_ids(self, driver, tmp_path):
        # the contract's version plugs a made-up tap, which QEMU cannot open: no NIC here
        spec = self.spawned(driver, config_drive=True)
        diagnostics = driver.get_diagnostics(spec.uuid)
        assert diagnostics["state"] == "running" and diagnostics["config_drive"] is True
        assert diagnostics["num_cpus"] == spec.vcpus and diagnostics["num_nics"] == 0
        assert diagnostics["num_disks"] == 2  # root disk and config drive
        assert diagnostics["memory_details"]["maximum"] == spec.memory_mb
        assert str(tmp_path) not in repr(diagnostics)

    def test_rescue_boots_the_rescue_image_with_the_disk_second(self, driver):
        spec = self.spawned(driver)
        testguest.wait_for(lambda: driver.get_console_output(spec.uuid), "OVERCAST-READY")
        driver.rescue(spec.uuid, spec.image)
        text = testguest.wait_for(lambda: driver.get_console_output(spec.uuid), "OVERCAST-DISKS vda vda1 vdb vdb1")
        assert text.count("OVERCAST-INIT-START") == 2
        driver.unrescue(spec.uuid)
        # its own disk boots again, alone: the last boot's console says so
        last_boot = lambda: driver.get_console_output(spec.uuid).split("OVERCAST-INIT-START")[3:4] or [""]  # noqa
        testguest.wait_for(lambda: last_boot()[0], "OVERCAST-DISKS vda vda1 \n")

    def test_resize_grows_the_root_disk_and_revert_shrinks_it_back(self, driver):
        spec = self.spawned(driver, root_gb=1)
        disk = driver.state_dir / "instances" / spec.uuid / "disk.qcow2"
        driver.resize(spec.uuid, dataclasses.replace(spec, root_gb=2, memory_mb=192))
        assert _virtual_size(disk) == 2 * GiB
        assert "-m 192" in " ".join(_cmdline(driver, spec.uuid))
        driver.revert_resize(spec.uuid)
        assert _virtual_size(disk) == GiB
        assert "-m 128" in " ".join(_cmdline(driver, spec.uuid))

    def test_the_accelerator_is_reported(self, driver):
        assert driver.host_resources().cpu_info["accelerator"] == "tcg"

    # -- volumes and NICs on a real guest -------------------------------------------------------

    def test_attach_and_detach_a_volume(self, driver, tmp_path):
        spec = self.spawned(driver)
        testguest.wait_for(lambda: driver.get_console_output(spec.uuid), "OVERCAST-READY")
        info = _volume_file(tmp_path, b"HEAD-one")
        device = driver.attach_volume(spec.uuid, info)
        assert device == "/dev/vdb"
        testguest.wait_for(lambda: driver.get_console_output(spec.uuid), "OVERCAST-DISK-ADD vdb size_kb=65536 "
                                                                              "head=HEAD-one")
        with pytest.raises(DeviceBusy):
            driver.attach_volume(spec.uuid, info)
        with pytest.raises(DeviceBusy):
            driver.attach_volume(spec.uuid, _volume_file(tmp_path, b"other"), device)
        driver.detach_volume(spec.uuid, info, device)
        testguest.wait_for(lambda: driver.get_console_output(spec.uuid).rsplit("OVERCAST-DISKS", 1)[1],
                           " vda vda1 \n")
        assert "blockdev" not in " ".join(_cmdline(driver, spec.uuid))  # not on the line QEMU started with
        assert "vol-" not in json.dumps(_qmp(driver, spec.uuid, "query-named-block-nodes"))
        driver.detach_volume(spec.uuid, info, device)  # not attached: nothing to do
        assert driver.attach_volume(spec.uuid, info) == device

    def test_a_failed_attach_leaves_nothing_attached(self, driver, tmp_path):
        spec = self.spawned(driver)
        missing = {"driver_volume_type": "file", "serial": "gone", "data": {"path": str(tmp_path / "no"),
                                                                            "format": "raw"}}
        with pytest.raises(HypervisorError, match="not on this host"):
            driver.attach_volume(spec.uuid, missing)
        broken = tmp_path / "broken.qcow2"
        broken.write_bytes(b"QFI\xfb" + b"\0" * 4096)  # a qcow2 magic with nonsense after it
        bad = {"driver_volume_type": "file", "serial": "bad", "data": {"path": str(broken), "format": "qcow2"}}
        with pytest.raises(HypervisorError, match="attaching the volume failed"):
            driver.attach_volume(spec.uuid, bad)
        assert "vol-" not in json.dumps(_qmp(driver, spec.uuid, "query-named-block-nodes"))
        assert driver.attach_volume(spec.uuid, _volume_file(tmp_path, b"fine")) == "/dev/vdb"

    def test_an_attached_volume_survives_stop_start_reboot_suspend_and_resize(self, driver, tmp_path):
        spec = self.spawned(driver)
        stopped = self.spawned(driver)
        driver.power_off(stopped.uuid, timeout=0)
        early = _volume_file(tmp_path, b"HEAD-cold")
        assert driver.attach_volume(stopped.uuid, early) == "/dev/vdb"  # on the command line when it starts
        driver.power_on(stopped.uuid)
        testguest.wait_for(lambda: driver.get_console_output(stopped.uuid), "OVERCAST-DISKS vda vda1 vdb")
        info = _volume_file(tmp_path, b"HEAD-kept")
        testguest.wait_for(lambda: driver.get_console_output(spec.uuid), "OVERCAST-READY")
        driver.attach_volume(spec.uuid, info)  # the guest watches for new disks once booted
        testguest.wait_for(lambda: driver.get_console_output(spec.uuid), "head=HEAD-kept")
        driver.suspend(spec.uuid)  # the device must be where it was when the memory comes back
        driver.resume(spec.uuid)
        assert driver.get_info(spec.uuid).power_state == ps.RUNNING
        driver.power_off(spec.uuid, timeout=0)
        driver.power_on(spec.uuid)
        testguest.wait_for(lambda: driver.get_console_output(spec.uuid), "OVERCAST-BOOTCOUNT 2")
        testguest.wait_for(lambda: driver.get_console_output(spec.uuid).rsplit("OVERCAST-BOOTCOUNT 2", 1)[1],
                           "OVERCAST-DISKS vda vda1 vdb")
        driver.reboot(spec.uuid, hard=True)
        boots = driver.get_console_output(spec.uuid).count("OVERCAST-INIT-START")
        driver.resize(spec.uuid, dataclasses.replace(spec, memory_mb=160))
        assert any(info["data"]["path"] in arg for arg in _cmdline(driver, spec.uuid))
        driver.confirm_resize(spec.uuid)
        # a guest releases a device once its kernel runs (ACPI hot-plug): let the resized one boot
        testguest.wait_for(lambda: driver.get_console_output(spec.uuid).split("OVERCAST-INIT-START")[boots + 1:]
                           and driver.get_console_output(spec.uuid).rsplit("OVERCAST-INIT-START", 1)[1] or "",
                           "OVERCAST-READY")
        driver.detach_volume(spec.uuid, info)
        assert not any(info["data"]["path"] in json.dumps(n) for n in _qmp(driver, spec.uuid,
                                                                             "query-named-block-nodes"))

    def test_a_guest_boots_from_a_volume_and_leaves_it_behind(self, driver, tmp_path):
        volume_path = tmp_path / "root-volume.qcow2"
        subprocess.run(["qemu-img", "convert", "-O", "qcow2", str(self.guest / "disk.qcow2"), str(volume_path)],
                       check=True)
        root = {"connection_info": {"driver_volume_type": "file", "serial": "root-vol",
                                    "data": {"path": str(volume_path), "format": "qcow2"}},
                "device": "/dev/vda", "boot_index": 0}
        spec = self.spawned(driver, image=None, block_devices=[root])
        testguest.wait_for(lambda: driver.get_console_output(spec.uuid), "OVERCAST-READY")
        instance_dir = driver.state_dir / "instances" / spec.uuid
        assert not (instance_dir / "disk.qcow2").exists()
        with pytest.raises(InstanceInvalidState):
            driver.detach_volume(spec.uuid, root["connection_info"])
        driver.power_off(spec.uuid, timeout=10)
        driver.power_on(spec.uuid)  # the boot counter lives on the volume
        testguest.wait_for(lambda: driver.get_console_output(spec.uuid), "OVERCAST-BOOTCOUNT 2")
        driver.destroy(spec.uuid)
        assert volume_path.exists() and not instance_dir.exists()

    def test_attach_and_detach_an_interface(self, driver):
        spec = self.spawned(driver)
        port = vif()
        with pytest.raises(HypervisorError, match="tap"):  # the network agent did not plug it
            driver.attach_interface(spec.uuid, port)
        assert driver.get_diagnostics(spec.uuid)["num_nics"] == 0
        with _tap() as tap:
            port = {**port, "devname": tap}
            testguest.wait_for(lambda: driver.get_console_output(spec.uuid), "OVERCAST-READY")
            driver.attach_interface(spec.uuid, port)
            testguest.wait_for(lambda: driver.get_console_output(spec.uuid), "OVERCAST-NIC-ADD eth0")
            with pytest.raises(DeviceBusy):
                driver.attach_interface(spec.uuid, port)
            assert f"ifname={tap}" not in " ".join(_cmdline(driver, spec.uuid))
            driver.power_off(spec.uuid, timeout=0)
            driver.power_on(spec.uuid)  # now the NIC is on the command line
            assert f"ifname={tap}" in " ".join(_cmdline(driver, spec.uuid))
            testguest.wait_for(lambda: driver.get_console_output(spec.uuid), "OVERCAST-BOOTCOUNT 2")
            driver.detach_interface(spec.uuid, port)
            pci = _qmp(driver, spec.uuid, "query-pci")[0]["devices"]
            assert [d for d in pci if d["class_info"].get("desc") == "Ethernet controller"] == []
            driver.detach_interface(spec.uuid, port)
            assert driver.get_diagnostics(spec.uuid)["num_nics"] == 0


def _volume_file(tmp_path, head: bytes) -> dict:
    """A 64 MiB raw volume that starts with ``head``, as the file volume driver connects it."""
    volume_id = str(uuidlib.uuid4())
    path = tmp_path / f"volume-{volume_id}.raw"
    with open(path, "wb") as handle:
        handle.write(head)
        handle.truncate(64 << 20)
    return {"driver_volume_type": "file", "serial": volume_id, "data": {"path": str(path), "format": "raw"}}


def _qmp(driver, uuid: str, command: str):
    from overcast.compute.drivers.qemu.qmp import QMPSession

    with QMPSession(str(driver.run_dir / f"{uuid}.qmp")) as session:
        return session.execute(command)


@contextlib.contextmanager
def _tap():
    """A tap of a random name, removed afterwards (root only)."""
    import os

    if os.geteuid() != 0:
        pytest.skip("making a tap needs root")
    name = f"tapq{uuidlib.uuid4().hex[:8]}"
    subprocess.run(["ip", "tuntap", "add", "name", name, "mode", "tap"], check=True)
    try:
        subprocess.run(["ip", "link", "set", name, "up"], check=True)
        yield name
    finally:
        subprocess.run(["ip", "link", "del", name], check=False)


def _virtual_size(path) -> int:
    import json
    import subprocess

    done = subprocess.run(["qemu-img", "info", "-U", "--output=json", str(path)], capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout)["virtual-size"]


def _cmdline(driver, uuid: str) -> list[str]:
    (pid,) = _qemu_processes(uuid)
    with open(f"/proc/{pid}/cmdline", "rb") as handle:
        return handle.read().decode().split("\0")


def _big_image(guest):
    """A 2 GiB (virtual) qcow2 image, for a 1 GiB flavor."""
    import subprocess

    path = guest.parent / "big-2g.qcow2"
    if not path.exists():
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(path), "2G"], check=True)
    return path


def _qemu_processes(marker: str) -> list[int]:
    """Pids of qemu-system processes whose command line mentions ``marker``."""
    import os

    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                cmdline = handle.read()
            with open(f"/proc/{entry}/stat") as handle:
                zombie = handle.read().rsplit(")", 1)[1].split()[0] == "Z"
        except OSError:
            continue
        if cmdline.startswith(b"qemu-system") and marker.encode() in cmdline and not zombie:
            found.append(int(entry))
    return found


class _Minimal(HypervisorDriver):
    """Only the abstract methods: what the base gives a driver for free."""

    def init_host(self, host): pass
    def host_resources(self): pass
    def list_instances(self): return []
    def spawn(self, spec): pass
    def destroy(self, uuid, spec=None): pass
    def reboot(self, uuid, hard): pass
    def power_off(self, uuid, timeout=60): pass
    def power_on(self, uuid): pass
    def get_info(self, uuid): pass


def test_base_has_no_capabilities_and_optional_methods_refuse():
    driver = _Minimal()
    assert not any(driver.capabilities.as_dict().values())
    for name, flag, call in OPTIONAL:
        with pytest.raises(DriverCapabilityError, match=flag):
            call(driver, str(uuidlib.uuid4()))


def test_power_state_numbers_are_novas():
    assert (ps.NOSTATE, ps.RUNNING, ps.PAUSED, ps.SHUTDOWN, ps.CRASHED, ps.SUSPENDED) == (0, 1, 3, 4, 6, 7)
    assert ps.name(ps.SHUTDOWN) == "shutdown"
    with pytest.raises(ValueError):
        ps.name(5)


def test_make_driver_by_alias_and_dotted_path():
    assert isinstance(make_driver("fake"), FakeHypervisor)
    assert make_driver("fake", fail_reboot=True).fail_reboot
    assert resolve_driver("overcast.compute.drivers.fake:FakeHypervisor") is FakeHypervisor
    assert resolve_driver("overcast.compute.drivers.fake.FakeHypervisor") is FakeHypervisor


def test_unknown_driver_suggests_the_closest_alias():
    with pytest.raises(UnknownHypervisorDriver, match="Did you mean 'fake'"):
        make_driver("fkae")
    with pytest.raises(UnknownHypervisorDriver, match="Known drivers: fake, qemu"):
        make_driver("xen")
    with pytest.raises(UnknownHypervisorDriver, match="not a HypervisorDriver"):
        resolve_driver("overcast.compute.drivers.fake:FakeInstance")
    with pytest.raises(UnknownHypervisorDriver, match="cannot load"):
        resolve_driver("overcast.compute.drivers.nowhere:Nothing")
