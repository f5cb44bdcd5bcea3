"""disk_info against the real qemu-img (skipped when it is not installed) and fake ones."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from overcast.image import disk_info

MiB = 1 << 20
needs_qemu_img = pytest.mark.skipif(shutil.which("qemu-img") is None,
                                    reason="qemu-img is not installed (Debian package qemu-utils)")


def create(path: Path, fmt: str, size: str) -> str:
    subprocess.run(["qemu-img", "create", "-q", "-f", fmt, str(path), size], check=True)
    return str(path)


def fake_qemu_img(bin_dir: Path, script: str) -> None:
    """Write a qemu-img shell script into ``bin_dir`` (the test puts it on PATH)."""
    bin_dir.mkdir(exist_ok=True)
    tool = bin_dir / "qemu-img"
    tool.write_text("#!/bin/sh\n" + script + "\n")
    tool.chmod(0o755)


@needs_qemu_img
def test_virtual_size_of_qcow2(tmp_path):
    path = create(tmp_path / "x.qcow2", "qcow2", "64M")
    assert os.path.getsize(path) < MiB
    assert disk_info.virtual_size(path, "qcow2") == 64 * MiB


@needs_qemu_img
@pytest.mark.parametrize("disk_format, qemu_format", [("vmdk", "vmdk"), ("vhdx", "vhdx"), ("vdi", "vdi")])
def test_virtual_size_of_other_formats(tmp_path, disk_format, qemu_format):
    path = create(tmp_path / f"x.{disk_format}", qemu_format, "32M")
    assert disk_info.virtual_size(path, disk_format) == 32 * MiB


@needs_qemu_img
def test_virtual_size_of_vhd_rounds_to_its_geometry(tmp_path):
    path = create(tmp_path / "x.vhd", "vpc", "32M")
    assert 32 * MiB - MiB < disk_info.virtual_size(path, "vhd") <= 32 * MiB + MiB


@pytest.mark.parametrize("disk_format", ["raw", "iso"])
def test_virtual_size_of_raw_is_exact_file_size(tmp_path, disk_format):
    path = tmp_path / "x.img"
    path.write_bytes(os.urandom(3 * MiB + 7))  # not a whole number of sectors: Glance reports it as is
    assert disk_info.virtual_size(str(path), disk_format) == 3 * MiB + 7


@needs_qemu_img
def test_raw_image_is_not_probed(tmp_path):
    # a raw image whose first bytes are a qcow2 header stays raw: its size is the file's
    qcow2 = Path(create(tmp_path / "inner.qcow2", "qcow2", "1G"))
    assert disk_info.virtual_size(str(qcow2), "raw") == qcow2.stat().st_size


@needs_qemu_img
def test_qcow2_declared_but_raw_data_gives_none(tmp_path, caplog):
    path = tmp_path / "not.qcow2"
    path.write_bytes(b"\0" * 4096)
    with caplog.at_level(logging.WARNING, logger="overcast.image.disk_info"):
        assert disk_info.virtual_size(str(path), "qcow2") is None
    assert "failed" in caplog.text


@needs_qemu_img
def test_missing_file_gives_none(tmp_path):
    assert disk_info.virtual_size(str(tmp_path / "absent"), "qcow2") is None


def test_missing_raw_file_gives_none(tmp_path):
    assert disk_info.virtual_size(str(tmp_path / "absent"), "raw") is None


def test_formats_qemu_img_cannot_size_give_none(tmp_path):
    path = tmp_path / "kernel"
    path.write_bytes(b"x" * 100)
    for disk_format in ("ami", "aki", "ari", "ploop", "bogus"):
        assert disk_info.virtual_size(str(path), disk_format) is None


def test_missing_qemu_img_gives_none_except_for_raw(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    path = tmp_path / "x.img"
    path.write_bytes(b"x" * 1000)
    with caplog.at_level(logging.WARNING, logger="overcast.image.disk_info"):
        assert disk_info.virtual_size(str(path), "qcow2") is None
        assert disk_info.virtual_size(str(path), "raw") == 1000
        assert disk_info.inspect_format(str(path)) is None
    assert "qemu-utils" in caplog.text


def test_qemu_img_runs_under_resource_limits_with_prlimit(tmp_path, monkeypatch):
    if shutil.which("prlimit") is None:
        pytest.skip("util-linux prlimit is not installed")
    bin_dir = tmp_path / "bin"
    # ulimit -v is in KiB, ulimit -t in seconds
    fake_qemu_img(bin_dir, 'echo "{\\"virtual-size\\": $(ulimit -v), \\"format\\": \\"cpu$(ulimit -t)\\"}"')
    os.symlink(shutil.which("prlimit"), bin_dir / "prlimit")
    monkeypatch.setenv("PATH", str(bin_dir))
    assert disk_info.virtual_size(str(tmp_path), "qcow2") * 1024 == disk_info.ADDRESS_SPACE
    assert disk_info.inspect_format(str(tmp_path)) == f"cpu{disk_info.CPU_SECONDS}"


def test_qemu_img_runs_under_resource_limits_without_prlimit(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    fake_qemu_img(bin_dir, 'echo "{\\"virtual-size\\": $(ulimit -v), \\"format\\": \\"cpu$(ulimit -t)\\"}"')
    monkeypatch.setenv("PATH", str(bin_dir))
    assert disk_info.virtual_size(str(tmp_path), "qcow2") * 1024 == disk_info.ADDRESS_SPACE
    assert disk_info.inspect_format(str(tmp_path)) == f"cpu{disk_info.CPU_SECONDS}"


def test_hanging_qemu_img_is_killed_after_the_timeout(tmp_path, monkeypatch, caplog):
    fake_qemu_img(tmp_path / "bin", "exec sleep 30")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")
    with caplog.at_level(logging.WARNING, logger="overcast.image.disk_info"):
        assert disk_info.virtual_size(str(tmp_path / "x"), "qcow2", timeout=0.3) is None
    assert "killed" in caplog.text


def test_garbage_output_gives_none(tmp_path, monkeypatch):
    fake_qemu_img(tmp_path / "bin", "echo not json")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    assert disk_info.virtual_size(str(tmp_path / "x"), "qcow2") is None
    assert disk_info.inspect_format(str(tmp_path / "x")) is None


@needs_qemu_img
@pytest.mark.parametrize("qemu_format, expected", [("qcow2", "qcow2"), ("vpc", "vhd"), ("vmdk", "vmdk"),
                                                   ("raw", "raw")])
def test_inspect_format_names_glance_disk_formats(tmp_path, qemu_format, expected):
    path = create(tmp_path / "disk", qemu_format, "16M")
    assert disk_info.inspect_format(path) == expected
