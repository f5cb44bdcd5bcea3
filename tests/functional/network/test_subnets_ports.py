"""Subnets, subnet pools and ports with the real clients: the openstack CLI (tenant and
external subnets, ports with fixed IPs, list/set/show/delete), openstacksdk, and raw
calls for Neutron's answers to bad input and to other projects' resources."""

from __future__ import annotations

import time

import httpx
import pytest

from conftest import random_name

DEMO = "overcast-demo"


@pytest.fixture(scope="module")
def api(cloud, admin, demo):
    """Raw clients on the network endpoint, as admin and as demo."""
    def client(conn):
        url = conn.session.get_endpoint(service_type="network", interface="public").rstrip("/")
        return httpx.Client(base_url=url + "/v2.0", headers={"X-Auth-Token": conn.session.get_token()}, timeout=30)
    with client(admin) as as_admin, client(demo) as as_demo:
        yield as_admin, as_demo


def error_of(response, status: int, kind: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()["NeutronError"]
    assert body["type"] == kind, body
    return body["message"]


@pytest.mark.cli
def test_cli_subnet_and_port_walk(cli):
    net = cli.run("network", "create", random_name("net"), cloud_name=DEMO)
    subnet = cli.run("subnet", "create", "--subnet-range", "10.10.1.0/24", "--gateway", "10.10.1.1",
                     "--dns-nameserver", "10.10.1.53", "--network", net["id"], random_name("sub"), cloud_name=DEMO)
    assert subnet["gateway_ip"] == "10.10.1.1" and subnet["enable_dhcp"] is True
    assert subnet["allocation_pools"] == [{"start": "10.10.1.2", "end": "10.10.1.254"}]
    assert subnet["dns_nameservers"] == ["10.10.1.53"] and subnet["ip_version"] == 4

    port = cli.run("port", "create", "--network", net["id"], "--fixed-ip",
                   f"subnet={subnet['id']},ip-address=10.10.1.20", random_name("port"), cloud_name=DEMO)
    assert port["fixed_ips"] == [{"subnet_id": subnet["id"], "ip_address": "10.10.1.20"}]
    assert port["mac_address"].startswith("fa:16:3e:") and port["status"] == "DOWN"
    assert len(port["security_group_ids"]) == 1  # the project's default group
    second = cli.run("port", "create", "--network", net["id"], random_name("port"), cloud_name=DEMO)
    # the first free address: .2 unless the network agent's DHCP port took it first
    assert second["fixed_ips"][0]["ip_address"] in ("10.10.1.2", "10.10.1.3")

    listed = cli.run("port", "list", "--network", net["id"], "--long", cloud_name=DEMO)
    mine = sorted(row["ID"] for row in listed if row.get("Device Owner") != "network:dhcp")
    assert mine == sorted([port["id"], second["id"]])
    cli.ok("port", "set", "--name", "renamed", "--no-security-group", "--fixed-ip", "ip-address=10.10.1.21",
           port["id"], cloud_name=DEMO)
    shown = cli.run("port", "show", port["id"], cloud_name=DEMO)
    assert shown["name"] == "renamed" and shown["security_group_ids"] == []
    assert {ip["ip_address"] for ip in shown["fixed_ips"]} == {"10.10.1.20", "10.10.1.21"}

    in_use = cli.raw("subnet", "delete", subnet["id"], cloud_name=DEMO)
    assert in_use.returncode != 0 and "One or more ports have an IP allocation" in in_use.stderr
    cli.ok("port", "delete", port["id"], second["id"], cloud_name=DEMO)
    left = cli.run("port", "list", "--network", net["id"], "--long", cloud_name=DEMO)
    assert [row for row in left if row.get("Device Owner") != "network:dhcp"] == []
    cli.ok("subnet", "delete", subnet["id"], cloud_name=DEMO)
    cli.ok("network", "delete", net["id"], cloud_name=DEMO)


@pytest.mark.cli
def test_cli_external_subnet_without_dhcp(cli):
    name = random_name("ext")
    net = cli.run("network", "create", "--external", "--provider-network-type", "flat",
                  "--provider-physical-network", name[:16], name)
    subnet = cli.run("subnet", "create", "--no-dhcp", "--allocation-pool", "start=172.30.4.10,end=172.30.4.100",
                     "--gateway", "172.30.4.1", "--subnet-range", "172.30.4.0/24", "--network", name, name)
    assert subnet["enable_dhcp"] is False and subnet["gateway_ip"] == "172.30.4.1"
    assert subnet["allocation_pools"] == [{"start": "172.30.4.10", "end": "172.30.4.100"}]
    cli.ok("subnet", "set", "--allocation-pool", "start=172.30.4.150,end=172.30.4.160", subnet["id"])
    shown = cli.run("subnet", "show", subnet["id"])
    assert {"start": "172.30.4.150", "end": "172.30.4.160"} in shown["allocation_pools"]
    # other projects see the external network but not its subnet (Neutron's rule)
    assert subnet["id"] not in [row["ID"] for row in cli.run("subnet", "list", cloud_name=DEMO)]
    cli.ok("network", "delete", net["id"])


def test_sdk_subnet_port_and_binding(admin, demo):
    net = demo.network.create_network(name=random_name("net"))
    subnet = demo.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.40.0.0/28",
                                        host_routes=[{"destination": "10.99.0.0/16", "nexthop": "10.40.0.5"}])
    assert subnet.allocation_pools == [{"start": "10.40.0.2", "end": "10.40.0.14"}]
    assert subnet.host_routes == [{"destination": "10.99.0.0/16", "nexthop": "10.40.0.5"}]
    port = demo.network.create_port(network_id=net.id, allowed_address_pairs=[{"ip_address": "10.40.0.128/25"}],
                                    extra_dhcp_opts=[{"opt_name": "mtu", "opt_value": "1400"}])
    assert port.allowed_address_pairs == [{"ip_address": "10.40.0.128/25", "mac_address": port.mac_address}]
    assert port.extra_dhcp_opts == [{"opt_name": "mtu", "opt_value": "1400", "ip_version": 4}]
    assert port.binding_vif_type is None  # binding details are the admin's to see
    bound = admin.network.update_port(port.id, binding_host_id="compute-1")
    assert bound.binding_host_id == "compute-1" and bound.binding_vif_type == "bridge"
    assert bound.binding_vif_details == {"port_filter": True}
    assert admin.network.get_port(port.id).binding_vif_type == "bridge"
    deadline = time.monotonic() + 10  # the network agent makes the DHCP port (it takes an address too)
    while not (dhcp := len(list(admin.network.ports(network_id=net.id, device_owner="network:dhcp")))):
        assert time.monotonic() < deadline, "no DHCP port"
        time.sleep(0.05)
    pool_ports = [demo.network.create_port(network_id=net.id) for _ in range(12 - dhcp)]
    with pytest.raises(Exception) as exhausted:
        demo.network.create_port(network_id=net.id)
    assert "No more IP addresses available" in str(exhausted.value)
    for one in pool_ports + [port]:
        demo.network.delete_port(one)
    demo.network.delete_network(net)


