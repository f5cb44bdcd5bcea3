"""Servers on networks, with the real clients: ports made and bound at boot, addresses
in the server body, ports freed on delete, security groups and floating IPs through
compute, the compute proxies of the network service, and bad network requests.

Everything runs in a project of its own: a server booted without ``networks`` takes
the project's one network, so other tests' projects must not see these networks."""

from __future__ import annotations

import time

import httpx
import pytest

from conftest import connect, random_name


@pytest.fixture(scope="module")
def project(admin, cloud):
    """A fresh project with a member user: (sdk connection, CLI environment)."""
    name, password = random_name("netproj"), random_name("pw")
    made = admin.identity.create_project(name=name, domain_id="default")
    user = admin.identity.create_user(name=name, password=password, default_project_id=made.id,
                                      domain_id="default")
    member = admin.identity.find_role("member")
    admin.identity.assign_project_role_to_user(made, user, member)
    conn = connect(cloud, name, password, project=name)
    env = {"OS_AUTH_URL": cloud.auth_url, "OS_USERNAME": name, "OS_PASSWORD": password, "OS_PROJECT_NAME": name,
           "OS_USER_DOMAIN_NAME": "Default", "OS_PROJECT_DOMAIN_NAME": "Default", "OS_IDENTITY_API_VERSION": "3",
           "OS_REGION_NAME": "RegionOne"}
    yield conn, env
    for server in conn.compute.servers():
        conn.compute.delete_server(server, force=True)
    admin.identity.delete_user(user)
    admin.identity.delete_project(made)


@pytest.fixture(scope="module")
def image(admin):
    created = admin.image.create_image(name=random_name("img"), data=b"\0" * 4096, disk_format="raw",
                                       container_format="bare", visibility="public")
    yield created
    admin.image.delete_image(created, ignore_missing=True)


@pytest.fixture(scope="module")
def network(project):
    conn, _ = project
    net = conn.network.create_network(name=random_name("net"))
    subnet = conn.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.20.0.0/24", gateway_ip="10.20.0.1")
    return net, subnet


def cli_env(cli, env: dict) -> dict:
    base = {k: v for k, v in cli.env().items() if k not in ("OS_CLOUD", "OS_CLIENT_CONFIG_FILE")}
    return {**base, **env}


def nova(cloud, conn, method: str, path: str, version: str = "2.1", **kwargs) -> httpx.Response:
    headers = {"X-Auth-Token": conn.auth_token, "OpenStack-API-Version": f"compute {version}"}
    return httpx.request(method, f"{cloud.url}/compute/v2.1{path}", headers=headers, timeout=30, **kwargs)


