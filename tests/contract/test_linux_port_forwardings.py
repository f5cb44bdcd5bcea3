"""Port forwardings on the Linux driver's routers, with real traffic: the host (this test
process, on the router's mapped bridge) reaches a guest namespace's port through a
floating IP's forwarded port only while the forwarding exists (root; skips otherwise).
Every target is checked local (``ip route get``) before anything is sent to it."""

from __future__ import annotations

import socket

import pytest

from contract.test_linux_network_driver import linux_driver, missing  # noqa: F401 (the fixture)
from contract.test_linux_routers import (_same_rules, addresses, echo, fetch, host, nat_rules, route_dev,  # noqa: F401
                                        world)
from overcast.network.drivers import ForwardingSpec
from overcast.network.drivers import make_driver
from overcast.network.drivers.errors import NetworkDriverError
from overcast.network.drivers.linux.host import inner_name, router_namespace

pytestmark = pytest.mark.skipif(bool(missing()), reason=missing() or "runs")


def refused(address: str, port: int) -> bool:
    try:
        fetch(address, port, timeout=1.5)
    except OSError:
        return True
    return False


def test_the_host_reaches_a_guest_through_a_forwarded_port_only_while_it_exists(world):
    driver = world.driver
    fip, to_a, to_b = host(world.external, 30), host(world.internal, 5), host(world.internal, 6)
    forwardings = [ForwardingSpec(fip, "tcp", 18080, to_a, 8080), ForwardingSpec(fip, "tcp", 18081, to_b, 8080),
                   ForwardingSpec(fip, "udp", 18080, to_b, 53)]
    spec = world.with_(floating_ips=[], port_forwardings=forwardings)
    netns, qg = router_namespace(spec.id), inner_name("qg", world.gateway.port_id)
    driver.sync_router(spec)
    a, b = world.add_guest("a", 5), world.add_guest("b", 6)
    world.serve_in(a, 8080, "guest-a")
    world.serve_in(b, 8080, "guest-b")
    assert f"{fip}/32" in addresses(qg, netns)
    assert route_dev(fip) == world.bridge
    gateway_ip = spec.gateway_ip
    assert fetch(fip, 18080) == f"guest-a {gateway_ip}"
    assert fetch(fip, 18081) == f"guest-b {gateway_ip}"
    assert refused(fip, 8080)  # only the forwarded ports

    # the same spec again, or from a driver that starts afresh on the same host: the same rules
    before = nat_rules(netns)
    driver.sync_router(spec)
    again = make_driver("linux", state_dir=str(driver.host.state_dir), prefix=driver.host.prefix,
                        bridge_mappings=f"public:{world.bridge}")
    again.sync_router(spec)
    assert _same_rules(nat_rules(netns), before)
    assert before.count("-p tcp -m tcp --dport 18080 -j DNAT") == 2  # PREROUTING and OUTPUT, once each

    # 18080 now goes to b: a's open connection through it stops, new ones reach b
    with socket.create_connection((fip, 18080), timeout=3) as conn:
        conn.settimeout(2)
        assert conn.recv(200).decode() == f"guest-a {gateway_ip}" and echo(conn, "one") == "one"
        moved = [ForwardingSpec(fip, "tcp", 18080, to_b, 8080), *forwardings[1:]]
        driver.sync_router(world.with_(floating_ips=[], port_forwardings=moved))
        assert echo(conn, "two") == ""
    assert fetch(fip, 18080) == f"guest-b {gateway_ip}"

    # a forwarding to an address on no leg is refused, and the router stays as it was
    with pytest.raises(NetworkDriverError):
        driver.sync_router(world.with_(floating_ips=[], port_forwardings=[
            ForwardingSpec(fip, "tcp", 2222, "10.9.9.9", 22)]))
    assert fetch(fip, 18080) == f"guest-b {gateway_ip}"

    # the forwardings go: nothing answers, the address leaves the gateway leg
    driver.sync_router(world.with_(floating_ips=[]))
    assert f"{fip}/32" not in addresses(qg, netns)
    assert "DNAT" not in nat_rules(netns)
    assert route_dev(fip) == world.bridge
    assert refused(fip, 18080) and refused(fip, 18081)
    driver.remove_router(spec.id)


def test_a_floating_ip_with_forwardings_beside_an_associated_one(world):
    """One router: a floating IP 1:1 on guest a, another forwarding one port to guest b."""
    driver = world.driver
    fip = host(world.external, 31)
    spec = world.with_(port_forwardings=[ForwardingSpec(fip, "tcp", 2080, host(world.internal, 6), 8080)])
    driver.sync_router(spec)
    a, b = world.add_guest("a", 5), world.add_guest("b", 6)
    world.serve_in(a, 8080, "guest-a")
    world.serve_in(b, 8080, "guest-b")
    floating = world.floating.floating_ip
    assert route_dev(fip) == world.bridge and route_dev(floating) == world.bridge
    assert fetch(floating, 8080) == f"guest-a {spec.gateway_ip}"
    assert fetch(fip, 2080) == f"guest-b {spec.gateway_ip}"
    assert refused(fip, 8080)
    driver.remove_router(spec.id)
