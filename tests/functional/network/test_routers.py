"""Routers and floating IPs with the real clients: the seed guide's walk with the
openstack CLI (admin makes the external network, demo its network, router and floating
IP), openstacksdk, raw calls for Neutron's answers to bad requests, and port forwardings."""

from __future__ import annotations

import httpx
import openstack.exceptions
import pytest

from conftest import random_name

DEMO = "overcast-demo"


@pytest.fixture(scope="module")
def public(cli):
    """The seed guide's external network, made by the admin with the CLI."""
    name = random_name("public")
    net = cli.run("network", "create", "--external", "--provider-network-type", "flat",
                  "--provider-physical-network", "public", name)
    subnet = cli.run("subnet", "create", "--no-dhcp", "--allocation-pool", "start=172.24.4.10,end=172.24.4.100",
                     "--gateway", "172.24.4.1", "--subnet-range", "172.24.4.0/24", "--network", name, name)
    return {"name": name, "id": net["id"], "subnet": subnet["id"]}


@pytest.fixture(scope="module")
def api(cloud, admin, demo):
    """Raw clients on the network endpoint, as admin and as demo."""
    def client(conn):
        url = conn.session.get_endpoint(service_type="network", interface="public").rstrip("/")
        return httpx.Client(base_url=url + "/v2.0", headers={"X-Auth-Token": conn.session.get_token()}, timeout=30)
    with client(admin) as as_admin, client(demo) as as_demo:
        yield as_admin, as_demo


def tenant_net(cli, cidr: str, gateway: str | None = None):
    name = random_name("net")
    net = cli.run("network", "create", name, cloud_name=DEMO)
    args = ["--gateway", gateway] if gateway else []
    subnet = cli.run("subnet", "create", "--subnet-range", cidr, *args, "--network", name, name, cloud_name=DEMO)
    return net, subnet


@pytest.mark.cli
def test_cli_seed_walk(cli, public):
    net, subnet = tenant_net(cli, "10.10.1.0/24", "10.10.1.1")
    router = cli.run("router", "create", random_name("router"), cloud_name=DEMO)
    assert router["status"] == "ACTIVE" and router["admin_state_up"] is True
    cli.ok("router", "add", "subnet", router["id"], subnet["id"], cloud_name=DEMO)
    ports = cli.run("port", "list", "--router", router["id"], "--long", cloud_name=DEMO)
    assert [p["Fixed IP Addresses"][0]["ip_address"] for p in ports] == ["10.10.1.1"]
    cli.ok("router", "set", "--external-gateway", public["name"], router["id"], cloud_name=DEMO)
    shown = cli.run("router", "show", router["id"], cloud_name=DEMO)
    gateway = shown["external_gateway_info"]
    assert gateway["network_id"] == public["id"] and gateway["enable_snat"] is True
    assert gateway["external_fixed_ips"][0]["subnet_id"] == public["subnet"]

    server_port = cli.run("port", "create", "--network", net["id"], random_name("vm"), cloud_name=DEMO)
    fip = cli.run("floating", "ip", "create", public["name"], cloud_name=DEMO)
    assert fip["status"] == "DOWN" and fip["port_id"] is None
    address = fip["floating_ip_address"]
    assert address.startswith("172.24.4.")
    cli.ok("floating", "ip", "set", "--port", server_port["id"], address, cloud_name=DEMO)
    shown = cli.run("floating", "ip", "show", address, cloud_name=DEMO)
    assert shown["port_id"] == server_port["id"] and shown["router_id"] == router["id"]
    assert shown["fixed_ip_address"] == server_port["fixed_ips"][0]["ip_address"] and shown["status"] == "ACTIVE"
    # the interface a floating IP needs stays
    refused = cli.raw("router", "remove", "subnet", router["id"], subnet["id"], cloud_name=DEMO)
    assert refused.returncode != 0 and "floating IP" in refused.stderr
    cli.ok("floating", "ip", "unset", "--port", address, cloud_name=DEMO)
    shown = cli.run("floating", "ip", "show", address, cloud_name=DEMO)
    assert shown["port_id"] is None and shown["router_id"] is None and shown["status"] == "DOWN"

    refused = cli.raw("router", "delete", router["id"], cloud_name=DEMO)
    assert refused.returncode != 0
    cli.ok("router", "remove", "subnet", router["id"], subnet["id"], cloud_name=DEMO)
    assert cli.run("port", "list", "--router", router["id"], cloud_name=DEMO) == []
    cli.ok("floating", "ip", "delete", address, cloud_name=DEMO)
    cli.ok("router", "delete", router["id"], cloud_name=DEMO)
    gateway_ports = cli.run("port", "list", "--device-owner", "network:router_gateway", "--network", public["id"])
    assert router["id"] not in {p.get("device_id") for p in
                                cli.run("port", "list", "--network", public["id"], "--long")}
    assert isinstance(gateway_ports, list)
    cli.ok("port", "delete", server_port["id"], cloud_name=DEMO)


