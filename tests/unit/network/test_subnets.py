"""Subnets and subnet pools through the service: defaults, overlaps on a network,
updates, deletes around DHCP and SLAAC addresses, visibility and the policy fields."""

from __future__ import annotations

import pytest

from overcast.network import errors
from overcast.network.models import IPAllocation
from tests.unit.network.conftest import context

CTX = context("project-a")
OTHER = context("project-b")
ADMIN = context("admin-project", admin=True)


def make_net(network, ctx=CTX, **values):
    return network.networks.create(ctx, [{"name": "n", "project_id": ctx.project_id, **values}])[0]


def make_subnet(network, net, cidr, ctx=CTX, **values):
    version = 6 if ":" in cidr else 4
    return network.subnets.create(ctx, [{"network_id": net["id"], "ip_version": version, "cidr": cidr,
                                         "project_id": ctx.project_id, **values}])[0]


def test_defaults_and_policy_fields(network):
    net = make_net(network)
    subnet = make_subnet(network, net, "192.168.5.0/24")
    assert subnet["gateway_ip"] == "192.168.5.1" and subnet["enable_dhcp"] is True
    assert subnet["allocation_pools"] == [{"start": "192.168.5.2", "end": "192.168.5.254"}]
    assert subnet["_policy"]["network:project_id"] == "project-a" and subnet["_policy"]["shared"] is False
    assert network.networks.get(CTX, net["id"])["subnets"] == [subnet["id"]]
    no_gateway = make_subnet(network, make_net(network), "192.168.6.0/24", gateway_ip=None)
    assert no_gateway["gateway_ip"] is None
    assert no_gateway["allocation_pools"] == [{"start": "192.168.6.1", "end": "192.168.6.254"}]


def test_overlapping_cidrs_on_one_network_are_refused(network):
    net = make_net(network)
    make_subnet(network, net, "10.1.0.0/16")
    with pytest.raises(errors.InvalidInput, match="overlaps with another subnet"):
        make_subnet(network, net, "10.1.2.0/24")
    make_subnet(network, make_net(network), "10.1.2.0/24")  # another network may reuse it
    make_subnet(network, net, "2001:db8::/64")  # and another IP version never overlaps


def test_update_gateway_pools_dns_routes_dhcp(network):
    net = make_net(network)
    subnet = make_subnet(network, net, "10.2.0.0/24")
    with pytest.raises(errors.GatewayConflictWithAllocationPools):
        network.subnets.update(CTX, subnet["id"], {"gateway_ip": "10.2.0.50"})
    updated = network.subnets.update(CTX, subnet["id"], {
        "allocation_pools": [{"start": "10.2.0.100", "end": "10.2.0.200"}], "gateway_ip": "10.2.0.254",
        "dns_nameservers": ["10.2.0.53"], "host_routes": [{"destination": "0.0.0.0/0", "nexthop": "10.2.0.1"}],
        "enable_dhcp": False, "name": "renamed"})
    assert updated["gateway_ip"] == "10.2.0.254" and updated["enable_dhcp"] is False
    assert updated["allocation_pools"] == [{"start": "10.2.0.100", "end": "10.2.0.200"}]
    assert updated["revision_number"] == subnet["revision_number"] + 1
    port = network.ports.create(CTX, [{"network_id": net["id"], "security_groups": []}])[0]
    assert port["fixed_ips"][0]["ip_address"] == "10.2.0.100"  # the cursor starts over in the new pools


def test_delete_refused_while_ports_hold_addresses_but_not_dhcp_ports(network):
    net = make_net(network)
    subnet = make_subnet(network, net, "10.3.0.0/24")
    dhcp = network.ports.create(ADMIN, [{"network_id": net["id"], "device_owner": "network:dhcp"}])[0]
    port = network.ports.create(CTX, [{"network_id": net["id"], "security_groups": []}])[0]
    with pytest.raises(errors.SubnetInUse):
        network.subnets.delete(CTX, subnet["id"])
    network.ports.delete(CTX, port["id"])
    network.subnets.delete(CTX, subnet["id"])
    assert network.ports.get(ADMIN, dhcp["id"])["fixed_ips"] == []


