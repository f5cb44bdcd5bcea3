"""Gratuitous ARP when a floating IP moves between routers (root; skips otherwise): the
host's neighbour entry for the floating IP follows the new router's gateway MAC at once,
with nothing flushed, and the host reaches the new guest through it."""

from __future__ import annotations

import json
import socket
import struct

import pytest

from contract.test_linux_network_driver import linux_driver, missing  # noqa: F401 (the fixture)
from contract.test_linux_routers import fetch, host, route_dev, sh, world  # noqa: F401 (world: the fixture)
from contract.test_network_driver import new_id, segment
from overcast.network.drivers import FloatingSpec, RouterLeg, RouterSpec
from overcast.network.drivers.linux import garp
from overcast.network.drivers.linux.host import bridge_name

pytestmark = pytest.mark.skipif(bool(missing()), reason=missing() or "runs")


def neighbour(address: str, device: str) -> dict:
    shown = json.loads(sh("ip", "-j", "neigh", "show", "to", address, "dev", device) or "[]")
    return shown[0] if shown else {}


def test_frame_is_an_arp_request_for_the_address_from_itself():
    mac = bytes.fromhex("fa163e000201")
    data = garp.frame(mac, "10.0.0.20")
    assert len(data) == 60 and data[:6] == b"\xff" * 6 and data[6:12] == mac
    assert struct.unpack("!H", data[12:14])[0] == 0x0806
    htype, ptype, hlen, plen, op, sha, spa, tha, tpa = struct.unpack("!HHBBH6s4s6s4s", data[14:42])
    assert (htype, ptype, hlen, plen, op) == (1, 0x0800, 6, 4, 1)
    assert sha == mac and spa == tpa == socket.inet_aton("10.0.0.20") and tha == b"\x00" * 6


def test_a_floating_ip_moved_to_another_router_is_announced(world):
    driver = world.driver
    driver.sync_router(world.spec)
    world.add_guest("a", 5)
    world.serve_in(world.guests["a"], 8080, "guest-a")
    floating_ip, gateway_ip = world.floating.floating_ip, world.spec.gateway_ip

    # a second router, on the same external bridge, in front of its own tenant network with guest b
    inside = f"192.168.{world.external.network_address.packed[2]}"
    tenant = segment()
    leg = RouterLeg(new_id(), "fa:16:3e:00:03:01", tenant, new_id(), f"{inside}.1", f"{inside}.0/24")
    gateway = RouterLeg(new_id(), "fa:16:3e:00:03:02", world.gateway.segment, new_id(), host(world.external, 11),
                        str(world.external))
    other = RouterSpec(id=new_id(), legs=[leg], gateway=gateway, gateway_ip=gateway_ip)
    driver.sync_router(other)
    b, outer = f"g{world.tag}b", f"vg{world.tag}b"
    sh("ip", "netns", "add", b)
    world.guests["b"] = b
    sh("ip", "link", "add", outer, "type", "veth", "peer", "name", "eth0", "netns", b)
    sh("ip", "link", "set", outer, "master", bridge_name(tenant.network_id), "up")
    sh("ip", "link", "set", "eth0", "up", netns=b)
    sh("ip", "addr", "add", f"{inside}.5/24", "dev", "eth0", netns=b)
    sh("ip", "route", "add", "default", "via", leg.ip_address, netns=b)
    world.serve_in(b, 8080, "guest-b")
    try:
        assert route_dev(floating_ip) == world.bridge
        assert fetch(floating_ip, 8080) == f"guest-a {gateway_ip}"
        assert neighbour(floating_ip, world.bridge).get("lladdr") == world.gateway.mac

        # the floating IP moves to guest b behind the second router (the first lets go first)
        driver.sync_router(world.with_(floating_ips=[]))
        driver.sync_router(RouterSpec(**{**other.__dict__, "floating_ips": [
            FloatingSpec(floating_ip, f"{inside}.5", new_id())]}))
        assert neighbour(floating_ip, world.bridge).get("lladdr") == gateway.mac  # announced, nothing flushed
        assert fetch(floating_ip, 8080) == f"guest-b {gateway_ip}"

        # and back, the new owner announcing before the old one lets go
        driver.sync_router(world.spec)
        assert neighbour(floating_ip, world.bridge).get("lladdr") == world.gateway.mac
        driver.sync_router(other)
        assert fetch(floating_ip, 8080) == f"guest-a {gateway_ip}"
    finally:
        driver.remove_router(other.id)
        sh("ip", "link", "del", outer, check=False)
        sh("ip", "link", "del", bridge_name(tenant.network_id), check=False)