def test_sdk_router_and_floating_ip(demo, public):
    net = demo.network.create_network(name=random_name("net"))
    subnet = demo.network.create_subnet(network_id=net.id, cidr="10.20.0.0/24", ip_version=4)
    router = demo.network.create_router(name=random_name("r"), external_gateway_info={"network_id": public["id"]})
    assert router.external_gateway_info["network_id"] == public["id"]
    demo.network.add_interface_to_router(router, subnet_id=subnet.id)
    port = demo.network.create_port(network_id=net.id)
    fip = demo.network.create_ip(floating_network_id=public["id"], port_id=port.id)
    assert fip.router_id == router.id and fip.fixed_ip_address == port.fixed_ips[0]["ip_address"]
    assert fip.id in {ip.id for ip in demo.network.ips(port_id=port.id)}
    # deleting the port disassociates its floating IP
    demo.network.delete_port(port)
    fip = demo.network.get_ip(fip.id)
    assert fip.port_id is None and fip.router_id is None and fip.status == "DOWN"
    demo.network.delete_ip(fip)
    demo.network.remove_interface_from_router(router, subnet_id=subnet.id)
    demo.network.update_router(router, external_gateway_info={})
    assert demo.network.get_router(router.id).external_gateway_info is None
    demo.network.delete_router(router)
    demo.network.delete_network(net)


def test_bad_requests(api, cli, public):
    as_admin, as_demo = api
    net_a, subnet_a = tenant_net(cli, "10.30.0.0/24")
    net_b, subnet_b = tenant_net(cli, "10.30.0.0/25")
    router = as_demo.post("/routers", json={"router": {"name": random_name("r")}}).json()["router"]
    add = f"/routers/{router['id']}/add_router_interface"
    assert as_demo.put(add, json={"subnet_id": subnet_a["id"]}).status_code == 200
    overlapping = as_demo.put(add, json={"subnet_id": subnet_b["id"]})
    assert overlapping.status_code == 400 and "overlaps" in overlapping.json()["NeutronError"]["message"]
    # a port on a subnet with no route to the external network: 404
    port = as_demo.post("/ports", json={"port": {"network_id": net_b["id"]}}).json()["port"]
    fip = as_demo.post("/floatingips", json={"floatingip": {"floating_network_id": public["id"],
                                                            "port_id": port["id"]}})
    assert fip.status_code == 404 and fip.json()["NeutronError"]["type"] == "ExternalGatewayForFloatingIPNotFound"
    assert as_demo.delete(f"/routers/{router['id']}").status_code == 409
    # other projects' routers are not found
    mine = as_admin.post("/routers", json={"router": {"name": random_name("r")}}).json()["router"]
    assert as_demo.get(f"/routers/{mine['id']}").status_code == 404
    assert as_demo.put(f"/routers/{mine['id']}/add_router_interface",
                       json={"subnet_id": subnet_b["id"]}).status_code == 404
    # a gateway on a network that is not external: 400; snat needs admin: 403
    gateway = as_demo.put(f"/routers/{router['id']}", json={"router": {"external_gateway_info": {
        "network_id": net_a["id"]}}})
    assert gateway.status_code == 400
    snat = as_demo.put(f"/routers/{router['id']}", json={"router": {"external_gateway_info": {
        "network_id": public["id"], "enable_snat": False}}})
    assert snat.status_code == 403
    # a floating IP on a tenant network: 400; a chosen address needs admin: 403
    assert as_demo.post("/floatingips", json={"floatingip": {"floating_network_id": net_a["id"]}}).status_code == 400
    chosen = as_demo.post("/floatingips", json={"floatingip": {"floating_network_id": public["id"],
                                                               "floating_ip_address": "172.24.4.99"}})
    assert chosen.status_code == 403
    # removing what is not there: 404
    remove = f"/routers/{router['id']}/remove_router_interface"
    assert as_demo.put(remove, json={"subnet_id": subnet_b["id"]}).status_code == 404
    assert as_demo.put(remove, json={"subnet_id": subnet_a["id"]}).status_code == 200
    assert as_demo.delete(f"/routers/{router['id']}").status_code == 204
    as_admin.delete(f"/routers/{mine['id']}")
    as_demo.delete(f"/ports/{port['id']}")


