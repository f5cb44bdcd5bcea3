"""Rebuild in place, direct kernel boot of AMI-style images and detaching from a paused
guest (which also checks a TCG guest runs without transparent huge pages): on the fake
(bookkeeping) and on real QEMU guests (TCG, the test guest).

Kept apart from test_hypervisor_driver.py (the shared suite) so the two grow without
stepping on each other; the helpers come from there.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid as uuidlib

import pytest

from overcast.compute import power_state as ps
from overcast.compute.drivers import ImageRef, InstanceSpec
from overcast.compute.drivers.errors import InstanceBuildFailed
from overcast.compute.drivers.fake import FakeHypervisor
from contract.test_hypervisor_driver import _cmdline, _qemu_processes, _qmp, _volume_file
import testguest


def _spec(image: ImageRef | None, **changes) -> InstanceSpec:
    uuid = str(uuidlib.uuid4())
    values = dict(uuid=uuid, name=f"vm-{uuid[:8]}", vcpus=1, memory_mb=128, root_gb=1, image=image)
    values.update(changes)
    return InstanceSpec(**values)


# -- the fake: what the agent relies on -------------------------------------------------------


def test_fake_rebuild_keeps_the_record_and_its_volumes():
    driver = FakeHypervisor()
    driver.init_host("fake-host")
    spec = _spec(ImageRef(id="one", path=""))
    driver.spawn(spec)
    driver.attach_volume(spec.uuid, {"driver_volume_type": "file", "serial": "vol-1", "data": {}})
    driver.power_off(spec.uuid, timeout=0)
    driver.rebuild(_spec(ImageRef(id="two", path=""), uuid=spec.uuid, metadata={"gen": "2"}))
    inst = driver.instances[spec.uuid]
    assert inst.power_state == ps.RUNNING and inst.spec.image.id == "two" and inst.spec.metadata == {"gen": "2"}
    assert [c["serial"] for c in inst.volumes.values()] == ["vol-1"]
    assert inst.boots == 2


def test_fake_failed_rebuild_leaves_the_instance_shut_down():
    driver = FakeHypervisor(fail_spawn_on=lambda spec: spec.image.id == "bad")
    driver.init_host("fake-host")
    spec = _spec(ImageRef(id="one", path=""))
    driver.spawn(spec)
    with pytest.raises(InstanceBuildFailed):
        driver.rebuild(_spec(ImageRef(id="bad", path=""), uuid=spec.uuid))
    assert driver.list_instances() == [spec.uuid]
    assert driver.get_info(spec.uuid).power_state == ps.SHUTDOWN


# -- QEMU ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def test_guest():
    return testguest.build()


@pytest.fixture
def driver(tmp_path, test_guest):
    from overcast.compute.drivers.qemu import QemuHypervisor

    driver = QemuHypervisor(state_dir=tmp_path / "qemu", accel="tcg", soft_reboot_timeout=3)
    driver.init_host("qemu-rebuild-host")
    yield driver
    for uuid in driver.list_instances():
        driver.destroy(uuid)
    assert list((tmp_path / "qemu" / "instances").iterdir()) == []
    assert not _qemu_processes(str(tmp_path))
    assert list(driver.run_dir.iterdir()) == []
    driver.run_dir.rmdir()


def _disk_image(test_guest, image_id: str = "test-guest") -> ImageRef:
    return ImageRef(id=image_id, path=str(test_guest / "disk.qcow2"), virtual_size=64 << 20)


def _boot(driver, uuid: str, n: int) -> str:
    """The console from the ``n``th boot on (1: the first), empty until it starts."""
    parts = driver.get_console_output(uuid).split("OVERCAST-INIT-START")
    return "OVERCAST-INIT-START".join(parts[n:])


@pytest.mark.qemu
def test_rebuild_in_place_gives_a_fresh_root_and_keeps_volumes_nics_and_console(driver, test_guest, tmp_path):
    spec = _spec(_disk_image(test_guest), config_drive=True, display_name="before")
    driver.spawn(spec)
    testguest.wait_for(lambda: driver.get_console_output(spec.uuid), "OVERCAST-READY")
    volume = _volume_file(tmp_path, b"HEAD-kept")
    assert driver.attach_volume(spec.uuid, volume) == "/dev/vdb"
    testguest.wait_for(lambda: driver.get_console_output(spec.uuid), "head=HEAD-kept")
    instance_dir = driver.state_dir / "instances" / spec.uuid
    before = (instance_dir / "disk.qcow2").stat().st_ino

    # the agent's spec names no volumes; the new image is another copy of the guest
    other = tmp_path / "other.qcow2"
    shutil.copyfile(test_guest / "disk.qcow2", other)
    driver.rebuild(_spec(ImageRef(id="other-image", path=str(other)), uuid=spec.uuid, name=spec.name,
                         config_drive=True, display_name="after", metadata={"gen": "2"}))
    assert driver.get_info(spec.uuid).power_state == ps.RUNNING
    assert driver.list_instances() == [spec.uuid]
    # the same log goes on; the disks are listed just after READY
    last = testguest.wait_for(lambda: _boot(driver, spec.uuid, 2), "OVERCAST-DISKS")
    assert "OVERCAST-BOOTCOUNT 1" in last  # a fresh root disk counts from 1 again
    assert f"OVERCAST-CONFIGDRIVE uuid={spec.uuid} name=after" in last  # the config drive was written again
    assert "OVERCAST-DISKS vda vda1 vdb" in last  # the volume stayed attached
    assert (instance_dir / "disk.qcow2").stat().st_ino != before
    backing = json.loads(subprocess.run(["qemu-img", "info", "-U", "--output=json", str(instance_dir / "disk.qcow2")],
                                        capture_output=True, text=True, check=True).stdout)["backing-filename"]
    assert backing.endswith("/images/other-image")
    assert driver.get_diagnostics(spec.uuid)["num_disks"] >= 2
    driver.detach_volume(spec.uuid, volume)  # still known to the driver, so it can be detached


@pytest.mark.qemu
def test_a_failed_rebuild_leaves_the_old_disk_and_a_stopped_instance(driver, test_guest):
    spec = _spec(_disk_image(test_guest))
    driver.spawn(spec)
    instance_dir = driver.state_dir / "instances" / spec.uuid
    before = (instance_dir / "disk.qcow2").stat().st_ino
    with pytest.raises(InstanceBuildFailed, match="not on this host"):
        driver.rebuild(_spec(ImageRef(id="missing", path="/nonexistent/disk.qcow2"), uuid=spec.uuid))
    assert driver.list_instances() == [spec.uuid]
    assert driver.get_info(spec.uuid).power_state == ps.SHUTDOWN
    assert (instance_dir / "disk.qcow2").stat().st_ino == before
    assert not (instance_dir / "disk.qcow2.new").exists()
    driver.power_on(spec.uuid)  # the old disk and spec boot again
    assert driver.get_info(spec.uuid).power_state == ps.RUNNING


@pytest.mark.qemu
def test_an_ami_boots_its_kernel_and_ramdisk_from_the_image_service(driver, test_guest, tmp_path):
    disk = tmp_path / "ami.raw"  # no boot sector: only a direct kernel boot can use it
    with open(disk, "wb") as handle:
        handle.truncate(8 << 20)
    served = {"ami-1": (disk, {"disk_format": "ami", "properties": {
                  "kernel_id": "aki-1", "ramdisk_id": "ari-1", "os_command_line":
                  "console=ttyS0,115200 overcast.net=none overcast.mdtries=1"}}),
              "aki-1": (test_guest / "vmlinuz", {"disk_format": "aki"}),
              "ari-1": (test_guest / "initramfs.cpio.gz", {"disk_format": "ari"})}
    fetched = []

    def fetcher(image_id, destination):
        path, known = served[image_id]
        shutil.copyfile(path, destination)
        fetched.append(image_id)
        return known

    driver.images.fetcher = fetcher
    spec = _spec(ImageRef(id="ami-1", path=""))
    driver.spawn(spec)
    testguest.wait_for(lambda: driver.get_console_output(spec.uuid), "OVERCAST-READY")
    line = _cmdline(driver, spec.uuid)
    images = driver.state_dir / "images"
    assert line[line.index("-kernel") + 1] == str(images / "aki-1")
    assert line[line.index("-initrd") + 1] == str(images / "ari-1")
    assert line[line.index("-append") + 1] == "console=ttyS0,115200 overcast.net=none overcast.mdtries=1"
    assert sorted(fetched) == ["aki-1", "ami-1", "ari-1"]
    second = _spec(ImageRef(id="ami-1", path=""))  # everything is cached now
    driver.spawn(second)
    assert sorted(fetched) == ["aki-1", "ami-1", "ari-1"]
    driver.power_off(second.uuid, timeout=0)
    driver.power_on(second.uuid)  # the kernel is in its spec: a restart boots it again
    assert "-kernel" in _cmdline(driver, second.uuid)


@pytest.mark.qemu
def test_a_ramdisk_with_a_wrong_checksum_fails_the_spawn(driver, test_guest, tmp_path):
    disk = tmp_path / "ami.raw"
    with open(disk, "wb") as handle:
        handle.truncate(1 << 20)
    served = {"ami-2": (disk, {"disk_format": "ami", "properties": {"kernel_id": "aki-2", "ramdisk_id": "ari-2"}}),
              "aki-2": (test_guest / "vmlinuz", {"disk_format": "aki"}),
              "ari-2": (test_guest / "initramfs.cpio.gz", {"disk_format": "ari", "checksum": "0" * 32})}

    def fetcher(image_id, destination):
        shutil.copyfile(served[image_id][0], destination)
        return served[image_id][1]

    driver.images.fetcher = fetcher
    with pytest.raises(InstanceBuildFailed, match="ari-2: md5 checksum mismatch"):
        driver.spawn(_spec(ImageRef(id="ami-2", path="")))
    assert driver.list_instances() == []
    assert not (driver.state_dir / "images" / "ari-2").exists()


@pytest.mark.qemu
def test_a_volume_detaches_from_a_paused_guest_which_stays_paused(driver, test_guest, tmp_path):
    spec = _spec(_disk_image(test_guest))
    driver.spawn(spec)
    testguest.wait_for(lambda: driver.get_console_output(spec.uuid), "OVERCAST-READY")
    volume = _volume_file(tmp_path, b"HEAD-paused")
    driver.attach_volume(spec.uuid, volume)
    testguest.wait_for(lambda: driver.get_console_output(spec.uuid), "head=HEAD-paused")
    (pid,) = _qemu_processes(spec.uuid)  # a TCG guest runs without transparent huge pages
    assert "THP_enabled:\t0" in open(f"/proc/{pid}/status").read()
    driver.pause(spec.uuid)
    driver.detach_volume(spec.uuid, volume)
    assert driver.get_info(spec.uuid).power_state == ps.PAUSED
    assert volume["data"]["path"] not in json.dumps(_qmp(driver, spec.uuid, "query-named-block-nodes"))
    driver.unpause(spec.uuid)
    testguest.wait_for(lambda: driver.get_console_output(spec.uuid).rsplit("OVERCAST-DISKS", 1)[1], " vda vda1 \n")
