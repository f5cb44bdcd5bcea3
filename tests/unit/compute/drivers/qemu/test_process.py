"""The qemu driver's command line for direct kernel boots and the THP launcher, and the
image cache's AMI handling (no QEMU needed; qemu-img for the cache)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from overcast.compute.drivers.base import ImageRef, InstanceSpec
from overcast.compute.drivers.qemu import disks, process
from overcast.compute.drivers.qemu.layout import InstancePaths


def _argv(tmp_path, image: ImageRef, rescue: bool = False) -> list[str]:
    spec = InstanceSpec(uuid="u1", name="vm", vcpus=1, memory_mb=128, root_gb=1, image=image)
    return process.argv("qemu-system-x86_64", "tcg", spec, InstancePaths.of(tmp_path, tmp_path, "u1"), rescue)


def test_a_kernel_boot_appends_the_image_command_line_and_leaves_bootindex_0_to_the_kernel(tmp_path):
    line = _argv(tmp_path, ImageRef(id="ami", path="", kernel_path="/k", ramdisk_path="/r",
                                    kernel_cmdline="console=ttyS0 quiet"))
    assert line[line.index("-kernel") + 1] == "/k" and line[line.index("-initrd") + 1] == "/r"
    assert line[line.index("-append") + 1] == "console=ttyS0 quiet"
    assert "virtio-blk-pci,drive=root" in line  # -kernel takes bootindex 0 itself
    default = _argv(tmp_path, ImageRef(id="ami", path="", kernel_path="/k"))
    assert default[default.index("-append") + 1] == process.KERNEL_CMDLINE and "-initrd" not in default
    rescued = _argv(tmp_path, ImageRef(id="ami", path="", kernel_path="/k"), rescue=True)
    assert "-kernel" not in rescued and "virtio-blk-pci,drive=root,bootindex=0" in rescued
    assert "virtio-blk-pci,drive=root,bootindex=0" in _argv(tmp_path, ImageRef(id="disk", path=""))


def test_tcg_gets_the_configured_translation_buffer_and_kvm_none(tmp_path):
    spec = InstanceSpec(uuid="u1", name="vm", vcpus=1, memory_mb=128, root_gb=1, image=ImageRef(id="disk", path=""))
    paths = InstancePaths.of(tmp_path, tmp_path, "u1")
    line = process.argv("qemu-system-x86_64", "tcg", spec, paths, tb_size_mb=12)
    assert line[line.index("-accel") + 1] == "tcg,tb-size=12"
    default = process.argv("qemu-system-x86_64", "tcg", spec, paths)
    assert default[default.index("-accel") + 1] == f"tcg,tb-size={process.TB_SIZE_MB}"
    kvm = process.argv("qemu-system-x86_64", "kvm", spec, paths, tb_size_mb=12)
    assert kvm[kvm.index("-accel") + 1] == "kvm" and kvm[kvm.index("-cpu") + 1] == "host"


def test_the_launcher_turns_thp_off_and_becomes_the_program():
    done = subprocess.run([sys.executable, "-c", process.NO_THP_LAUNCHER, "grep", "THP_enabled", "/proc/self/status"],
                          capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["THP_enabled:", "0"]


@pytest.mark.skipif(shutil.which("qemu-img") is None, reason="qemu-img is not installed")
def test_the_cache_keeps_an_ami_boot_properties_and_fetches_its_kernel_and_ramdisk(tmp_path):
    sources = {"ami": tmp_path / "ami.raw", "aki": tmp_path / "kernel", "ari": tmp_path / "ramdisk"}
    sources["ami"].write_bytes(b"\0" * 65536)  # no boot sector: fine for an AMI, refused for a plain raw disk
    sources["aki"].write_bytes(b"kernel")
    sources["ari"].write_bytes(b"ramdisk")
    known = {"ami": {"disk_format": "ami", "properties": {"kernel_id": "aki", "ramdisk_id": "ari",
                                                          "os_command_line": "console=ttyS0", "other": "x"}},
             "aki": {"disk_format": "aki"}, "ari": {"disk_format": "ari"}, "raw": {"disk_format": "raw"}}

    def fetcher(image_id, destination):
        shutil.copyfile(sources.get(image_id, sources["ami"]), destination)
        return known[image_id]

    cache = disks.ImageCache(tmp_path / "images", fetcher)
    booted = cache.boot_image(ImageRef(id="ami", path=""))
    assert (booted.kernel_path, booted.ramdisk_path, booted.kernel_cmdline) == (
        str(tmp_path / "images" / "aki"), str(tmp_path / "images" / "ari"), "console=ttyS0")
    assert (tmp_path / "images" / "aki").read_bytes() == b"kernel"
    assert json.loads((tmp_path / "images" / "ami.json").read_text()) == {
        "kernel_id": "aki", "ramdisk_id": "ari", "os_command_line": "console=ttyS0"}
    assert cache.boot_image(ImageRef(id="ami", path="", kernel_path="/mine")).kernel_path == "/mine"
    with pytest.raises(disks.DiskError, match="no boot sector"):
        cache.boot_image(ImageRef(id="raw", path=""))
