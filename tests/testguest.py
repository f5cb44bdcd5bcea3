"""The test guest (tools/build-test-guest.sh), built once per machine and cached in
~/.cache/overcast/test-guest (or $OVERCAST_GUEST_DIR); and the QEMU checks tests skip on."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GUEST_DIR = Path(os.environ.get("OVERCAST_GUEST_DIR", "~/.cache/overcast/test-guest")).expanduser()


def skip_without_qemu() -> None:
    for tool in ("qemu-system-x86_64", "qemu-img"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (./run.sh installs qemu-system-x86 and qemu-utils)")


def iscsi_missing() -> str | None:
    """Why tgtd exports and QEMU's iSCSI initiator cannot be used here, or None."""
    if os.geteuid() != 0:
        return "needs root"
    if shutil.which("tgtd") is None or shutil.which("tgtadm") is None:
        return "tgtd is not installed (Debian package tgt)"
    if not any(os.path.exists(f"{d}/block-iscsi.so") for d in ("/usr/lib/x86_64-linux-gnu/qemu", "/usr/lib/qemu")):
        return "QEMU's iSCSI block driver is not installed (Debian package qemu-block-extra)"
    return None


def build() -> Path:
    """The guest's directory (vmlinuz, initramfs.cpio.gz, disk.qcow2), built if needed."""
    skip_without_qemu()
    GUEST_DIR.mkdir(parents=True, exist_ok=True)
    with open(GUEST_DIR.parent / ".test-guest.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # pytest-xdist workers and parallel sessions build once
        done = subprocess.run([str(ROOT / "tools" / "build-test-guest.sh"), str(GUEST_DIR)],
                              capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        pytest.fail(f"tools/build-test-guest.sh failed:\n{done.stderr[-2000:]}")
    return GUEST_DIR


def wait_for(read, marker: str, timeout: float = 120.0) -> str:
    """Poll ``read()`` until its text holds ``marker``; the text."""
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = read()
        if marker in text:
            return text
        time.sleep(0.5)
    raise AssertionError(f"{marker!r} not seen in {timeout:.0f} s; last output:\n{text[-3000:]}")
