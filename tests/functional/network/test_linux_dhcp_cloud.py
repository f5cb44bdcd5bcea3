"""The Linux network driver in a running cloud: `overcast up` with
``OVERCAST_NETWORK_DRIVER=linux`` (a random prefix, mapped bridge and public range),
driven by the openstack CLI. A network with a subnet gets its ``qdhcp-`` namespace, one
running dnsmasq and an ACTIVE DHCP port; a restart of the cloud re-syncs without
duplicating anything; deleting the network removes it all. Root only; the cloud is
stopped and anything it left is removed even when the test fails."""

from __future__ import annotations

import os
import random
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from cloudproc import CloudProcess
from conftest import FAST_HASH, Cli, random_name
from contract.test_linux_network_driver import missing, namespaces

pytestmark = [pytest.mark.cli, pytest.mark.skipif(bool(missing()), reason=missing() or "runs")]


def dnsmasqs(state: Path) -> list[int]:
    """Live dnsmasq processes whose pid file is under ``state``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().decode(errors="replace").split("\0")
            zombie = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[-1].split()[0] == "Z"
        except OSError:
            continue
        if not zombie and argv[0].endswith("dnsmasq") and any(a.startswith(f"--pid-file={state}/") for a in argv):
            found.append(int(entry))
    return found


def links(prefix: str) -> list[str]:
    """Host links whose alias carries the cloud's prefix."""
    found = []
    for name in os.listdir("/sys/class/net"):
        try:
            alias = Path(f"/sys/class/net/{name}/ifalias").read_text().strip()
        except OSError:
            continue
        if alias.startswith(f"{prefix}:"):
            found.append(name)
    return sorted(found)


def wait(check, what: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.3)


@pytest.fixture
def linux_cloud(tmp_path):
    tag = uuid.uuid4().hex[:6]
    prefix, bridge = f"f{tag}", f"brf{tag}"
    env = {**FAST_HASH, "OVERCAST_NETWORK_DRIVER": "linux", "OVERCAST_NETWORK_LINUX_PREFIX": prefix,
           "OVERCAST_NETWORK_BRIDGE_MAPPINGS": f"public:{bridge}",
           "OVERCAST_NETWORK_PUBLIC_CIDR": f"10.251.{random.randint(0, 255)}.0/24"}
    data = tmp_path / "data"
    cloud = CloudProcess(data, env=env)
    cloud.prefix, cloud.bridge, cloud.state = prefix, bridge, data / "network"
    cloud.namespaces = []  # the tests name the namespaces their networks get
    try:
        yield cloud.start(timeout=60)
    finally:
        cloud.stop()
        for pid in dnsmasqs(cloud.state):  # never leave a failed test's processes, links or namespaces
            os.kill(pid, 9)
        for namespace in set(cloud.namespaces) & namespaces():
            subprocess.run(["ip", "netns", "delete", namespace], capture_output=True)
        for name in [*links(prefix), bridge]:
            subprocess.run(["ip", "link", "del", name], capture_output=True)
        from overcast.network.drivers.linux.firewall import Firewall
        from overcast.network.drivers.linux.host import Host

        Firewall(Host(cloud.state, prefix)).clear()  # the chains a running cloud keeps
        saved = subprocess.run(["iptables-save"], capture_output=True, text=True).stdout
        assert f"{prefix}-" not in saved, "iptables chains left behind"


def network_agents_alive(cli: Cli) -> bool:
    rows = cli.run("network", "agent", "list")
    return {row["Agent Type"] for row in rows if row["Alive"]} >= {"DHCP agent", "Linux bridge agent"}


