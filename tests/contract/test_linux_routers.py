"""Routers on the Linux driver, beyond the contract: what the namespace holds after each
sync, and real traffic through it (root; skips otherwise).

The "guests" are namespaces with a veth on the tenant network's bridge; the external
network is the test's mapped bridge, which the router's sync gives the external gateway
address, so the test process itself is "the host". Every address is in a random
``10.251.<r>.0/24`` that no host route covers, and every target is checked local
(``ip route get``) before anything is sent to it.
"""

from __future__ import annotations

import ipaddress
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
import uuid

import pytest

from contract.test_linux_network_driver import linux_driver, missing  # noqa: F401 (the fixture)
from contract.test_network_driver import new_id, segment
from overcast.network.drivers import FloatingSpec, RouterLeg, RouterSpec
from overcast.network.drivers.errors import NetworkDriverError
from overcast.network.drivers.linux import router_rules
from overcast.network.drivers.linux.routers import Routers
from overcast.network.drivers.linux.host import bridge_name, inner_name, router_namespace, tap_name

pytestmark = pytest.mark.skipif(bool(missing()), reason=missing() or "runs")
PATH = {**os.environ, "PATH": os.environ.get("PATH", "") + ":/usr/sbin:/sbin"}


def sh(*args: str, netns: str | None = None, check: bool = True) -> str:
    command = (["ip", "netns", "exec", netns] if netns else []) + list(args)
    return subprocess.run(command, capture_output=True, text=True, check=check, env=PATH).stdout


def free_cidrs(count: int) -> list[ipaddress.IPv4Network]:
    """Random ``10.251.<r>.0/24`` networks that no route of the host touches."""
    routes = [ipaddress.ip_network(r["dst"], strict=False) for r in json.loads(sh("ip", "-j", "route", "show"))
              if r["dst"] != "default"]
    routes += [ipaddress.ip_network(r["dst"], strict=False)
               for r in json.loads(sh("ip", "-j", "route", "show", "table", "local")) if r["dst"] != "default"]
    free = [net for net in (ipaddress.ip_network(f"10.251.{n}.0/24") for n in random.sample(range(256), 256))
            if not any(net.overlaps(route) for route in routes)]
    return free[:count]


def host(net: ipaddress.IPv4Network, n: int) -> str:
    return str(net.network_address + n)


def route_dev(address: str, netns: str | None = None) -> str:
    """The device ``ip route get`` sends ``address`` through."""
    return json.loads(sh("ip", "-j", "route", "get", address, netns=netns))[0].get("dev", "")


class World:
    """A router between a tenant network (guests a and b) and the test's mapped bridge."""

    def __init__(self, driver):
        self.driver = driver
        self.external, self.internal = free_cidrs(2)
        self.bridge = driver.host.mappings["public"]
        self.tenant = segment()
        outside = segment(kind="flat")
        self.leg = RouterLeg(new_id(), "fa:16:3e:00:02:01", self.tenant, new_id(), host(self.internal, 1),
                             str(self.internal))
        self.gateway = RouterLeg(new_id(), "fa:16:3e:00:02:02", outside, new_id(), host(self.external, 10),
                                 str(self.external))
        self.floating = FloatingSpec(host(self.external, 20), host(self.internal, 5), new_id())
        self.spec = RouterSpec(id=new_id(), legs=[self.leg], gateway=self.gateway, gateway_ip=host(self.external, 1),
                               floating_ips=[self.floating])
        self.tag = uuid.uuid4().hex[:6]
        self.guests: dict[str, str] = {}
        self.servers: list[subprocess.Popen] = []

    def with_(self, **changes) -> RouterSpec:
        return RouterSpec(**{**self.spec.__dict__, **changes})

    def add_guest(self, name: str, n: int) -> str:
        """A namespace with ``eth0`` (the n-th address) on the tenant bridge, routed via the router."""
        netns, outer = f"g{self.tag}{name}", f"vg{self.tag}{name}"
        sh("ip", "netns", "add", netns)
        self.guests[name] = netns
        sh("ip", "link", "add", outer, "type", "veth", "peer", "name", "eth0", "netns", netns)
        sh("ip", "link", "set", outer, "master", bridge_name(self.tenant.network_id), "up")
        sh("ip", "link", "set", "lo", "up", netns=netns)
        sh("ip", "link", "set", "eth0", "up", netns=netns)
        sh("ip", "addr", "add", f"{host(self.internal, n)}/24", "dev", "eth0", netns=netns)
        sh("ip", "route", "add", "default", "via", self.leg.ip_address, netns=netns)
        return netns

    def serve_in(self, netns: str, port: int, banner: str) -> None:
        """A TCP server in a guest: it says ``<banner> <client address>``, then echoes."""
        code = ("import socket, threading\n"
                "def serve(c, a):\n"
                "    c.sendall(('%s ' + a[0]).encode())\n"
                "    while data := c.recv(100):\n"
                "        c.sendall(data)\n"
                "s = socket.create_server(('0.0.0.0', %d))\n"
                "while True:\n"
                "    threading.Thread(target=serve, args=s.accept(), daemon=True).start()\n") % (banner, port)
        self.servers.append(subprocess.Popen(["ip", "netns", "exec", netns, sys.executable, "-c", code], env=PATH))
        for _ in range(50):
            if f":{port}" in sh("ss", "-Htln", netns=netns):
                return
            time.sleep(0.1)
        raise AssertionError(f"the server in {netns} did not start")

    def close(self) -> None:
        for server in self.servers:
            server.kill()
            server.wait()
        for name, netns in self.guests.items():
            sh("ip", "link", "del", f"vg{self.tag}{name}", check=False)  # at once: a namespace goes lazily
            sh("ip", "netns", "delete", netns, check=False)
        if self.guests:  # the tenant bridge held the guests' veths too, so the router's removal kept it
            sh("ip", "link", "del", bridge_name(self.tenant.network_id), check=False)