def wait_gone(conn, server_id: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while conn.compute.find_server(server_id) is not None:
        assert time.monotonic() < deadline, "server not deleted"
        time.sleep(0.05)


@pytest.mark.cli
def test_cli_boot_on_a_network_and_delete_frees_the_port(cli, project, network, image, admin):
    conn, env = project
    net, subnet = network
    name = random_name("vm")
    shell = cli_env(cli, env)
    server = cli.run("server", "create", "--flavor", "m1.nano", "--image", image.id, "--network", net.id, "--wait",
                     name, env=shell)
    assert server["status"] == "ACTIVE"
    addresses = server["addresses"]
    assert net.name in str(addresses) and "10.20.0." in str(addresses)
    ports = cli.run("port", "list", "--server", server["id"], "--long", env=shell)
    assert len(ports) == 1 and ports[0]["Status"] == "ACTIVE"
    port = conn.network.get_port(ports[0]["ID"])
    assert port.device_owner.startswith("compute:") and port.binding_host_id is None  # admins only
    bound = admin.network.get_port(port.id)
    assert bound.binding_host_id and bound.binding_vif_type not in ("unbound", "binding_failed")
    default = [g for g in conn.network.security_groups(name="default")][0]
    assert port.security_group_ids == [default.id]
    listed = cli.run("server", "list", env=shell)
    assert any("10.20.0." in str(row["Networks"]) for row in listed if row["ID"] == server["id"])
    assert cli.raw("server", "delete", "--wait", server["id"], env=shell).returncode == 0
    assert conn.network.find_port(port.id) is None


def test_sdk_create_server_wait_gets_an_address(project, network, image):
    """openstacksdk's create_server(wait=True) insists on an IP address before it returns."""
    conn, _ = project
    net, _ = network
    # auto_ip off: the cloud's external network has no router to this test network
    server = conn.create_server(random_name("sdk"), image=image.id, flavor="m1.nano", network=net.id, wait=True,
                                timeout=60, auto_ip=False)
    assert server.status == "ACTIVE" and server.private_v4.startswith("10.20.0.")
    conn.delete_server(server.id, wait=True, timeout=30)


def test_fixed_ip_port_and_ips_calls(cloud, project, network, image):
    conn, _ = project
    net, subnet = network
    server = conn.compute.create_server(name=random_name("fix"), image_id=image.id, flavor_id="42",
                                        networks=[{"uuid": net.id, "fixed_ip": "10.20.0.50"}])
    server = conn.compute.wait_for_server(server, wait=30)
    assert server.addresses[net.name][0]["addr"] == "10.20.0.50"
    assert server.addresses[net.name][0]["OS-EXT-IPS:type"] == "fixed"
    assert server.addresses[net.name][0]["OS-EXT-IPS-MAC:mac_addr"].startswith("fa:16:3e:")
    ips = nova(cloud, conn, "GET", f"/servers/{server.id}/ips").json()
    assert ips["addresses"][net.name][0]["addr"] == "10.20.0.50"
    one = nova(cloud, conn, "GET", f"/servers/{server.id}/ips/{net.name}").json()
    assert one == {net.name: ips["addresses"][net.name]}
    assert nova(cloud, conn, "GET", f"/servers/{server.id}/ips/nowhere").status_code == 404
    attachments = nova(cloud, conn, "GET", f"/servers/{server.id}/os-interface").json()["interfaceAttachments"]
    assert attachments[0]["net_id"] == net.id and attachments[0]["fixed_ips"][0]["ip_address"] == "10.20.0.50"
    # a port made beforehand is taken over, and left (released) when the server goes
    port = conn.network.create_port(network_id=net.id)
    second = conn.compute.create_server(name=random_name("port"), image_id=image.id, flavor_id="42",
                                        networks=[{"port": port.id}])
    conn.compute.wait_for_server(second, wait=30)
    assert conn.network.get_port(port.id).device_id == second.id
    taken = nova(cloud, conn, "POST", "/servers", json={"server": {
        "name": "again", "imageRef": image.id, "flavorRef": "42", "networks": [{"port": port.id}]}})
    assert taken.status_code == 409, taken.text
    for made in (server, second):
        conn.compute.delete_server(made)
        wait_gone(conn, made.id)
    released = conn.network.get_port(port.id)
    assert released.device_id == "" and released.device_owner == ""
    conn.network.delete_port(port)


def test_bad_network_requests(cloud, project, network, image, admin):
    conn, _ = project
    net, _ = network

    def boot(networks, version="2.1"):
        body = {"server": {"name": "bad-boot", "imageRef": image.id, "flavorRef": "42", "networks": networks}}
        return nova(cloud, conn, "POST", "/servers", version=version, json=body)

    missing = boot([{"uuid": "9f0c4a7e-6f4e-4b0e-9a59-0f6a6f0b8b11"}])
    assert missing.status_code == 400 and "could not be found" in missing.json()["badRequest"]["message"]
    assert boot([{"port": "9f0c4a7e-6f4e-4b0e-9a59-0f6a6f0b8b11"}]).status_code == 400
    assert boot([{"uuid": net.id, "fixed_ip": "not-an-ip"}]).status_code == 400
    assert boot("bogus", version="2.37").status_code == 400
    other = admin.network.create_network(name=random_name("admin-net"))
    try:  # another project's private network is not there for this one
        assert boot([{"uuid": other.id}]).status_code == 400
    finally:
        admin.network.delete_network(other)
    extra = conn.network.create_network(name=random_name("second"))
    try:  # two networks and none named: Nova's NetworkAmbiguous
        body = {"server": {"name": "ambiguous-boot", "imageRef": image.id, "flavorRef": "42"}}
        ambiguous = nova(cloud, conn, "POST", "/servers", json=body)
        assert ambiguous.status_code == 409, ambiguous.text
        assert "Multiple possible networks" in ambiguous.json()["conflictingRequest"]["message"]
    finally:
        conn.network.delete_network(extra)
    names = {server.name for server in conn.compute.servers()}
    assert "bad-boot" not in names and "ambiguous-boot" not in names


def test_none_boots_without_ports_and_security_group_actions(cloud, project, network, image):
    conn, _ = project
    bare = nova(cloud, conn, "POST", "/servers", version="2.37", json={"server": {
        "name": random_name("none"), "imageRef": image.id, "flavorRef": "42", "networks": "none"}}).json()["server"]
    conn.compute.wait_for_server(conn.compute.get_server(bare["id"]), wait=30)
    assert conn.compute.get_server(bare["id"]).addresses == {}
    assert not list(conn.network.ports(device_id=bare["id"]))
    group = conn.network.create_security_group(name=random_name("sg"))
    server = conn.compute.create_server(name=random_name("sgvm"), image_id=image.id, flavor_id="42",
                                        networks=[{"uuid": network[0].id}])
    conn.compute.wait_for_server(server, wait=30)
    conn.compute.add_security_group_to_server(server, group)
    (port,) = conn.network.ports(device_id=server.id)
    assert group.id in port.security_group_ids
    listed = nova(cloud, conn, "GET", f"/servers/{server.id}/os-security-groups").json()["security_groups"]
    assert group.name in [g["name"] for g in listed]
    conn.compute.remove_security_group_from_server(server, group)
    (port,) = conn.network.ports(device_id=server.id)
    assert group.id not in port.security_group_ids
    missing = nova(cloud, conn, "POST", f"/servers/{server.id}/action", json={"addSecurityGroup": {"name": "nope"}})
    assert missing.status_code == 404
    for made in (bare["id"], server.id):
        conn.compute.delete_server(made)
        wait_gone(conn, made)
    conn.network.delete_security_group(group)


def test_compute_proxies_below_2_36(cloud, project, network):
    conn, _ = project
    made = nova(cloud, conn, "POST", "/os-security-groups",
                json={"security_group": {"name": "proxied", "description": "via nova"}})
    assert made.status_code == 200, made.text
    group = made.json()["security_group"]
    rule = nova(cloud, conn, "POST", "/os-security-group-rules", json={"security_group_rule": {
        "parent_group_id": group["id"], "ip_protocol": "tcp", "from_port": 22, "to_port": 22,
        "cidr": "0.0.0.0/0"}})
    assert rule.status_code == 200, rule.text
    assert rule.json()["security_group_rule"]["ip_range"] == {"cidr": "0.0.0.0/0"}
    shown = nova(cloud, conn, "GET", f"/os-security-groups/{group['id']}").json()["security_group"]
    assert [(r["ip_protocol"], r["from_port"], r["to_port"]) for r in shown["rules"]] == [("tcp", 22, 22)]
    assert nova(cloud, conn, "GET", "/os-security-groups", version="2.36").status_code == 404
    assert nova(cloud, conn, "DELETE", f"/os-security-group-rules/{rule.json()['security_group_rule']['id']}"
                ).status_code == 202
    assert nova(cloud, conn, "DELETE", f"/os-security-groups/{group['id']}").status_code == 202
    listed = nova(cloud, conn, "GET", "/os-networks")
    assert listed.status_code == 200, listed.text
    networks = listed.json()["networks"]
    assert network[0].id in [n["id"] for n in networks]
    assert nova(cloud, conn, "GET", "/os-floating-ip-pools").status_code == 200


@pytest.mark.cli
def test_interface_attach_and_detach(cli, cloud, project, network, image):
    conn, env = project
    net, _ = network
    shell = cli_env(cli, env)
    server = conn.compute.create_server(name=random_name("hot"), image_id=image.id, flavor_id="42",
                                        networks=[{"uuid": net.id}])
    conn.compute.wait_for_server(server, wait=30)
    port = conn.network.create_port(network_id=net.id)
    assert cli.raw("server", "add", "port", server.id, port.id, env=shell).returncode == 0
    assert conn.network.get_port(port.id).device_id == server.id
    added = nova(cloud, conn, "POST", f"/servers/{server.id}/os-interface",
                 json={"interfaceAttachment": {"net_id": net.id}})
    assert added.status_code == 200, added.text
    made = added.json()["interfaceAttachment"]["port_id"]
    listed = nova(cloud, conn, "GET", f"/servers/{server.id}/os-interface").json()["interfaceAttachments"]
    assert {port.id, made} <= {item["port_id"] for item in listed} and len(listed) == 3
    assert len(conn.compute.get_server(server.id).addresses[net.name]) == 3
    assert cli.raw("server", "remove", "port", server.id, port.id, env=shell).returncode == 0
    assert conn.network.get_port(port.id).device_id == ""  # given ports are released, not deleted
    assert nova(cloud, conn, "DELETE", f"/servers/{server.id}/os-interface/{made}").status_code == 202
    assert conn.network.find_port(made) is None  # ports compute made go with the interface
    missing = nova(cloud, conn, "DELETE", f"/servers/{server.id}/os-interface/{made}")
    assert missing.status_code == 404
    conn.compute.delete_server(server)
    wait_gone(conn, server.id)
    conn.network.delete_port(port)


@pytest.mark.cli
def test_cli_floating_ip_through_a_router(cli, project, network, image, admin):
    """The seed guide's last network steps: a router to `public`, a floating IP on the server."""
    conn, env = project
    net, subnet = network
    shell = cli_env(cli, env)
    router = cli.run("router", "create", random_name("router"), env=shell)
    assert cli.raw("router", "add", "subnet", router["id"], subnet.id, env=shell).returncode == 0
    assert cli.raw("router", "set", "--external-gateway", "public", router["id"], env=shell).returncode == 0
    server = cli.run("server", "create", "--flavor", "m1.nano", "--image", image.id, "--network", net.id, "--wait",
                     random_name("fip"), env=shell)
    fip = cli.run("floating", "ip", "create", "public", env=shell)
    address = fip["floating_ip_address"]
    assert cli.raw("server", "add", "floating", "ip", server["id"], address, env=shell).returncode == 0
    shown = cli.run("server", "show", server["id"], env=shell)
    assert address in str(shown["addresses"])
    assert conn.network.get_ip(fip["id"]).port_id in [p.id for p in conn.network.ports(device_id=server["id"])]
    assert cli.raw("server", "remove", "floating", "ip", server["id"], address, env=shell).returncode == 0
    assert conn.network.get_ip(fip["id"]).port_id is None
    assert cli.raw("server", "delete", "--wait", server["id"], env=shell).returncode == 0
    assert cli.raw("floating", "ip", "delete", fip["id"], env=shell).returncode == 0
    assert cli.raw("router", "remove", "subnet", router["id"], subnet.id, env=shell).returncode == 0
    assert cli.raw("router", "delete", router["id"], env=shell).returncode == 0
