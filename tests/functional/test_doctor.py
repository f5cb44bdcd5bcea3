"""`overcast doctor` says in words what this host can do."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys


def test_doctor_names_qemu_the_accelerator_and_resources(tmp_path):
    done = subprocess.run([sys.executable, "-m", "overcast", "doctor", "--data-dir", str(tmp_path / "data")],
                          capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "HOME": str(tmp_path),
                               "OVERCAST_COMPUTE_QEMU_ACCEL": "tcg"})
    assert done.returncode == 0, done.stderr
    lines = {line[4:].split()[0]: line for line in done.stdout.splitlines()}
    assert {"qemu", "qemu-img", "resources", "test", "dnsmasq", "iptables"} <= set(lines)
    if shutil.which("qemu-system-x86_64"):
        assert lines["qemu"].startswith("ok ") and "QEMU " in lines["qemu"]
        assert "guests run under TCG: configured" in lines["accelerator"]
    else:
        assert "missing" in lines["qemu"]
    assert "CPUs" in lines["resources"] and "MB RAM" in lines["resources"]
    assert {"network", "bridge-nf"} <= set(lines)  # the linux network driver's needs
    assert lines["network"].split()[2] == "auto"  # the configured driver is named
    assert "network driver " in lines["drivers"] and "compute driver " in lines["drivers"]  # and what auto picks
    if shutil.which("dnsmasq", path="/usr/sbin:/sbin:/usr/bin"):
        assert "dhcp" in lines and "Dnsmasq version" in lines["dhcp"]
    assert lines["novnc"].startswith("ok " if os.path.exists("/usr/share/novnc/vnc_lite.html") else "-- ")