def test_one_floating_ip_per_fixed_ip_and_routes(api, cli, public):
    as_admin, as_demo = api
    net, subnet = tenant_net(cli, "10.40.0.0/24")
    router = as_demo.post("/routers", json={"router": {"name": random_name("r"), "external_gateway_info": {
        "network_id": public["id"]}}}).json()["router"]
    as_demo.put(f"/routers/{router['id']}/add_router_interface", json={"subnet_id": subnet["id"]})
    port = as_demo.post("/ports", json={"port": {"network_id": net["id"]}}).json()["port"]
    first = as_demo.post("/floatingips", json={"floatingip": {"floating_network_id": public["id"],
                                                              "port_id": port["id"]}})
    assert first.status_code == 201 and first.json()["floatingip"]["status"] == "ACTIVE"
    second = as_demo.post("/floatingips", json={"floatingip": {"floating_network_id": public["id"],
                                                               "port_id": port["id"]}})
    assert second.status_code == 409
    # static routes: the next hop must be on a connected subnet
    url = f"/routers/{router['id']}"
    bad = as_demo.put(url, json={"router": {"routes": [{"destination": "192.168.0.0/24", "nexthop": "10.99.0.5"}]}})
    assert bad.status_code == 400
    good = as_demo.put(url, json={"router": {"routes": [{"destination": "192.168.0.0/24", "nexthop": "10.40.0.5"}]}})
    assert good.status_code == 200 and good.json()["router"]["routes"] == [
        {"destination": "192.168.0.0/24", "nexthop": "10.40.0.5"}]
    added = as_demo.put(url + "/add_extraroutes", json={"router": {"routes": [
        {"destination": "192.168.1.0/24", "nexthop": "10.40.0.6"}]}})
    assert len(added.json()["router"]["routes"]) == 2
    removed = as_demo.put(url + "/remove_extraroutes", json={"router": {"routes": [
        {"destination": "192.168.0.0/24", "nexthop": "10.40.0.5"}]}})
    assert removed.json()["router"]["routes"] == [{"destination": "192.168.1.0/24", "nexthop": "10.40.0.6"}]
    assert as_demo.put(url + "/remove_router_interface", json={"subnet_id": subnet["id"]}).status_code == 409
    # port forwardings need a floating IP without a port
    fip = first.json()["floatingip"]
    pf_url = f"/floatingips/{fip['id']}/port_forwardings"
    pf = {"port_forwarding": {"protocol": "tcp", "external_port": 2222, "internal_port": 22,
                              "internal_ip_address": port["fixed_ips"][0]["ip_address"],
                              "internal_port_id": port["id"]}}
    assert as_demo.post(pf_url, json=pf).status_code == 409
    as_demo.put(f"/floatingips/{fip['id']}", json={"floatingip": {"port_id": None}})
    made = as_demo.post(pf_url, json=pf)
    assert made.status_code == 201
    assert as_demo.get(f"/floatingips/{fip['id']}").json()["floatingip"]["router_id"] == router["id"]
    assert as_demo.post(pf_url, json=pf).status_code == 409
    assert [p["external_port"] for p in as_demo.get(pf_url).json()["port_forwardings"]] == [2222]
    assert as_demo.delete(f"{pf_url}/{made.json()['port_forwarding']['id']}").status_code == 204
    as_demo.put(url, json={"router": {"routes": []}})
    as_demo.delete(f"/floatingips/{fip['id']}")
    assert as_demo.put(url + "/remove_router_interface", json={"subnet_id": subnet["id"]}).status_code == 200
    as_demo.delete(f"/ports/{port['id']}")
    assert as_demo.delete(url).status_code == 204


