"""What the network agent reads from the service and the specs it makes of it."""

from __future__ import annotations

from overcast.network.agent_specs import ServiceSource, router_spec
from overcast.network.drivers import ForwardingSpec
from tests.unit.network.test_l3 import ALICE, fip, port, router, world  # noqa: F401 (the fixture)


def test_port_forwardings_reach_the_router_spec_through_the_floating_ips(l3, world):
    r = router(l3, external_gateway_info={"network_id": world["public"]})
    l3.routers.add_interface(ALICE, r["id"], {"subnet_id": world["subnet"]})
    pid = port(l3, world["private"])
    internal = l3.ports.get(ALICE, pid)["fixed_ips"][0]["ip_address"]
    one, plain = fip(l3, world), fip(l3, world)
    values = {"protocol": "tcp", "external_port": 8080, "internal_port": 80, "internal_ip_address": internal,
              "internal_port_id": pid, "description": ""}
    l3.port_forwardings.create(ALICE, one["id"], values)
    l3.port_forwardings.create(ALICE, one["id"], {**values, "protocol": "udp", "external_port": 5353,
                                                  "internal_port": 53})
    source = ServiceSource(l3)
    found = {f["id"]: f for f in source.floatingips()}
    assert sorted(pf["protocol"] for pf in found[one["id"]]["port_forwardings"]) == ["tcp", "udp"]
    assert found[plain["id"]]["port_forwardings"] == []
    ports = source.ports(device_id=[r["id"]])
    networks = source.networks(id=sorted({p["network_id"] for p in ports}))
    subnets = source.subnets(network_id=[n["id"] for n in networks])
    spec = router_spec(source.routers(id=[r["id"]])[0], ports, networks, subnets,
                       source.floatingips(router_id=[r["id"]]))
    address = one["floating_ip_address"]
    assert sorted(spec.port_forwardings, key=lambda pf: pf.protocol) == [
        ForwardingSpec(address, "tcp", 8080, internal, 80), ForwardingSpec(address, "udp", 5353, internal, 53)]
    assert spec.floating_ips == []


def test_a_router_without_a_gateway_has_no_port_forwardings():
    router_dict = {"id": "r1", "external_gateway_info": None}
    fips = [{"router_id": "r1", "port_id": None, "floating_ip_address": "172.24.4.9",
             "port_forwardings": [{"protocol": "tcp", "external_port": 1, "internal_port": 2,
                                   "internal_ip_address": "10.0.0.5"}]}]
    assert router_spec(router_dict, [], [], [], fips).port_forwardings == []


def test_an_ipv6_legs_ra_mode_comes_from_its_subnet():
    router_dict = {"id": "r1", "external_gateway_info": None}
    network = {"id": "n1", "provider:network_type": "vxlan", "mtu": 1450}
    subnets = [{"id": "s6", "network_id": "n1", "cidr": "fd00::/64", "ipv6_ra_mode": "slaac"},
               {"id": "s4", "network_id": "n1", "cidr": "10.0.0.0/24"}]
    port = {"id": "p1", "network_id": "n1", "mac_address": "fa:16:3e:00:00:01", "device_id": "r1",
            "device_owner": "network:router_interface",
            "fixed_ips": [{"subnet_id": "s6", "ip_address": "fd00::1"}, {"subnet_id": "s4", "ip_address": "10.0.0.1"}]}
    legs = router_spec(router_dict, [port], [network], subnets, []).legs
    assert {leg.ip_address: leg.ipv6_ra_mode for leg in legs} == {"fd00::1": "slaac", "10.0.0.1": None}
