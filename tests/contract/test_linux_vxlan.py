"""VXLAN between hosts on the Linux driver (root): two drivers acting as two hosts, host
A in this namespace and host B in a network namespace of its own (``linux_hosts``),
joined by a veth "underlay" the test makes (``10.251.<r>.1/24`` and ``.2/24``, on no
route of the machine). Each has guests (namespaces on veth legs, ``linux_guests``) on
vxlan networks; pings cross between the hosts inside VXLAN, another VNI stays apart,
a peer taken off the flood list is no longer flooded to, and everything is gone at
the end (links, FDB entries, namespaces, chains: counted)."""

from __future__ import annotations

import json
import random
import subprocess
import uuid

import pytest

from contract.linux_guests import Guest
from contract.linux_hosts import RemoteHost
from contract.test_linux_network_driver import linux_driver, missing, namespaces, own_links  # noqa: F401 (a fixture)
from contract.test_linux_routers import free_cidrs, host, sh
from overcast.network.drivers import PortSpec, Segment, make_driver
from overcast.network.drivers.linux.host import bridge_name, vxlan_name

pytestmark = pytest.mark.skipif(bool(missing("bridge")), reason=missing("bridge") or "runs")


def vxlan_segment(vni: int | None = None, mtu: int = 1450) -> Segment:
    return Segment(network_id=str(uuid.uuid4()), network_type="vxlan",
                   segmentation_id=vni or random.randint(100000, 16000000), mtu=mtu)


def vxlan_link(name: str, run=sh) -> dict | None:
    shown = json.loads(run("ip", "-j", "-d", "link", "show", "dev", name, check=False) or "[]")
    return shown[0] if shown else None


class Hosts:
    def __init__(self, a, b, a_ip: str, b_ip: str, tenant: str):
        self.a, self.b, self.a_ip, self.b_ip, self.tenant = a, b, a_ip, b_ip, tenant
        self.guests: list[Guest] = []

    def guest(self, driver, segment: Segment, n: int) -> Guest:
        guest = Guest(driver, segment, f"{self.tenant}.{n}")
        self.guests.append(guest)
        return guest

    def remove(self, guest: Guest) -> None:
        self.guests.remove(guest)
        guest.remove()


@pytest.fixture
def hosts(tmp_path):
    tag = uuid.uuid4().hex[:6]
    underlay, tenant = free_cidrs(2)
    a_ip, b_ip = host(underlay, 1), host(underlay, 2)
    netns, outer, inner = f"vxb-{tag}", f"vxu{tag}", f"vxv{tag}"
    before = namespaces()
    sh("ip", "netns", "add", netns)
    a = b = None
    try:
        probe = subprocess.run(["ip", "netns", "exec", netns, "ip", "link", "add", "vxprobe", "type", "vxlan",
                                "id", "1", "dstport", "4789"], capture_output=True, text=True)
        if probe.returncode != 0:
            pytest.skip(f"needs VXLAN in the kernel: {probe.stderr.strip()}")
        sh("ip", "link", "add", outer, "type", "veth", "peer", "name", inner, "netns", netns)
        sh("ip", "addr", "add", f"{a_ip}/24", "dev", outer)
        sh("ip", "link", "set", outer, "up")
        for command in (("ip", "link", "set", "lo", "up"), ("ip", "addr", "add", f"{b_ip}/24", "dev", inner),
                        ("ip", "link", "set", inner, "up")):
            sh(*command, netns=netns)
        assert f"dev {outer}" in sh("ip", "route", "get", b_ip)  # the underlay is the test's own link
        a = make_driver("linux", state_dir=str(tmp_path / "a"), prefix=f"t{tag}", bridge_mappings=f"public:brx{tag}",
                        local_ip=a_ip)
        a.init_host("host-a")
        b = RemoteHost(netns, state_dir=str(tmp_path / "b"), prefix=f"u{tag}", bridge_mappings=f"public:bry{tag}",
                       local_ip=b_ip)
        b.init_host("host-b")
        made = Hosts(a, b, a_ip, b_ip, str(tenant.network_address)[:-2])
        yield made
        for guest in list(made.guests):
            made.remove(guest)
        for port_id in a.list_ports():
            a.unplug_port(port_id)
        assert a.tunnels.list() == {} and b.tunnels.list() == {}, "VXLAN devices left behind"
        b.firewall.clear()
        assert not [line for line in b.run("iptables-save").splitlines() if f"u{tag}-" in line]
    finally:
        if a is not None:
            a.firewall.clear()
            sh("ip", "link", "del", f"brx{tag}", check=False)
        if b is not None:
            b.close()
        sh("ip", "link", "del", outer, check=False)
        sh("ip", "netns", "delete", netns, check=False)
    assert own_links(f"t{tag}", f"brx{tag}") == set()
    assert {ns for ns in namespaces() - before if tag in ns} == set()  # other tests make their own meanwhile
    assert not [line for line in sh("iptables-save").splitlines() if f"t{tag}-" in line]


