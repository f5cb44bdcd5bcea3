"""What ``auto`` means for the compute and network drivers (the defaults of `overcast up`).

The network driver is ``linux`` when this host can run it (root, its tools, bridge
netfilter), else ``fake``. The compute driver is ``qemu`` when QEMU is installed and the
network is real, else ``fake``: a QEMU guest needs taps only the linux network driver
makes, so real guests on a fake network would fail to boot. An explicit choice is kept.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from overcast.common.config import Config


def linux_network_lacks(config: Config) -> str:
    """Why the linux network driver cannot run here ("" when it can)."""
    from overcast.network.drivers.linux.host import Host

    if os.geteuid() != 0:
        return "it needs root"
    missing = Host(config.data_path / "network").missing_tools()
    if missing:
        return f"apt-get install {' '.join(missing)}"
    if not Path("/proc/sys/net/bridge/bridge-nf-call-iptables").exists():
        return "bridge netfilter is off (modprobe br_netfilter)"
    return ""


def qemu_lacks() -> str:
    missing = [tool for tool in ("qemu-system-x86_64", "qemu-img") if shutil.which(tool) is None]
    return f"{' and '.join(missing)} not installed" if missing else ""


def choose(config: Config) -> list[str]:
    """Resolve ``auto`` drivers in ``config`` in place; one line per driver saying what
    runs and, for a fallback, why."""
    lines = []
    network = config.network
    if network.driver == "auto":
        lacks = linux_network_lacks(config)
        network.driver = "fake" if lacks else "linux"
        lines.append(f"network driver fake ({lacks}; nothing is plumbed on the host)" if lacks else
                     f"network driver linux (bridges, dnsmasq, iptables; external network on {network.bridge_mappings})")
    else:
        lines.append(f"network driver {network.driver}")
    compute = config.compute
    if compute.driver == "auto":
        lacks = qemu_lacks() or ("" if network.driver == "linux" else "the network driver is fake")
        compute.driver = "fake" if lacks else "qemu"
        lines.append(f"compute driver fake ({lacks}; guests are not real)" if lacks else "compute driver qemu")
    else:
        lines.append(f"compute driver {compute.driver}")
    return lines