def test_sdk_ipv6_slaac_and_stateful(demo):
    net = demo.network.create_network(name=random_name("v6"))
    slaac = demo.network.create_subnet(network_id=net.id, ip_version=6, cidr="2001:db8:40::/64",
                                       ipv6_ra_mode="slaac", ipv6_address_mode="slaac")
    stateful = demo.network.create_subnet(network_id=net.id, ip_version=6, cidr="2001:db8:41::/64",
                                          ipv6_address_mode="dhcpv6-stateful")
    assert slaac.gateway_ip == "2001:db8:40::1"
    port = demo.network.create_port(network_id=net.id, mac_address="fa:16:3e:11:22:33")
    by_subnet = {ip["subnet_id"]: ip["ip_address"] for ip in port.fixed_ips}
    assert by_subnet[slaac.id] == "2001:db8:40:0:f816:3eff:fe11:2233"
    assert by_subnet[stateful.id] == "2001:db8:41::2"
    demo.network.delete_port(port)
    demo.network.delete_network(net)


def test_sdk_subnet_from_pool(demo):
    pool = demo.network.create_subnet_pool(name=random_name("pool"), prefixes=["10.60.0.0/16"],
                                           default_prefixlen=24, min_prefixlen=20, max_prefixlen=28)
    assert pool.ip_version == 4 and pool.prefixes == ["10.60.0.0/16"]
    net = demo.network.create_network(name=random_name("net"))
    first = demo.network.create_subnet(network_id=net.id, ip_version=4, subnet_pool_id=pool.id)
    second = demo.network.create_subnet(network_id=net.id, ip_version=4, subnet_pool_id=pool.id, prefix_length=26)
    assert first.cidr == "10.60.0.0/24" and second.cidr == "10.60.1.0/26"
    assert first.subnet_pool_id == pool.id
    with pytest.raises(Exception):
        demo.network.delete_subnet_pool(pool)  # subnets still use it
    demo.network.delete_network(net)
    demo.network.delete_subnet_pool(pool)