def test_delete_slaac_subnet_takes_automatic_addresses(network):
    net = make_net(network)
    subnet = make_subnet(network, net, "2001:db8:9::/64", ipv6_address_mode="slaac", ipv6_ra_mode="slaac")
    port = network.ports.create(CTX, [{"network_id": net["id"], "security_groups": []}])[0]
    assert port["fixed_ips"][0]["subnet_id"] == subnet["id"]
    network.subnets.delete(CTX, subnet["id"])
    with network.db.session() as session:
        assert session.query(IPAllocation).count() == 0


def test_visibility(network):
    private = make_subnet(network, make_net(network), "10.4.0.0/24")
    shared_net = make_net(network, ADMIN, shared=True)
    shared = make_subnet(network, shared_net, "10.5.0.0/24", ADMIN)
    external = make_subnet(network, make_net(network, ADMIN, **{"router:external": True}), "10.6.0.0/24", ADMIN)
    seen = {subnet["id"] for subnet in network.subnets.list(OTHER, {})}
    assert seen == {shared["id"]}
    assert shared["_policy"]["shared"] is True
    with pytest.raises(errors.SubnetNotFound):
        network.subnets.get(OTHER, private["id"])
    assert {s["id"] for s in network.subnets.list(ADMIN, {})} >= {private["id"], shared["id"], external["id"]}


def test_subnet_pools_allocate_blocks(network):
    pool = network.subnetpools.create(CTX, [{"name": "p", "prefixes": ["10.8.0.0/22", "10.8.4.0/22"],
                                             "project_id": "project-a", "default_prefixlen": 24}])[0]
    assert pool["prefixes"] == ["10.8.0.0/21"] and pool["min_prefixlen"] == 8 and pool["max_prefixlen"] == 32
    net = make_net(network)
    first = network.subnets.create(CTX, [{"network_id": net["id"], "ip_version": 4, "subnetpool_id": pool["id"],
                                          "project_id": "project-a"}])[0]
    explicit = make_subnet(network, net, "10.8.2.0/24", subnetpool_id=pool["id"])
    small = network.subnets.create(CTX, [{"network_id": net["id"], "ip_version": 4, "subnetpool_id": pool["id"],
                                          "prefixlen": 28, "project_id": "project-a"}])[0]
    assert (first["cidr"], explicit["cidr"], small["cidr"]) == ("10.8.0.0/24", "10.8.2.0/24", "10.8.1.0/28")
    with pytest.raises(errors.SubnetAllocationError):
        make_subnet(network, make_net(network), "10.8.2.128/25", subnetpool_id=pool["id"])
    with pytest.raises(errors.SubnetAllocationError):
        make_subnet(network, make_net(network), "10.9.0.0/24", subnetpool_id=pool["id"])
    with pytest.raises(errors.SubnetPoolInUse):
        network.subnetpools.delete(CTX, pool["id"])
    with pytest.raises(errors.IllegalSubnetPoolPrefixUpdate):
        network.subnetpools.update(CTX, pool["id"], {"prefixes": ["10.8.0.0/22"]})
    grown = network.subnetpools.update(CTX, pool["id"], {"prefixes": ["10.8.0.0/21", "10.9.0.0/24"]})
    assert grown["prefixes"] == ["10.8.0.0/21", "10.9.0.0/24"]
    with pytest.raises(errors.IllegalSubnetPoolPrefixBounds):
        network.subnetpools.update(CTX, pool["id"], {"min_prefixlen": 26, "max_prefixlen": 24})
    with pytest.raises(errors.SubnetPoolNotFound):
        network.subnetpools.get(OTHER, pool["id"])


def test_empty_pools_leave_only_explicit_addresses(network):
    net = make_net(network)
    subnet = make_subnet(network, net, "10.7.0.0/24", allocation_pools=[])
    assert subnet["allocation_pools"] == []
    with pytest.raises(errors.IpAddressGenerationFailure):
        network.ports.create(CTX, [{"network_id": net["id"], "security_groups": []}])
    port = network.ports.create(CTX, [{"network_id": net["id"], "security_groups": [],
                                       "fixed_ips": [{"ip_address": "10.7.0.33"}]}])[0]
    assert port["fixed_ips"] == [{"subnet_id": subnet["id"], "ip_address": "10.7.0.33"}]