@pytest.fixture
def world(linux_driver):
    world = World(linux_driver)
    yield world
    world.close()


def fetch(address: str, port: int, timeout: float = 3.0) -> str:
    with socket.create_connection((address, port), timeout=timeout) as conn:
        conn.settimeout(timeout)
        return conn.recv(200).decode()


def echo(conn: socket.socket, text: str) -> str:
    """Send ``text`` on an open connection to a guest server; what comes back ("" for nothing)."""
    conn.sendall(text.encode())
    try:
        return conn.recv(200).decode()
    except OSError:
        return ""


def fetch_from(netns: str, address: str, port: int) -> str:
    code = ("import socket, sys\nc = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)\n"
            "c.settimeout(3)\nprint(c.recv(200).decode())\n")
    done = subprocess.run(["ip", "netns", "exec", netns, sys.executable, "-c", code, address, str(port)],
                          capture_output=True, text=True, env=PATH, timeout=20)
    return done.stdout.strip() if done.returncode == 0 else f"failed: {done.stderr.strip()[-200:]}"


class HostServer:
    """A TCP server on the mapped bridge's address answering the client's address."""

    def __init__(self, address: str):
        self.sock = socket.create_server((address, 0))
        self.sock.settimeout(0.5)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, peer = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.sendall(f"host {peer[0]}".encode())

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        self.sock.close()


def addresses(device: str, netns: str | None = None) -> set[str]:
    shown = json.loads(sh("ip", "-j", "addr", "show", "dev", device, netns=netns))
    return {f"{a['local']}/{a['prefixlen']}" for link in shown for a in link["addr_info"] if a["scope"] == "global"}


def routes(netns: str) -> set[tuple[str, str]]:
    return {(r["dst"], r.get("gateway", "")) for r in json.loads(sh("ip", "-j", "route", "show", netns=netns))}


def nat_rules(netns: str) -> str:
    return sh("iptables-save", "-t", "nat", netns=netns)


