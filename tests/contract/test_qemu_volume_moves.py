"""Guests booted from volumes moved between two qemu hosts on one machine (two state
directories), driven through the driver contract as the compute agents drive it: the
agent's spec of a move carries no volume connections, so the destination's driver takes
the source's. A `file` volume moves cold and live; an iSCSI one (tgtd, QEMU's initiator)
moves live with both QEMUs logged in to its target until the switch."""

from __future__ import annotations

import dataclasses
import subprocess
import uuid as uuidlib

import pytest

from overcast.compute import power_state as ps
from overcast.compute.drivers import ImageRef, InstanceSpec
import testguest

pytestmark = pytest.mark.qemu


@pytest.fixture
def hosts(tmp_path):
    from overcast.compute.drivers.qemu import QemuHypervisor

    guest = testguest.build()
    made = []
    for n in (1, 2):
        driver = QemuHypervisor(state_dir=tmp_path / f"qemu-{n}", accel="tcg", soft_reboot_timeout=3)
        driver.init_host(f"volume-moves-{n}")
        made.append(driver)
    yield guest, made[0], made[1]
    for driver in made:
        for uuid in driver.list_instances():
            driver.destroy(uuid)


def booted(driver, guest, root: dict) -> InstanceSpec:
    uuid = str(uuidlib.uuid4())
    spec = InstanceSpec(uuid=uuid, name=f"vm-{uuid[:8]}", vcpus=1, memory_mb=128, root_gb=1,
                        image=ImageRef(id="test-guest", path=str(guest / "disk.qcow2"), virtual_size=64 << 20),
                        block_devices=[root])
    driver.spawn(spec)
    testguest.wait_for(lambda: driver.get_console_output(uuid), "OVERCAST-READY", timeout=300)
    return dataclasses.replace(spec, block_devices=[])  # as the agent's spec of a move


def live(source, dest, spec: InstanceSpec) -> None:
    data = dest.pre_live_migration(spec, False, source.live_migration_source_data(spec.uuid))
    source.live_migration(spec.uuid, dest.host, data)
    dest.post_live_migration_at_destination(spec.uuid)
    source.destroy(spec.uuid)
    assert dest.get_info(spec.uuid).power_state == ps.RUNNING


def copy_of(guest, path, fmt: str) -> None:
    subprocess.run(["qemu-img", "convert", "-O", fmt, str(guest / "disk.qcow2"), str(path)], check=True)


def test_a_guest_booted_from_a_file_volume_moves_cold_and_live(hosts, tmp_path):
    guest, one, two = hosts
    path = tmp_path / "root.qcow2"
    copy_of(guest, path, "qcow2")
    root = {"connection_info": {"driver_volume_type": "file", "serial": "moved-vol",
                                "data": {"path": str(path), "format": "qcow2"}}, "device": "/dev/vda", "boot_index": 0}
    spec = booted(one, guest, root)
    two.finish_migration(spec, one.migrate_disk_and_power_off(spec.uuid, two.host), power_on=True)
    testguest.wait_for(lambda: two.get_console_output(spec.uuid), "OVERCAST-BOOTCOUNT 2", timeout=300)
    assert not (two.state_dir / "instances" / spec.uuid / "disk.qcow2").exists()
    one.confirm_migration(spec.uuid)
    testguest.wait_for(lambda: two.get_console_output(spec.uuid).rsplit("OVERCAST-BOOTCOUNT 2", 1)[1],
                       "OVERCAST-READY", timeout=300)
    live(two, one, spec)
    one.power_off(spec.uuid, timeout=10)
    one.power_on(spec.uuid)
    testguest.wait_for(lambda: one.get_console_output(spec.uuid), "OVERCAST-BOOTCOUNT 3", timeout=300)


def test_a_guest_booted_from_an_iscsi_volume_moves_live(hosts, tmp_path):
    reason = testguest.iscsi_missing()
    if reason:
        pytest.skip(reason)
    from overcast.volume.drivers.targets import TgtTargets

    guest, one, two = hosts
    targets = TgtTargets(tmp_path / "targets")
    had_tgtd = targets.running()
    volume_id = str(uuidlib.uuid4())
    path = tmp_path / f"volume-{volume_id}.raw"
    copy_of(guest, path, "raw")
    spec = None
    try:
        root = {"connection_info": {"driver_volume_type": "iscsi", "serial": volume_id,
                                    "data": targets.export(volume_id, str(path))}, "device": "/dev/vda",
                "boot_index": 0}
        spec = booted(one, guest, root)
        live(one, two, spec)
        two.reboot(spec.uuid, hard=True)  # the destination's own login: it boots from the LUN again
        testguest.wait_for(lambda: two.get_console_output(spec.uuid), "OVERCAST-BOOTCOUNT 2", timeout=300)
    finally:
        for driver in (one, two):
            if spec is not None:
                driver.destroy(spec.uuid)
        targets.unexport(volume_id)
        if not had_tgtd:
            targets.stop_daemon()
