"""The router advertisements' dnsmasq command line (no root needed: only the argv)."""

from __future__ import annotations

from pathlib import Path

from overcast.network.drivers import RouterLeg, RouterSpec, Segment
from overcast.network.drivers.linux.router_ads import advertised, command

V4 = RouterLeg("p-in", "fa:16:3e:00:00:01", Segment("n1"), "s1", "10.0.0.1", "10.0.0.0/24")
SLAAC = RouterLeg("p-in", "fa:16:3e:00:00:01", Segment("n1"), "s6", "fd00:1::1", "fd00:1::/64", "slaac")
STATEFUL = RouterLeg("p-b", "fa:16:3e:00:00:03", Segment("n2"), "s7", "fd00:2::1", "fd00:2::/64", "dhcpv6-stateful")
STATELESS = RouterLeg("p-b", "fa:16:3e:00:00:03", Segment("n2"), "s8", "fd00:3::1", "fd00:3::/64",
                      "dhcpv6-stateless")
NONE = RouterLeg("p-c", "fa:16:3e:00:00:04", Segment("n3"), "s9", "fd00:4::1", "fd00:4::/64")
GATEWAY = RouterLeg("p-gw", "fa:16:3e:00:00:02", Segment("ext", "flat", physical_network="public"), "s2",
                    "172.24.4.10", "172.24.4.0/24")
DEVICES = {"p-in": "qr-p-in", "p-b": "qr-p-b", "p-c": "qr-p-c", "p-gw": "qg-p-gw"}


def spec(**changes) -> RouterSpec:
    values = {"id": "r1", "legs": [V4, SLAAC, STATEFUL, STATELESS, NONE], "gateway": GATEWAY,
              "gateway_ip": "172.24.4.1"}
    return RouterSpec(**{**values, **changes})


def test_each_ra_mode_is_a_range_mode_and_subnets_without_one_are_not_advertised():
    argv = command(spec(), Path("/state/ra/r1"), advertised(spec(), DEVICES))
    ranges = [arg for arg in argv if arg.startswith("--dhcp-range=")]
    assert ranges == ["--dhcp-range=fd00:2::,static,64", "--dhcp-range=fd00:3::,ra-stateless,64",
                      "--dhcp-range=fd00:1::,ra-only,64"]  # by device, then prefix
    assert [arg for arg in argv if arg.startswith("--interface=")] == ["--interface=qr-p-b", "--interface=qr-p-in"]
    assert "--ra-param=qr-p-in,30" in argv and "--port=0" in argv and "--enable-ra" in argv
    assert "--pid-file=/state/ra/r1/pid" in argv


def test_no_gateway_advertises_no_default_route_and_down_or_v4_only_advertises_nothing():
    without = spec(gateway=None, gateway_ip=None)
    assert "--ra-param=qr-p-in,30,0" in command(without, Path("/s"), advertised(without, DEVICES))
    assert advertised(spec(admin_state_up=False), DEVICES) == []
    assert advertised(spec(legs=[V4, NONE]), DEVICES) == []
