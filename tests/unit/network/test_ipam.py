"""IPAM: addresses from the pools in order, never twice, wrapping around, specific
addresses, exhaustion, EUI-64 on SLAAC subnets, and reads that stay short."""

from __future__ import annotations

import ipaddress

import pytest
from sqlalchemy import event

from overcast.network import errors
from overcast.network.models import IPAllocation, Port, Subnet
from overcast.network.service.ipam import eui64, ip_key
from tests.unit.network.conftest import context


@pytest.fixture
def service(network):
    """The network service (conftest's ``network``) on an in-memory database."""
    return network


@pytest.fixture
def ctx():
    return context("project-a")


@pytest.fixture
def net(service, ctx):
    return service.networks.create(ctx, [{"name": "net", "project_id": ctx.project_id}])[0]


def subnet(service, ctx, network, cidr, **values):
    body = {"network_id": network["id"], "ip_version": ipaddress.ip_network(cidr).version, "cidr": cidr,
            "project_id": ctx.project_id, **values}
    return service.subnets.create(ctx, [body])[0]


def port(service, ctx, network, **values):
    return service.ports.create(ctx, [{"network_id": network["id"], "security_groups": [], **values}])[0]


def addresses(created):
    return [ip["ip_address"] for ip in created["fixed_ips"]]


def test_ip_key_orders_like_numbers():
    keys = [ip_key(a) for a in ("::1", "10.0.0.9", "10.0.0.10", "10.0.1.0", "2001:db8::1")]
    assert keys == sorted(keys) and all(len(key) == 32 for key in keys)


def test_addresses_come_in_pool_order_and_never_twice(service, ctx, net):
    sub = subnet(service, ctx, net, "10.1.0.0/29")  # hosts .1-.6, gateway .1
    got = [addresses(port(service, ctx, net))[0] for _ in range(5)]
    assert got == ["10.1.0.2", "10.1.0.3", "10.1.0.4", "10.1.0.5", "10.1.0.6"]
    with pytest.raises(errors.IpAddressGenerationFailure):
        port(service, ctx, net)
    assert sub["allocation_pools"] == [{"start": "10.1.0.2", "end": "10.1.0.6"}]


def test_freed_address_is_found_after_wrapping_around(service, ctx, net):
    subnet(service, ctx, net, "10.2.0.0/29")
    ports = [port(service, ctx, net) for _ in range(5)]
    service.ports.delete(ctx, ports[1]["id"])  # frees 10.2.0.3, behind the cursor
    assert addresses(port(service, ctx, net)) == ["10.2.0.3"]


def test_specific_address_taken_outside_or_on_network_address(service, ctx, net):
    sub = subnet(service, ctx, net, "10.3.0.0/24")
    first = port(service, ctx, net, fixed_ips=[{"subnet_id": sub["id"], "ip_address": "10.3.0.77"}])
    assert addresses(first) == ["10.3.0.77"]
    with pytest.raises(errors.IpAddressAlreadyAllocated):
        port(service, ctx, net, fixed_ips=[{"ip_address": "10.3.0.77"}])
    with pytest.raises(errors.InvalidIpForSubnet):
        port(service, ctx, net, fixed_ips=[{"subnet_id": sub["id"], "ip_address": "10.9.0.5"}])
    with pytest.raises(errors.InvalidIpForSubnet):
        port(service, ctx, net, fixed_ips=[{"subnet_id": sub["id"], "ip_address": "10.3.0.255"}])
    with pytest.raises(errors.InvalidIpForNetwork):
        port(service, ctx, net, fixed_ips=[{"ip_address": "10.9.0.5"}])


def test_failed_port_leaves_no_allocation(service, ctx, net):
    sub = subnet(service, ctx, net, "10.4.0.0/24")
    port(service, ctx, net, fixed_ips=[{"ip_address": "10.4.0.9"}])
    with pytest.raises(errors.IpAddressAlreadyAllocated):
        port(service, ctx, net, fixed_ips=[{"subnet_id": sub["id"]}, {"ip_address": "10.4.0.9"}])
    with service.db.session() as session:
        assert session.query(IPAllocation).count() == 1 and session.query(Port).count() == 1


def test_allocation_reads_few_rows_in_a_big_subnet(service, ctx, net):
    sub = subnet(service, ctx, net, "10.5.0.0/16")
    with service.db.session() as session:  # 3,000 addresses taken, as if by earlier ports
        filler = port(service, ctx, net)
        session.add_all(IPAllocation(subnet_id=sub["id"], ip_key=ip_key(f"10.5.{n // 256}.{n % 256}"),
                                     ip_address=f"10.5.{n // 256}.{n % 256}", network_id=net["id"],
                                     port_id=filler["id"]) for n in range(3, 3003))
        session.get(Subnet, sub["id"]).next_ip_key = ip_key("10.5.11.187")  # 3003
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(service.db.engine, "before_cursor_execute", listener)
    try:
        assert addresses(port(service, ctx, net)) == ["10.5.11.187"]
    finally:
        event.remove(service.db.engine, "before_cursor_execute", listener)
    assert len(statements) < 40


def test_slaac_subnet_gives_the_eui64_address(service, ctx, net):
    sub = subnet(service, ctx, net, "2001:db8:1::/64", ipv6_address_mode="slaac", ipv6_ra_mode="slaac")
    created = port(service, ctx, net)
    assert created["fixed_ips"] == [{"subnet_id": sub["id"],
                                     "ip_address": eui64("2001:db8:1::/64", created["mac_address"])}]
    with pytest.raises(errors.InvalidInput):
        port(service, ctx, net, fixed_ips=[{"subnet_id": sub["id"], "ip_address": "2001:db8:1::5"}])


def test_eui64_follows_rfc4291():
    assert eui64("2001:db8::/64", "fa:16:3e:00:00:01") == "2001:db8::f816:3eff:fe00:1"


def test_default_is_one_ipv4_address_and_one_stateful_ipv6(service, ctx, net):
    v4a = subnet(service, ctx, net, "10.6.0.0/30")  # one free host address: .2
    v4b = subnet(service, ctx, net, "10.7.0.0/24")
    v6 = subnet(service, ctx, net, "2001:db8:2::/64", ipv6_address_mode="dhcpv6-stateful",
                ipv6_ra_mode="dhcpv6-stateful")
    first = port(service, ctx, net)
    assert [ip["subnet_id"] for ip in first["fixed_ips"]] == [v4a["id"], v6["id"]]
    second = port(service, ctx, net)  # the first IPv4 subnet is full: the next one serves
    assert [ip["subnet_id"] for ip in second["fixed_ips"]] == [v4b["id"], v6["id"]]


def test_changing_fixed_ips_keeps_releases_and_allocates(service, ctx, net):
    sub = subnet(service, ctx, net, "10.8.0.0/24")
    created = port(service, ctx, net, fixed_ips=[{"ip_address": "10.8.0.10"}, {"ip_address": "10.8.0.11"}])
    updated = service.ports.update(ctx, created["id"], {"fixed_ips": [{"ip_address": "10.8.0.11"},
                                                                      {"ip_address": "10.8.0.12"}]})
    assert addresses(updated) == ["10.8.0.11", "10.8.0.12"]
    again = port(service, ctx, net, fixed_ips=[{"ip_address": "10.8.0.10"}])  # released
    assert addresses(again) == ["10.8.0.10"]
    # a subnet named without an address keeps the address the port has there (Neutron's rule)
    kept = service.ports.update(ctx, created["id"], {"fixed_ips": [{"subnet_id": sub["id"]}]})
    assert addresses(kept) == ["10.8.0.11"]