def test_dhcp_of_a_network_in_the_running_cloud(linux_cloud):
    cli = Cli(linux_cloud)
    wait(lambda: network_agents_alive(cli), "the network agents")
    name = random_name("net")
    network = cli.run("network", "create", name)
    cidr = f"10.{random.randint(100, 199)}.{random.randint(0, 255)}.0/24"
    subnet = cli.run("subnet", "create", "--network", network["id"], "--subnet-range", cidr, random_name("sub"))
    namespace = f"qdhcp-{network['id']}"
    linux_cloud.namespaces.append(namespace)
    directory = linux_cloud.state / "dhcp" / network["id"]

    def dhcp_port_active():
        ports = cli.run("port", "list", "--network", network["id"], "--device-owner", "network:dhcp", "--long")
        return ports if len(ports) == 1 and ports[0]["Status"] == "ACTIVE" else None

    port = wait(dhcp_port_active, "an ACTIVE DHCP port")[0]
    assert namespace in namespaces()
    served = wait(lambda: [p for p in dnsmasqs(linux_cloud.state) if str(directory) in
                           Path(f"/proc/{p}/cmdline").read_text()], "a dnsmasq")
    assert len(served) == 1
    address = cidr.rsplit(".", 1)[0] + "."
    inside = subprocess.run(["ip", "netns", "exec", namespace, "ip", "-o", "addr"], capture_output=True,
                            text=True).stdout
    assert address in inside and "169.254.169.254/32" in inside and f"ns-{port['ID'][:11]}" in inside

    guest = cli.run("port", "create", "--network", network["id"], random_name("port"))  # a reservation: a reload
    wait(lambda: guest["mac_address"] in (directory / "hosts").read_text(), "the port's reservation")
    cli.ok("subnet", "set", "--dns-nameserver", "192.0.2.53", subnet["id"])
    wait(lambda: "dns-server,192.0.2.53" in (directory / "opts").read_text(), "the subnet's DNS server")
    assert dnsmasqs(linux_cloud.state) == served
    made = links(linux_cloud.prefix)

    linux_cloud.stop()  # dnsmasq outlives the cloud; the restarted agent re-syncs onto it
    assert dnsmasqs(linux_cloud.state) == served
    linux_cloud.start(timeout=60)
    wait(lambda: network_agents_alive(cli), "the network agents after the restart")
    time.sleep(2)  # the re-sync runs at the agent's start; let a late event land too
    assert dnsmasqs(linux_cloud.state) == served
    assert links(linux_cloud.prefix) == made
    assert [n for n in namespaces() if n == namespace] == [namespace]
    assert cli.run("port", "show", port["ID"])["status"] == "ACTIVE"

    cli.ok("port", "delete", guest["id"])
    wait(lambda: guest["mac_address"] not in (directory / "hosts").read_text(), "the reservation to go")
    assert dnsmasqs(linux_cloud.state) == served
    cli.ok("network", "delete", network["id"])
    wait(lambda: namespace not in namespaces() and not directory.exists(), "the namespace to go")
    assert dnsmasqs(linux_cloud.state) == []
    assert f"tap{port['ID'][:11]}" not in links(linux_cloud.prefix)
    assert f"brq{network['id'][:11]}" not in os.listdir("/sys/class/net")


def test_dhcp_follows_subnet_changes_in_the_running_cloud(linux_cloud):
    """DHCP off and on again, and an IPv6 subnet next to the IPv4 one."""
    cli = Cli(linux_cloud)
    wait(lambda: network_agents_alive(cli), "the network agents")
    network = cli.run("network", "create", random_name("net"))
    namespace = f"qdhcp-{network['id']}"
    linux_cloud.namespaces.append(namespace)
    directory = linux_cloud.state / "dhcp" / network["id"]
    cidr = f"10.{random.randint(100, 199)}.{random.randint(0, 255)}.0/24"
    subnet = cli.run("subnet", "create", "--network", network["id"], "--subnet-range", cidr, random_name("sub"))
    wait(lambda: namespace in namespaces() and dnsmasqs(linux_cloud.state), "DHCP")

    cli.ok("subnet", "set", "--no-dhcp", subnet["id"])
    wait(lambda: namespace not in namespaces() and not dnsmasqs(linux_cloud.state), "DHCP to stop")
    assert cli.run("port", "list", "--network", network["id"], "--device-owner", "network:dhcp") == []
    cli.ok("subnet", "set", "--dhcp", subnet["id"])
    wait(lambda: namespace in namespaces() and len(dnsmasqs(linux_cloud.state)) == 1, "DHCP again")

    v6 = f"fd{random.randint(0, 255):02x}:{random.randint(0, 0xffff):x}::/64"
    cli.run("subnet", "create", "--network", network["id"], "--ip-version", "6", "--subnet-range", v6,
            "--ipv6-address-mode", "dhcpv6-stateful", random_name("sub6"))
    wait(lambda: ",static,64," in " ".join(
        Path(f"/proc/{pid}/cmdline").read_text() for pid in dnsmasqs(linux_cloud.state)), "the IPv6 range")
    assert len(dnsmasqs(linux_cloud.state)) == 1
    inside = subprocess.run(["ip", "netns", "exec", namespace, "ip", "-o", "addr"], capture_output=True,
                            text=True).stdout
    assert v6.split("::")[0] in inside and cidr.rsplit(".", 1)[0] in inside

    cli.ok("network", "delete", network["id"])
    wait(lambda: namespace not in namespaces() and not directory.exists(), "the namespace to go")
    assert dnsmasqs(linux_cloud.state) == []
