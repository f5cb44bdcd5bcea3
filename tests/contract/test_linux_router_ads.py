"""IPv6 router advertisements from the Linux driver's routers (root; skips otherwise): an
endpoint namespace on the tenant bridge (a guest with the kernel's own SLAAC) gets its
address from the advertised prefix and its default route via the router, and the flags
follow the subnet's ``ipv6_ra_mode``. Only link-local and the test's own prefixes are
used, on bridges the test made."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from contract.test_linux_network_driver import linux_driver, missing  # noqa: F401 (the fixture)
from contract.test_linux_routers import PATH, sh, world  # noqa: F401 (world: the fixture)
from contract.test_network_driver import new_id
from overcast.network.drivers import RouterLeg
from overcast.network.drivers import make_driver
from overcast.network.drivers.linux.dhcp import _cmdline
from overcast.network.drivers.linux.host import bridge_name, inner_name

pytestmark = pytest.mark.skipif(bool(missing()), reason=missing() or "runs")

#: solicits an advertisement on eth0 and prints its flags, router lifetime and prefixes as JSON
LISTEN = r"""
import json, socket, struct, sys, time
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"eth0")
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
s.settimeout(1)
end = time.time() + float(sys.argv[1])
while time.time() < end:
    try:  # (no link-local address until its duplicate detection is done: try again)
        s.sendto(struct.pack("!BBHI", 133, 0, 0, 0), ("ff02::2", 0, 0, socket.if_nametoindex("eth0")))
    except OSError:
        time.sleep(0.2)
        continue
    try:
        data, peer = s.recvfrom(2000)
    except socket.timeout:
        continue
    if data[0] != 134:
        continue
    found = {"from": peer[0], "managed": bool(data[5] & 0x80), "other": bool(data[5] & 0x40),
             "lifetime": struct.unpack("!H", data[6:8])[0], "prefixes": {}}
    i = 16
    while i + 2 <= len(data) and data[i + 1]:
        if data[i] == 3:
            prefix = socket.inet_ntop(socket.AF_INET6, data[i + 16:i + 32]) + "/" + str(data[i + 2])
            found["prefixes"][prefix] = {"autonomous": bool(data[i + 3] & 0x40)}
        i += data[i + 1] * 8
    print(json.dumps(found))
    break