def test_projects_cannot_make_ports_on_external_networks(api, public):
    as_admin, as_demo = api
    refused = as_demo.post("/ports", json={"port": {"network_id": public["id"]}})
    assert refused.status_code == 404
    # but they see the network and take floating IPs from it
    assert as_demo.get(f"/networks/{public['id']}").json()["network"]["router:external"] is True
    fip = as_demo.post("/floatingips", json={"floatingip": {"floating_network_id": public["id"]}})
    assert fip.status_code == 201
    assert as_demo.delete(f"/floatingips/{fip.json()['floatingip']['id']}").status_code == 204
    made = as_admin.post("/ports", json={"port": {"network_id": public["id"]}})
    assert made.status_code == 201
    as_admin.delete(f"/ports/{made.json()['port']['id']}")


def test_router_with_a_floating_ip_in_use_is_not_deleted(api, demo, public):
    """As Neutron: the interface the floating IP needs makes the router "still has ports"
    (RouterInUse, 409) and its gateway cannot go while the floating IP uses it; nothing
    of the router is undone by the refusals."""
    as_admin, as_demo = api
    net = demo.network.create_network(name=random_name("net"))
    subnet = demo.network.create_subnet(network_id=net.id, cidr="10.50.0.0/24", ip_version=4)
    router = demo.network.create_router(name=random_name("r"), external_gateway_info={"network_id": public["id"]})
    demo.network.add_interface_to_router(router, subnet_id=subnet.id)
    port = demo.network.create_port(network_id=net.id)
    fip = demo.network.create_ip(floating_network_id=public["id"], port_id=port.id)
    assert fip.router_id == router.id

    with pytest.raises(openstack.exceptions.ConflictException):
        demo.network.delete_router(router)
    refused = as_demo.delete(f"/routers/{router.id}")
    assert refused.status_code == 409 and refused.json()["NeutronError"]["type"] == "RouterInUse"
    cleared = as_demo.put(f"/routers/{router.id}", json={"router": {"external_gateway_info": {}}})
    assert cleared.status_code == 409
    assert cleared.json()["NeutronError"]["type"] == "RouterExternalGatewayInUseByFloatingIp"
    kept = demo.network.get_router(router.id)
    assert kept.external_gateway_info["network_id"] == public["id"]
    assert {p["device_owner"] for p in router_ports(as_admin, router.id)} == {
        "network:router_gateway", "network:router_interface"}
    assert demo.network.get_ip(fip.id).router_id == router.id

    # once the floating IP lets go and the interface goes, the router (and its gateway port) goes
    demo.network.update_ip(fip, port_id=None)
    demo.network.remove_interface_from_router(router, subnet_id=subnet.id)
    demo.network.delete_router(router)
    assert router_ports(as_admin, router.id) == []
    assert demo.network.get_ip(fip.id).router_id is None
    demo.network.delete_ip(fip)
    demo.network.delete_port(port)
    demo.network.delete_network(net)


def router_ports(as_admin, router_id: str) -> list[dict]:
    """The router's ports, as the admin sees them (the gateway port is not the project's)."""
    return as_admin.get("/ports", params={"device_id": router_id}).json()["ports"]
