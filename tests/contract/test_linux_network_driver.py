"""The NetworkDriver contract on the Linux driver: real bridges, taps, namespaces,
dnsmasq and iptables on this machine (root). Each test's driver has a random prefix
and mapped bridge, and everything it made is gone afterwards (checked)."""

from __future__ import annotations

import os
import shutil
import uuid

import pytest

from overcast.network.drivers import make_driver
from contract.test_network_driver import NetworkDriverContract  # tests/ is on sys.path (conftest.py)


def missing(*more_tools: str) -> str:
    """Why the linux driver's tests cannot run here ("" when they can); ``more_tools``: what
    else a test runs (qemu-system-x86_64, ebtables)."""
    if os.geteuid() != 0:
        return "needs root"
    if not os.path.isdir("/proc/sys/net/bridge"):
        return "needs the kernel's bridge netfilter (br_netfilter)"
    for tool in ("ip", "dnsmasq", "iptables", *more_tools):
        if shutil.which(tool, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin") is None:
            return f"needs {tool}"
    return ""


pytestmark = pytest.mark.skipif(bool(missing()), reason=missing() or "runs")


def own_links(prefix: str, bridge: str) -> set[str]:
    """The links of one test's driver: its mapped bridge and every link whose alias
    carries its prefix (other helpers' tests run at the same time and make their own)."""
    found = set()
    for name in os.listdir("/sys/class/net"):
        try:
            alias = open(f"/sys/class/net/{name}/ifalias").read().strip()
        except OSError:
            alias = ""
        if name == bridge or alias.startswith(f"{prefix}:"):
            found.add(name)
    return found


def namespaces() -> set[str]:
    return set(os.listdir("/run/netns")) if os.path.isdir("/run/netns") else set()


@pytest.fixture
def linux_driver(tmp_path):
    tag = uuid.uuid4().hex[:6]
    driver = make_driver("linux", state_dir=str(tmp_path / "network"), prefix=f"t{tag}",
                         bridge_mappings=f"public:brx{tag}")
    made: set[str] = set()
    add_namespace = driver.host.add_namespace

    def recording(name: str) -> None:  # the namespaces this driver made, to check they are gone
        made.add(name)
        add_namespace(name)

    driver.host.add_namespace = recording
    driver.init_host("linuxhost")
    yield driver
    for port_id in driver.list_ports():
        driver.unplug_port(port_id)
    for network_id in driver.list_dhcp():
        driver.remove_dhcp(network_id)
    for router_id in driver.list_routers():
        driver.remove_router(router_id)
    driver.firewall.clear()  # the top chains and jumps init_host made
    driver.host.run("ip", "link", "del", f"brx{tag}", check=False)
    assert not [line for line in driver.host.run("iptables-save").splitlines() if f"t{tag}-" in line]
    assert own_links(f"t{tag}", f"brx{tag}") == set()
    assert made & namespaces() == set()


class TestLinuxNetworkDriver(NetworkDriverContract):
    @pytest.fixture
    def driver(self, linux_driver):
        return linux_driver
