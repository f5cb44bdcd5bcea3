"""What the host can do: the QEMU version, the accelerator, the real CPUs, RAM and disk.

The accelerator is chosen by trying it: ``/dev/kvm`` can open and still be useless (a
nested host whose KVM runs a guest a thousand times slower than TCG; see the
compute-network feasibility note), so KVM is used only when a short test boot of a
kernel prints its banner in time. The answer is kept per host boot in
``STATE_DIR/accel.json`` so agent restarts do not pay for the probe again.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

PROBE_SECONDS = 8.0
BANNER = b"Linux version"


def qemu_version(binary: str) -> tuple[str, int]:
    """("7.2.22", 7002022): the text and nova's integer form."""
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30).stdout
    match = re.search(r"version (\d+)\.(\d+)\.(\d+)", out)
    if not match:
        raise RuntimeError(f"cannot read the version of {binary}: {out.strip()!r}")
    major, minor, micro = map(int, match.groups())
    return f"{major}.{minor}.{micro}", major * 1000000 + minor * 1000 + micro


def totals(state_dir: Path) -> tuple[int, int, int]:
    """(CPUs, RAM in MiB, GiB of disk where the instances live)."""
    with open("/proc/meminfo") as handle:
        kb = next(int(line.split()[1]) for line in handle if line.startswith("MemTotal:"))
    disk = shutil.disk_usage(state_dir)
    return os.cpu_count() or 1, kb // 1024, disk.total >> 30


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def probe_kernel() -> str | None:
    """A kernel to test-boot: the test guest's, else the host's newest /boot/vmlinuz-*."""
    candidates = [os.path.expanduser("~/.cache/overcast/test-guest/vmlinuz")]
    candidates += sorted(glob.glob("/boot/vmlinuz-*"), reverse=True)
    return next((path for path in candidates if os.access(path, os.R_OK)), None)


def kvm_boots(binary: str, kernel: str, seconds: float = PROBE_SECONDS) -> tuple[bool, str]:
    """Boot ``kernel`` under KVM (``-cpu host``, as guests will run) with no disk or
    network and wait for its banner: (worked, what happened)."""
    with tempfile.TemporaryDirectory(prefix="overcast-kvm-probe-") as work:
        console = Path(work) / "console"
        argv = [binary, "-accel", "kvm", "-cpu", "host", "-m", "128", "-nodefaults", "-no-user-config",
                "-display", "none", "-nic", "none", "-no-reboot", "-kernel", kernel,
                "-append", "console=ttyS0 panic=-1", "-serial", f"file:{console}"]
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + seconds
        try:
            while time.monotonic() < deadline and proc.poll() is None:
                if console.exists() and BANNER in console.read_bytes():
                    return True, "a test boot under KVM worked"
                time.sleep(0.2)
            if console.exists() and BANNER in console.read_bytes():
                return True, "a test boot under KVM worked"
            if proc.poll() is not None:
                return False, f"/dev/kvm opens but QEMU exited under KVM (status {proc.returncode})"
            return False, f"/dev/kvm opens but a test boot printed no kernel banner in {seconds:.0f} s"
        finally:
            if proc.poll() is None:
                proc.terminate()  # a throwaway probe with no disk: nothing to lose
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def choose_accel(wanted: str, binary: str, state_dir: Path, version: str) -> tuple[str, str]:
    """(accelerator, why). ``wanted`` is "auto", "kvm" or "tcg"."""
    if wanted == "tcg":
        return "tcg", "configured"
    if wanted == "kvm":
        return "kvm", "configured"
    try:
        fd = os.open("/dev/kvm", os.O_RDWR)
        os.close(fd)
    except OSError as error:
        return "tcg", f"/dev/kvm cannot be opened ({error.strerror})"
    record = state_dir / "accel.json"
    key = {"boot_id": _boot_id(), "qemu": version}
    try:
        saved = json.loads(record.read_text())
        if saved.get("key") == key:
            return saved["accel"], saved["why"] + " (probed earlier this boot)"
    except (OSError, ValueError, KeyError):
        pass
    kernel = probe_kernel()
    if kernel is None:
        accel, why = "tcg", "/dev/kvm opens but there is no kernel to test-boot it with"
    else:
        worked, why = kvm_boots(binary, kernel)
        accel = "kvm" if worked else "tcg"
    record.write_text(json.dumps({"key": key, "accel": accel, "why": why}))
    return accel, why


def _cpuinfo(key: str) -> str:
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith(key):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def cpu_info(vcpus: int, accel: str) -> dict:
    """nova's cpu_info for ``os-hypervisors``, plus the accelerator guests run with."""
    return {"arch": "x86_64", "model": _cpuinfo("model name") or "unknown",
            "vendor": _cpuinfo("vendor_id") or "unknown", "features": [],
            "topology": {"sockets": 1, "cores": vcpus, "threads": 1}, "accelerator": accel}