def test_namespace_follows_the_spec(world):
    driver, spec = world.driver, world.spec
    netns = router_namespace(spec.id)
    qr, qg = inner_name("qr", world.leg.port_id), inner_name("qg", world.gateway.port_id)
    driver.sync_router(spec)
    assert driver.list_routers() == [spec.id]
    assert addresses(qr, netns) == {f"{world.leg.ip_address}/24"}
    assert addresses(qg, netns) == {f"{world.gateway.ip_address}/24", f"{world.floating.floating_ip}/32"}
    assert ("default", spec.gateway_ip) in routes(netns)
    assert sh("sysctl", "-n", "net.ipv4.ip_forward", netns=netns).strip() == "1"
    rules = nat_rules(netns)
    fip, fixed = world.floating.floating_ip, world.floating.fixed_ip
    floating_snat = f"-A POSTROUTING -s {fixed}/32 -o {qg} -j SNAT --to-source {fip}"
    router_snat = f"-A POSTROUTING -s {world.internal} -o {qg} -j SNAT --to-source {world.gateway.ip_address}"
    assert f"-A PREROUTING -d {fip}/32 -j DNAT --to-destination {fixed}" in rules
    assert rules.index(floating_snat) < rules.index(router_snat)
    assert f"{spec.gateway_ip}/24" in addresses(world.bridge)  # the host's way to the floating IPs

    # a second leg, a static route, no floating IP, no SNAT, admin down
    second = RouterLeg(new_id(), "fa:16:3e:00:02:03", segment(), new_id(), "192.168.77.1", "192.168.77.0/24")
    changed = world.with_(legs=[world.leg, second], floating_ips=[], snat=False, admin_state_up=False,
                          routes=[{"destination": "172.31.9.0/24", "nexthop": "192.168.77.9"},
                                  {"destination": "172.31.8.0/24", "nexthop": "192.168.77.7"},
                                  {"destination": "172.31.8.0/24", "nexthop": "192.168.77.8"}])
    driver.sync_router(changed)
    driver.sync_router(changed)
    assert addresses(qg, netns) == {f"{world.gateway.ip_address}/24"}
    assert addresses(inner_name("qr", second.port_id), netns) == {"192.168.77.1/24"}
    assert ("172.31.9.0/24", "192.168.77.9") in routes(netns)
    multipath = [r for r in json.loads(sh("ip", "-j", "route", "show", netns=netns)) if r["dst"] == "172.31.8.0/24"]
    assert [sorted(hop["gateway"] for hop in r["nexthops"]) for r in multipath] == [["192.168.77.7", "192.168.77.8"]]
    assert "SNAT" not in nat_rules(netns) and "DNAT" not in nat_rules(netns)
    assert sh("sysctl", "-n", "net.ipv4.ip_forward", netns=netns).strip() == "0"
    assert ":FORWARD DROP" in sh("iptables-save", "-t", "filter", netns=netns)

    # back: the second leg, its bridge and the static route go
    driver.sync_router(spec)
    assert not driver.host.link_exists(tap_name(second.port_id))
    assert not driver.host.link_exists(bridge_name(second.segment.network_id))
    assert {dst for dst, _ in routes(netns)} & {"172.31.9.0/24", "172.31.8.0/24"} == set()
    assert sh("sysctl", "-n", "net.ipv4.ip_forward", netns=netns).strip() == "1"

    driver.remove_router(spec.id)
    assert netns not in driver.host.namespaces() and driver.list_routers() == []
    for name in (tap_name(world.leg.port_id), tap_name(world.gateway.port_id),
                 bridge_name(world.tenant.network_id)):
        assert not driver.host.link_exists(name)


def test_bad_or_failed_sync_leaves_the_router_as_it_was(world, monkeypatch):
    driver, spec = world.driver, world.spec
    netns = router_namespace(spec.id)
    driver.sync_router(spec)
    before = nat_rules(netns)
    stray = world.with_(floating_ips=[FloatingSpec(host(world.external, 21), "10.9.9.9", new_id())])
    with pytest.raises(NetworkDriverError):
        driver.sync_router(stray)
    with pytest.raises(NetworkDriverError):
        driver.sync_router(world.with_(gateway=None, gateway_ip=None))
    assert addresses(inner_name("qg", world.gateway.port_id), netns) == {
        f"{world.gateway.ip_address}/24", f"{world.floating.floating_ip}/32"}
    monkeypatch.setattr(router_rules, "tables", lambda *args: "*nat\n-A NOWHERE -j NOTHING\nCOMMIT\n")
    with pytest.raises(NetworkDriverError):
        driver.sync_router(world.with_(floating_ips=[]))
    assert _same_rules(nat_rules(netns), before) and "DNAT" in before
    assert driver.list_routers() == [spec.id]
    fresh = world.with_(id=new_id(), legs=[], gateway=None, gateway_ip=None, floating_ips=[])
    with pytest.raises(NetworkDriverError):
        driver.sync_router(fresh)
    assert driver.list_routers() == [spec.id] and router_namespace(fresh.id) not in driver.host.namespaces()
    monkeypatch.undo()

    # a command failing midway (after the legs changed): the router gets its last spec back
    second = RouterLeg(new_id(), "fa:16:3e:00:02:03", segment(), new_id(), "192.168.77.1", "192.168.77.0/24")
    failures = iter([NetworkDriverError(action="route", reason="injected")])
    real_routes = Routers._routes

    def failing_routes(self, *args):
        error = next(failures, None)
        if error:
            raise error
        return real_routes(self, *args)

    monkeypatch.setattr(Routers, "_routes", failing_routes)
    with pytest.raises(NetworkDriverError, match="injected"):
        driver.sync_router(world.with_(legs=[world.leg, second], floating_ips=[]))
    assert not driver.host.link_exists(tap_name(second.port_id))
    assert not driver.host.link_exists(bridge_name(second.segment.network_id))
    assert addresses(inner_name("qg", world.gateway.port_id), netns) == {
        f"{world.gateway.ip_address}/24", f"{world.floating.floating_ip}/32"}
    assert _same_rules(nat_rules(netns), before)


def _same_rules(one: str, other: str) -> bool:
    """The same rules in two iptables-save outputs (their times and counters aside)."""
    def keep(text: str) -> list[str]:
        return [line.split(" [")[0] for line in text.splitlines() if not line.startswith("#")]
    return keep(one) == keep(other)