def test_bad_input_answers(api, demo):
    as_admin, as_demo = api
    net = as_demo.post("/networks", json={"network": {"name": random_name("net")}}).json()["network"]
    base = {"network_id": net["id"], "ip_version": 4}
    error_of(as_demo.post("/subnets", json={"subnet": {**base, "cidr": "10.70.0.300/24"}}), 400, "HTTPBadRequest")
    error_of(as_demo.post("/subnets", json={"subnet": {**base, "cidr": "10.70.0.1/24"}}), 400, "HTTPBadRequest")
    message = error_of(as_demo.post("/subnets", json={"subnet": {**base, "cidr": "10.70.0.0/24",
                                                                 "gateway_ip": "10.71.0.1"}}), 400, "InvalidInput")
    assert message == "Invalid input for operation: Gateway is not valid on subnet."
    pools = [{"start": "10.70.0.10", "end": "10.70.0.50"}, {"start": "10.70.0.40", "end": "10.70.0.60"}]
    error_of(as_demo.post("/subnets", json={"subnet": {**base, "cidr": "10.70.0.0/24", "allocation_pools": pools}}),
             409, "OverlappingAllocationPools")
    error_of(as_demo.post("/subnets", json={"subnet": {**base, "cidr": "10.70.0.0/24", "allocation_pools": [
        {"start": "10.70.1.10", "end": "10.70.1.50"}]}}), 400, "OutOfBoundsAllocationPool")
    error_of(as_demo.post("/subnets", json={"subnet": {**base, "cidr": "10.70.0.0/24", "gateway_ip": "10.70.0.20",
                                                       "allocation_pools": [pools[0]]}}),
             409, "GatewayConflictWithAllocationPools")
    subnet = as_demo.post("/subnets", json={"subnet": {**base, "cidr": "10.70.0.0/24"}}).json()["subnet"]
    error_of(as_demo.post("/subnets", json={"subnet": {**base, "cidr": "10.70.0.128/25"}}), 400, "InvalidInput")

    fixed = {"network_id": net["id"], "fixed_ips": [{"ip_address": "10.70.0.9"}]}
    port = as_demo.post("/ports", json={"port": fixed}).json()["port"]
    error_of(as_demo.post("/ports", json={"port": fixed}), 409, "IpAddressAlreadyAllocated")
    error_of(as_demo.post("/ports", json={"port": {"network_id": net["id"], "fixed_ips": [
        {"subnet_id": subnet["id"], "ip_address": "10.80.0.9"}]}}), 400, "InvalidIpForSubnet")
    error_of(as_demo.post("/ports", json={"port": {"network_id": net["id"], "mac_address": port["mac_address"]}}),
             409, "MacAddressInUse")
    error_of(as_demo.post("/ports", json={"port": {"network_id": net["id"], "port_security_enabled": False,
                                                   "security_groups": port["security_groups"]}}),
             400, "PortSecurityAndIPRequiredForSecurityGroups")

    # another project's network and port are not there for demo
    private = as_admin.post("/networks", json={"network": {"name": random_name("adm")}}).json()["network"]
    error_of(as_demo.post("/ports", json={"port": {"network_id": private["id"]}}), 404, "NetworkNotFound")
    error_of(as_demo.post("/subnets", json={"subnet": {"network_id": private["id"], "ip_version": 4,
                                                       "cidr": "10.90.0.0/24"}}), 404, "NetworkNotFound")
    admin_port = as_admin.post("/ports", json={"port": {"network_id": private["id"]}}).json()["port"]
    error_of(as_demo.get(f"/ports/{admin_port['id']}"), 404, "PortNotFound")
    error_of(as_demo.delete(f"/ports/{admin_port['id']}"), 404, "PortNotFound")
    assert as_admin.delete(f"/ports/{admin_port['id']}").status_code == 204
    assert as_admin.delete(f"/networks/{private['id']}").status_code == 204
    assert as_demo.delete(f"/ports/{port['id']}").status_code == 204
    assert as_demo.delete(f"/networks/{net['id']}").status_code == 204