def test_guests_on_two_hosts_ping_across_vxlan_and_another_vni_is_apart(hosts):
    first, second = vxlan_segment(), vxlan_segment()
    hosts.a.set_tunnel_peers([hosts.b_ip])
    hosts.b.set_tunnel_peers([hosts.a_ip])
    on_a, on_b = hosts.guest(hosts.a, first, 5), hosts.guest(hosts.b, first, 6)
    assert on_a.ping(on_b.ip, within=5) is not None, "A to B across VXLAN"
    assert on_b.ping(on_a.ip, within=5) is not None, "B to A across VXLAN"

    other_on_b = hosts.guest(hosts.b, second, 7)  # same addresses, another network (VNI)
    assert on_a.ping(other_on_b.ip, within=1) is None, "another VNI reached"
    other_on_a = hosts.guest(hosts.a, second, 8)
    assert other_on_a.ping(other_on_b.ip, within=5) is not None  # which works on its own
    assert other_on_a.ping(on_b.ip, within=1) is None

    link = vxlan_link(vxlan_name(first.network_id))
    info = link["linkinfo"]["info_data"]
    assert (info["id"], info["local"], info["port"]) == (first.segmentation_id, hosts.a_ip, 4789)
    assert link["master"] == bridge_name(first.network_id) and link["mtu"] == 1450
    assert hosts.a.tunnels.flood_list(vxlan_name(first.network_id)) == [hosts.b_ip]
    assert hosts.b.tunnels.flood_list(vxlan_name(first.network_id)) == [hosts.a_ip]


def test_a_removed_peer_is_no_longer_flooded_and_comes_back_without_duplicates(hosts, tmp_path):
    segment = vxlan_segment()
    device = vxlan_name(segment.network_id)
    hosts.a.set_tunnel_peers([hosts.b_ip, hosts.a_ip])  # its own endpoint is left out
    hosts.b.set_tunnel_peers([hosts.a_ip])
    on_a, on_b = hosts.guest(hosts.a, segment, 5), hosts.guest(hosts.b, segment, 6)
    assert on_a.ping(on_b.ip, within=5) is not None
    assert hosts.a.tunnel_peers() == [hosts.b_ip]

    hosts.a.set_tunnel_peers([])
    assert hosts.a.tunnels.flood_list(device) == []
    on_a.run("ip", "neigh", "flush", "all")
    assert on_a.ping(on_b.ip, within=1) is None, "A's ARP request still flooded to B"

    for _ in range(2):
        hosts.a.set_tunnel_peers([hosts.b_ip])
    restarted = make_driver("linux", state_dir=str(tmp_path / "a"), prefix=hosts.a.host.prefix,
                            bridge_mappings=",".join(f"{k}:{v}" for k, v in hosts.a.host.mappings.items()),
                            local_ip=hosts.a_ip)
    restarted.init_host("host-a")  # the agent's restart: devices kept, peers set again
    restarted.set_tunnel_peers([hosts.b_ip])
    assert hosts.a.tunnels.flood_list(device) == [hosts.b_ip]  # one entry, not three
    assert on_a.ping(on_b.ip, within=5) is not None

    hosts.remove(on_a)  # the network's last port here: its bridge and VXLAN device go
    assert vxlan_link(device) is None and vxlan_link(bridge_name(segment.network_id)) is None
    assert vxlan_link(device, hosts.b.run) is not None  # B still has a guest on it
    hosts.remove(on_b)
    assert vxlan_link(device, hosts.b.run) is None


def test_a_guest_tap_brings_the_vxlan_device_and_takes_it_away(hosts):
    segment = vxlan_segment(mtu=1450)
    hosts.a.set_tunnel_peers([hosts.b_ip])
    port = PortSpec(id=str(uuid.uuid4()), segment=segment, mac="fa:16:3e:12:34:56")
    vif = hosts.a.plug_port(port)
    assert vif["mtu"] == 1450
    assert hosts.a.tunnels.list() == {segment.network_id: vxlan_name(segment.network_id)}
    assert hosts.a.tunnels.flood_list(vxlan_name(segment.network_id)) == [hosts.b_ip]
    hosts.a.plug_port(port)  # again: the same device, one flood entry
    assert hosts.a.tunnels.flood_list(vxlan_name(segment.network_id)) == [hosts.b_ip]
    hosts.a.unplug_port(port.id)
    assert hosts.a.tunnels.list() == {} and vxlan_link(bridge_name(segment.network_id)) is None


def test_without_a_local_ip_a_vxlan_network_stays_on_its_host(linux_driver):  # noqa: F811
    segment = vxlan_segment()
    linux_driver.plug_port(PortSpec(id=str(uuid.uuid4()), segment=segment, mac="fa:16:3e:12:34:57"))
    assert linux_driver.tunnel_endpoint() is None and linux_driver.tunnels.list() == {}
    assert vxlan_link(vxlan_name(segment.network_id)) is None
