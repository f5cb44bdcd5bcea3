"""Subnet rules: default gateway and pools, pool bounds and overlaps, the gateway,
nameservers, host routes and IPv6 modes."""

from __future__ import annotations

import ipaddress

import pytest

from overcast.network import errors
from overcast.network.service import subnet_checks as checks

V4 = ipaddress.ip_network("10.0.0.0/24")
V6 = ipaddress.ip_network("2001:db8::/64")


def test_default_gateway_and_pools():
    assert checks.default_gateway(V4) == "10.0.0.1"
    assert checks.default_pools(V4, "10.0.0.1") == [{"start": "10.0.0.2", "end": "10.0.0.254"}]
    assert checks.default_pools(V4, "10.0.0.100") == [{"start": "10.0.0.1", "end": "10.0.0.99"},
                                                      {"start": "10.0.0.101", "end": "10.0.0.254"}]
    assert checks.default_pools(V4, None) == [{"start": "10.0.0.1", "end": "10.0.0.254"}]
    assert checks.default_pools(V6, "2001:db8::1") == [{"start": "2001:db8::2",
                                                        "end": "2001:db8::ffff:ffff:ffff:ffff"}]
    assert checks.default_pools(ipaddress.ip_network("10.0.0.0/31"), None) == []


@pytest.mark.parametrize("gateway", ["10.0.1.1", "10.0.0.0", "10.0.0.255", "2001:db8::1"])
def test_gateway_must_be_a_host_of_the_subnet(gateway):
    with pytest.raises(errors.InvalidInput):
        checks.check_gateway(V4, gateway)


def test_gateway_inside_is_fine():
    checks.check_gateway(V4, "10.0.0.254")
    checks.check_gateway(V4, None)


def test_pools_are_normalized_and_sorted():
    pools = [{"start": "10.0.0.100", "end": "10.0.0.110"}, {"start": "10.0.0.10", "end": "10.0.0.20"}]
    assert checks.check_pools(V4, pools, "10.0.0.1") == [pools[1], pools[0]]


@pytest.mark.parametrize("pools, error", [
    ([{"start": "10.0.0.10", "end": "10.0.0.50"}, {"start": "10.0.0.50", "end": "10.0.0.60"}],
     errors.OverlappingAllocationPools),
    ([{"start": "10.0.0.10", "end": "10.0.1.5"}], errors.OutOfBoundsAllocationPool),
    ([{"start": "10.0.0.0", "end": "10.0.0.5"}], errors.OutOfBoundsAllocationPool),
    ([{"start": "10.0.0.50", "end": "10.0.0.10"}], errors.InvalidAllocationPool),
    ([{"start": "10.0.0.x", "end": "10.0.0.10"}], errors.InvalidAllocationPool),
    ([{"start": "10.0.0.5"}], errors.InvalidAllocationPool),
    ([{"start": "2001:db8::5", "end": "2001:db8::9"}], errors.InvalidAllocationPool),
    ([{"start": "10.0.0.1", "end": "10.0.0.9"}], errors.GatewayConflictWithAllocationPools),
])
def test_bad_pools(pools, error):
    with pytest.raises(error):
        checks.check_pools(V4, pools, "10.0.0.1")


def test_nameservers_and_routes():
    assert checks.check_nameservers("s", ["8.8.8.8", "1.1.1.1"], 4) == ["8.8.8.8", "1.1.1.1"]
    with pytest.raises(errors.InvalidInput):
        checks.check_nameservers("s", ["8.8.8.8", "8.8.8.8"], 4)
    with pytest.raises(errors.DNSNameServersExhausted):
        checks.check_nameservers("s", [f"10.0.0.{n}" for n in range(6)], 4)
    route = {"destination": "10.1.0.0/16", "nexthop": "10.0.0.5"}
    assert checks.check_routes("s", [route], 4) == [route]
    for bad in ({"destination": "10.1.0.0/16"}, {"destination": "2001:db8::/64", "nexthop": "10.0.0.5"}):
        with pytest.raises(errors.InvalidInput):
            checks.check_routes("s", [bad], 4)


@pytest.mark.parametrize("version, ra, address, dhcp, network", [
    (4, "slaac", None, True, V4),
    (6, "slaac", "dhcpv6-stateful", True, V6),
    (6, None, "slaac", False, V6),
    (6, None, "slaac", True, ipaddress.ip_network("2001:db8::/80")),
])
def test_bad_ipv6_modes(version, ra, address, dhcp, network):
    with pytest.raises(errors.InvalidInput):
        checks.check_ipv6_modes(version, ra, address, dhcp, network)


def test_good_ipv6_modes():
    checks.check_ipv6_modes(6, "slaac", "slaac", True, V6)
    checks.check_ipv6_modes(6, None, "dhcpv6-stateful", True, ipaddress.ip_network("2001:db8::/80"))
    checks.check_ipv6_modes(4, None, None, False, V4)