"""


class Endpoint:
    """A namespace with ``eth0`` on a bridge, nothing configured: what the kernel learns from RAs."""

    def __init__(self, tag: str, bridge: str):
        self.netns, self.outer = f"ra{tag}", f"vr{tag}"
        sh("ip", "netns", "add", self.netns)
        sh("ip", "link", "add", self.outer, "type", "veth", "peer", "name", "eth0", "netns", self.netns)
        sh("ip", "link", "set", self.outer, "master", bridge, "up")
        sh("ip", "link", "set", "eth0", "up", netns=self.netns)

    def advertisement(self, wait: float = 10) -> dict:
        """The first advertisement answering a solicitation within ``wait`` seconds ({}: none)."""
        done = subprocess.run(["ip", "netns", "exec", self.netns, sys.executable, "-c", LISTEN, str(wait)],
                              capture_output=True, text=True, env=PATH, timeout=30)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) if done.stdout.strip() else {}

    def addresses(self) -> set[str]:
        shown = json.loads(sh("ip", "-j", "-6", "addr", "show", "dev", "eth0", "scope", "global", netns=self.netns))
        return {f"{a['local']}/{a['prefixlen']}" for link in shown for a in link.get("addr_info", []) if "local" in a}

    def default_route(self) -> str:
        shown = json.loads(sh("ip", "-j", "-6", "route", "show", "default", netns=self.netns))
        return shown[0].get("gateway", "") if shown else ""

    def close(self) -> None:
        sh("ip", "link", "del", self.outer, check=False)
        sh("ip", "netns", "delete", self.netns, check=False)


def wait_for(check, timeout: float = 15):
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, "not true in time"
        time.sleep(0.2)
    return found


def link_local(device: str, netns: str) -> str:
    shown = json.loads(sh("ip", "-j", "-6", "addr", "show", "dev", device, "scope", "link", netns=netns))
    return next(a["local"] for link in shown for a in link.get("addr_info", []) if "local" in a)


def test_a_slaac_subnet_gives_an_endpoint_its_address_and_default_route(world):
    driver = world.driver
    prefix = f"fd{world.tag[:2]}:{world.tag[2:6]}:1::/64"
    v6 = RouterLeg(world.leg.port_id, world.leg.mac, world.tenant, new_id(), prefix.replace("::/64", "::1"), prefix,
                   ipv6_ra_mode="slaac")
    spec = world.with_(legs=[world.leg, v6], floating_ips=[])
    driver.sync_router(spec)
    pid = driver.routers.ads.pid(spec.id)
    assert pid is not None
    endpoint = Endpoint(world.tag, bridge_name(world.tenant.network_id))
    try:
        seen = endpoint.advertisement()
        router = link_local(inner_name("qr", world.leg.port_id), f"qrouter-{spec.id}")
        assert seen["from"] == router and seen["lifetime"] > 0 and not seen["managed"] and not seen["other"]
        assert seen["prefixes"] == {prefix: {"autonomous": True}}
        addresses = wait_for(endpoint.addresses)
        assert [a for a in addresses if a.startswith(prefix.split("::")[0] + ":")]  # SLAAC in the prefix
        assert wait_for(endpoint.default_route) == router

        # the same spec again, or a driver starting afresh: the same daemon goes on
        driver.sync_router(spec)
        make_driver("linux", state_dir=str(driver.host.state_dir), prefix=driver.host.prefix,
                    bridge_mappings=f"public:{world.bridge}").sync_router(spec)
        assert driver.routers.ads.pid(spec.id) == pid

        # stateless and stateful: the flags follow; no gateway: no default route through it
        stateless = RouterLeg(**{**v6.__dict__, "ipv6_ra_mode": "dhcpv6-stateless"})
        driver.sync_router(world.with_(legs=[world.leg, stateless], floating_ips=[]))
        seen = endpoint.advertisement()
        assert (seen["managed"], seen["other"], seen["prefixes"]) == (False, True, {prefix: {"autonomous": True}})
        stateful = RouterLeg(**{**v6.__dict__, "ipv6_ra_mode": "dhcpv6-stateful"})
        driver.sync_router(world.with_(legs=[world.leg, stateful], floating_ips=[], gateway=None, gateway_ip=None))
        seen = endpoint.advertisement()
        assert seen["managed"] and seen["prefixes"] == {prefix: {"autonomous": False}} and seen["lifetime"] == 0
        assert "--dport 547 -j DROP" in sh("ip6tables-save", netns=f"qrouter-{spec.id}")

        # no RA mode (or the router down): nothing advertised, the daemon goes
        driver.sync_router(world.with_(legs=[world.leg, RouterLeg(**{**v6.__dict__, "ipv6_ra_mode": None})],
                                       floating_ips=[]))
        assert driver.routers.ads.pid(spec.id) is None
        assert endpoint.advertisement(wait=3) == {}
        driver.sync_router(spec)
        assert driver.routers.ads.pid(spec.id) is not None
        driver.sync_router(world.with_(legs=[world.leg, v6], floating_ips=[], admin_state_up=False))
        assert driver.routers.ads.pid(spec.id) is None
        driver.sync_router(spec)
        pid = driver.routers.ads.pid(spec.id)
    finally:
        endpoint.close()
    driver.remove_router(spec.id)
    assert driver.routers.ads.pid(spec.id) is None
    assert not (driver.host.state_dir / "ra" / spec.id).exists()
    assert _cmdline(pid) == []  # gone (or a zombie)