def test_shared_network_subnets_are_visible_and_usable(api):
    as_admin, as_demo = api
    net = as_admin.post("/networks", json={"network": {"name": random_name("shared"), "shared": True}}).json()
    net = net["network"]
    subnet = as_admin.post("/subnets", json={"subnet": {"network_id": net["id"], "ip_version": 4,
                                                        "cidr": "10.95.0.0/24"}}).json()["subnet"]
    seen = as_demo.get("/subnets", params={"network_id": net["id"]}).json()["subnets"]
    assert [one["id"] for one in seen] == [subnet["id"]]
    port = as_demo.post("/ports", json={"port": {"network_id": net["id"]}})
    assert port.status_code == 201 and port.json()["port"]["fixed_ips"][0]["subnet_id"] == subnet["id"]
    # demo may not pick an address on someone else's shared network (create_port:fixed_ips:ip_address)
    picked = as_demo.post("/ports", json={"port": {"network_id": net["id"],
                                                   "fixed_ips": [{"ip_address": "10.95.0.77"}]}})
    error_of(picked, 403, "PolicyNotAuthorized")
    forbidden = as_demo.put(f"/subnets/{subnet['id']}", json={"subnet": {"name": "mine"}})
    assert forbidden.status_code == 403
    assert as_demo.delete(f"/ports/{port.json()['port']['id']}").status_code == 204
    assert as_admin.delete(f"/networks/{net['id']}").status_code == 204


def test_sdk_cloud_layer_create_subnet_and_port(demo):
    net = demo.create_network(random_name("cloud"))
    subnet = demo.create_subnet(net.id, cidr="10.41.0.0/24", gateway_ip="10.41.0.254", dns_nameservers=["10.41.0.53"],
                                allocation_pools=[{"start": "10.41.0.10", "end": "10.41.0.20"}])
    assert subnet.gateway_ip == "10.41.0.254" and subnet.allocation_pools == [{"start": "10.41.0.10",
                                                                               "end": "10.41.0.20"}]
    port = demo.create_port(net.id, fixed_ips=[{"subnet_id": subnet.id}], name="cloud-port")
    assert port.fixed_ips == [{"subnet_id": subnet.id, "ip_address": "10.41.0.10"}]
    assert [p.id for p in demo.list_ports(filters={"network_id": net.id})] == [port.id]
    updated = demo.update_port(port.id, name="renamed")
    assert updated.name == "renamed"
    assert demo.delete_port(port.id) and demo.delete_subnet(subnet.id) and demo.delete_network(net.id)
