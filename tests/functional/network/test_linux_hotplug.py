"""A NIC hot-plugged into a real guest, driven by the openstack CLI: `overcast up` with
the qemu compute driver and the linux network driver (root only).

A test guest booted without a NIC gets one with `server add network`: the network agent
plugs a tap, QEMU hot-plugs a virtio NIC on it and the guest gets its DHCP address on
that NIC. The NIC is still there after a stop and start, and `server remove port` takes
it out again. Nothing is sent to the guest from the host. The cloud has a random prefix
and external bridge; no namespace or link of it may be left at the end.
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import uuid

import pytest

from conftest import Cli, random_name
from qemuguests import after_last_boot, console, start_cloud, stop_cloud, wait_status
import testguest
from contract.test_linux_network_driver import missing
from overcast.network.drivers.linux.firewall import Firewall
from overcast.network.drivers.linux.host import Host

pytestmark = pytest.mark.qemu


def network_things() -> set[str]:
    names = set(os.listdir("/sys/class/net"))
    return names | ({f"netns:{n}" for n in os.listdir("/run/netns")} if os.path.isdir("/run/netns") else set())


def left_of(proc) -> set[str]:
    """What this cloud made and left: links named after its tag, its ports' taps and its
    networks' namespaces (other clouds on the machine come and go meanwhile)."""
    mine = {f"tap{port_id[:11]}" for port_id in proc.ports} | {f"netns:qdhcp-{n}" for n in proc.networks}
    mine |= {f"brq{network_id[:11]}" for network_id in proc.networks}
    return {thing for thing in network_things() if proc.tag in thing or thing in mine}


@pytest.fixture(scope="module")
def net_cloud(tmp_path_factory):
    reason = missing("qemu-system-x86_64")
    if reason:
        pytest.skip(reason)
    tag = uuid.uuid4().hex[:6]
    data = tmp_path_factory.mktemp("hotplug-cloud") / "data"
    proc = start_cloud(data, OVERCAST_NETWORK_DRIVER="linux", OVERCAST_NETWORK_LINUX_PREFIX=f"h{tag}",
                       OVERCAST_NETWORK_BRIDGE_MAPPINGS=f"public:brh{tag}",
                       OVERCAST_NETWORK_PUBLIC_CIDR=f"10.253.{random.randint(1, 250)}.0/24")
    proc.tag, proc.ports, proc.networks = tag, [], []
    try:
        yield proc
    finally:
        try:
            stop_cloud(proc)
        finally:
            subprocess.run(["ip", "link", "del", f"brh{tag}"], capture_output=True)
            Firewall(Host(data / "network", f"h{tag}")).clear()  # the chains a running cloud keeps
    assert left_of(proc) == set(), "links or namespaces left behind"
    saved = subprocess.run(["iptables-save"], capture_output=True, text=True).stdout
    assert f"h{tag}-" not in saved, "iptables chains left behind"


def test_a_nic_is_hot_plugged_kept_over_stop_start_and_removed(net_cloud):
    cli = Cli(net_cloud)
    image = cli.run("image", "create", "--disk-format", "qcow2", "--container-format", "bare", "--file",
                    str(net_cloud.guest / "disk.qcow2"), random_name("guest"))
    flavor = cli.run("flavor", "create", "--ram", "128", "--disk", "1", "--vcpus", "1", random_name("q"))
    net = cli.run("network", "create", random_name("net"))
    net_cloud.networks.append(net["id"])
    cli.run("subnet", "create", "--network", net["id"], "--subnet-range", "10.9.7.0/24", random_name("sub"))
    name = random_name("vm")
    cli.run("server", "create", "--nic", "none", "--flavor", flavor["id"], "--image", image["id"], "--wait", name)
    testguest.wait_for(lambda: console(cli, name), "OVERCAST-READY")

    cli.ok("server", "add", "network", name, net["id"])
    ports = cli.run("port", "list", "--server", name)
    assert len(ports) == 1
    net_cloud.ports.append(ports[0]["ID"])
    assert os.path.exists(f"/sys/class/net/tap{ports[0]['ID'][:11]}")  # the network agent plugged it
    ip = ports[0]["Fixed IP Addresses"][0]["ip_address"]
    text = testguest.wait_for(lambda: console(cli, name), "OVERCAST-DHCP bound iface=eth0", timeout=120)
    assert "OVERCAST-NIC-ADD eth0" in text
    assert re.search(rf"OVERCAST-DHCP bound iface=eth0 ip={re.escape(ip)} ", text), text[-2000:]

    cli.ok("server", "stop", name)
    wait_status(cli, name, "SHUTOFF")
    cli.ok("server", "start", name)
    testguest.wait_for(lambda: console(cli, name), "OVERCAST-BOOTCOUNT 2")
    testguest.wait_for(lambda: after_last_boot(console(cli, name)), f"OVERCAST-DHCP bound iface=eth0 ip={ip} ",
                       timeout=120)

    cli.ok("server", "remove", "port", name, ports[0]["ID"])
    assert cli.run("port", "list", "--server", name) == []
    tap_gone = lambda: "" if os.path.exists(f"/sys/class/net/tap{ports[0]['ID'][:11]}") else "gone"  # noqa: E731
    testguest.wait_for(tap_gone, "gone", timeout=30)
    cli.ok("server", "delete", "--wait", name)
    cli.ok("network", "delete", net["id"])
    cli.ok("image", "delete", image["id"])
    cli.ok("flavor", "delete", flavor["id"])