def test_guests_reach_out_through_snat_and_the_host_reaches_floating_ips(world):
    driver, spec = world.driver, world.spec
    driver.sync_router(spec)
    a, b = world.add_guest("a", 5), world.add_guest("b", 6)
    world.serve_in(a, 8080, "guest-a")
    world.serve_in(b, 8080, "guest-b")
    gateway_ip, floating_ip = spec.gateway_ip, world.floating.floating_ip
    assert f"{gateway_ip}/24" in addresses(world.bridge)
    assert route_dev(gateway_ip, a) == "eth0" and route_dev(floating_ip) == world.bridge
    server = HostServer(gateway_ip)
    try:
        assert fetch_from(b, gateway_ip, server.port) == f"host {world.gateway.ip_address}"  # SNAT
        assert fetch_from(a, gateway_ip, server.port) == f"host {floating_ip}"  # its floating IP
    finally:
        server.close()
    assert fetch(floating_ip, 8080) == f"guest-a {gateway_ip}"  # the host -> the floating IP -> guest a

    # the floating IP moves to guest b: new connections reach b, a's open one stops
    with socket.create_connection((floating_ip, 8080), timeout=3) as conn:
        conn.settimeout(2)
        assert conn.recv(200).decode() == f"guest-a {gateway_ip}" and echo(conn, "one") == "one"
        moved = FloatingSpec(floating_ip, host(world.internal, 6), world.floating.port_id)
        driver.sync_router(world.with_(floating_ips=[moved]))
        assert echo(conn, "two") == ""
    assert fetch(floating_ip, 8080) == f"guest-b {gateway_ip}"

    driver.sync_router(world.with_(admin_state_up=False))
    with pytest.raises(OSError):
        fetch(floating_ip, 8080, timeout=2)
    driver.sync_router(spec)
    assert fetch(floating_ip, 8080) == f"guest-a {gateway_ip}"

    driver.sync_router(world.with_(floating_ips=[]))
    assert route_dev(floating_ip) == world.bridge
    with pytest.raises(OSError):
        fetch(floating_ip, 8080, timeout=2)

    driver.remove_router(spec.id)
    netns = router_namespace(spec.id)
    assert netns not in driver.host.namespaces() and driver.list_routers() == []
    for name in (tap_name(world.leg.port_id), tap_name(world.gateway.port_id)):
        assert not driver.host.link_exists(name)
    host_rules = sh("iptables-save") + sh("iptables-save", "-t", "nat")
    assert str(world.external.network_address)[:-1] not in host_rules  # nothing of the router on the host's tables
    assert str(world.internal.network_address)[:-1] not in host_rules


def test_a_port_with_two_subnets_is_one_leg_and_ipv6_is_routed(world):
    driver = world.driver
    v6 = RouterLeg(world.leg.port_id, world.leg.mac, world.tenant, new_id(), "fd51:7e::1", "fd51:7e::/64")
    spec = world.with_(legs=[world.leg, v6], routes=[{"destination": "fd51:7f::/64", "nexthop": "fd51:7e::9"}])
    netns = router_namespace(spec.id)
    driver.sync_router(spec)
    driver.sync_router(spec)
    qr = inner_name("qr", world.leg.port_id)
    assert addresses(qr, netns) == {f"{world.leg.ip_address}/24", "fd51:7e::1/64"}
    assert [link["ifname"] for link in json.loads(sh("ip", "-j", "link", "show", netns=netns))
            if link["ifname"].startswith("qr-")] == [qr]
    assert "fd51:7f::/64" in sh("ip", "-6", "route", "show", netns=netns)
    assert sh("sysctl", "-n", "net.ipv6.conf.all.forwarding", netns=netns).strip() == "1"
    driver.sync_router(world.spec)
    assert addresses(qr, netns) == {f"{world.leg.ip_address}/24"}
    assert "fd51:7f::/64" not in sh("ip", "-6", "route", "show", netns=netns)
    driver.remove_router(spec.id)
    assert driver.list_routers() == []


def test_the_host_gateway_address_never_goes_where_the_host_has_the_network(world):
    """An external subnet the host already reaches by another device (its uplink's, here a
    veth pair of the test standing in for it) keeps its gateway address off the mapped bridge."""
    driver, dummy = world.driver, f"dm{world.tag}"
    sh("ip", "link", "add", dummy, "type", "veth", "peer", "name", f"dn{world.tag}")
    try:
        sh("ip", "addr", "add", f"{host(world.external, 200)}/24", "dev", dummy)
        sh("ip", "link", "set", f"dn{world.tag}", "up")
        sh("ip", "link", "set", dummy, "up")
        driver.sync_router(world.spec)
        assert addresses(world.bridge) == set()
        sh("ip", "link", "del", dummy)
        driver.sync_router(world.spec)
        assert addresses(world.bridge) == {f"{world.spec.gateway_ip}/24"}
    finally:
        sh("ip", "link", "del", dummy, check=False)
        driver.remove_router(world.spec.id)
