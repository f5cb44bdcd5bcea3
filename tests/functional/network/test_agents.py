"""/v2.0/agents and friends through the CLI and openstacksdk: the all-in-one's four
network agents alive from their heartbeats, admin changes, deletion, availability
zones, IP availability and service providers."""

from __future__ import annotations

import time

import pytest

from conftest import random_name

TYPES = {"DHCP agent": "neutron-dhcp-agent", "L3 agent": "neutron-l3-agent",
         "Metadata agent": "neutron-metadata-agent", "Linux bridge agent": "neutron-linuxbridge-agent"}


def wait_for_agents(admin, timeout: float = 30.0) -> list:
    deadline = time.monotonic() + timeout
    while True:
        agents = list(admin.network.agents())
        if {agent.agent_type for agent in agents if agent.is_alive} >= set(TYPES):
            return agents
        assert time.monotonic() < deadline, [(a.agent_type, a.is_alive) for a in agents]
        time.sleep(0.5)


@pytest.mark.cli
def test_cli_agent_list_shows_the_four_agents_alive(cli, admin):
    wait_for_agents(admin)
    rows = cli.run("network", "agent", "list")
    by_type = {row["Agent Type"]: row for row in rows}
    assert set(TYPES) <= set(by_type)
    for agent_type, binary in TYPES.items():
        row = by_type[agent_type]
        assert row["Binary"] == binary and row["Alive"] is True and row["State"] is True
    assert by_type["DHCP agent"]["Availability Zone"] == "nova"
    assert by_type["Metadata agent"]["Availability Zone"] is None
    dhcp = cli.run("network", "agent", "show", by_type["DHCP agent"]["ID"])
    assert dhcp["topic"] == "dhcp_agent" and dhcp["configuration"]["dhcp_driver"]
    assert dhcp["last_heartbeat_at"] and dhcp["started_at"] and dhcp["created_at"]
    zones = cli.run("availability", "zone", "list", "--network", "--long")
    assert {(z["Zone Name"], z["Zone Status"], z["Zone Resource"]) for z in zones} == {
        ("nova", "available", "network"), ("nova", "available", "router")}


@pytest.mark.cli
def test_cli_agent_set_and_member_sees_none(cli, admin):
    agent = next(a for a in wait_for_agents(admin) if a.agent_type == "L3 agent")
    try:
        cli.ok("network", "agent", "set", "--description", "rack 4", "--disable", agent.id)
        shown = cli.run("network", "agent", "show", agent.id)
        assert shown["description"] == "rack 4" and shown["admin_state_up"] is False
        zones = cli.run("availability", "zone", "list", "--network", "--long")
        assert ("nova", "not available", "router") in {(z["Zone Name"], z["Zone Status"], z["Zone Resource"])
                                                      for z in zones}
    finally:
        cli.ok("network", "agent", "set", "--enable", agent.id)
    assert cli.run("network", "agent", "list", cloud_name="overcast-demo") in (None, [])
    assert cli.raw("network", "agent", "show", agent.id, cloud_name="overcast-demo").returncode != 0


def test_sdk_agent_errors_and_hosting(admin, demo):
    agents = {agent.agent_type: agent for agent in wait_for_agents(admin)}
    dhcp = agents["DHCP agent"]
    refused = admin.network.put(f"/agents/{dhcp.id}", json={"agent": {"host": "other"}}, raise_exc=False)
    assert refused.status_code == 400
    assert admin.network.post("/agents", json={"agent": {}}, raise_exc=False).status_code in (404, 405)
    missing = admin.network.get("/agents/4b2d5a5e-0000-4000-8000-000000000000", raise_exc=False)
    assert missing.status_code == 404 and missing.json()["NeutronError"]["type"] == "AgentNotFound"
    assert demo.network.delete(f"/agents/{dhcp.id}", raise_exc=False).status_code == 404
    network = admin.network.create_network(name=random_name("net"))
    try:
        hosted = admin.network.get(f"/agents/{dhcp.id}/dhcp-networks").json()["networks"]
        assert network.id not in {n["id"] for n in hosted}  # no DHCP subnet yet
        router = admin.network.create_router(name=random_name("r"))
        try:
            running = admin.network.get(f"/agents/{agents['L3 agent'].id}/l3-routers").json()["routers"]
            assert router.id in {r["id"] for r in running}
            l3 = admin.network.get(f"/routers/{router.id}/l3-agents").json()["agents"]
            assert [agent["id"] for agent in l3] == [agents["L3 agent"].id]
        finally:
            admin.network.delete_router(router)
        assert admin.network.get(f"/agents/{dhcp.id}/l3-routers").json()["routers"] == []
        assert admin.network.get(f"/networks/{network.id}/dhcp-agents").json() == {"agents": []}
        subnet = admin.network.create_subnet(network_id=network.id, ip_version=4, cidr="10.77.0.0/24")
        hosting = admin.network.get(f"/networks/{network.id}/dhcp-agents").json()["agents"]
        assert [agent["id"] for agent in hosting] == [dhcp.id]
        assert network.id in {n["id"] for n in admin.network.get(f"/agents/{dhcp.id}/dhcp-networks").json()["networks"]}
        refused = demo.network.get(f"/networks/{network.id}/dhcp-agents", raise_exc=False)
        assert refused.status_code == 404  # demo cannot see the admin's network at all
        deadline = time.monotonic() + 10  # the DHCP agent makes its port and reports it up
        while not [p for p in admin.network.ports(network_id=network.id, device_owner="network:dhcp")
                   if p.status == "ACTIVE"]:
            assert time.monotonic() < deadline, "no ACTIVE DHCP port"
            time.sleep(0.2)
        (dhcp_port,) = admin.network.ports(network_id=network.id, device_owner="network:dhcp")
        assert dhcp_port.fixed_ips[0]["ip_address"] == "10.77.0.2" and dhcp_port.binding_host_id
        availability = admin.network.get(f"/network-ip-availabilities/{network.id}").json()
        assert availability["network_ip_availability"]["total_ips"] == 253
        assert availability["network_ip_availability"]["used_ips"] == 1
        assert availability["network_ip_availability"]["subnet_ip_availability"][0]["subnet_id"] == subnet.id
        listed = admin.network.get("/network-ip-availabilities", params={"network_id": network.id}).json()
        assert [item["network_name"] for item in listed["network_ip_availabilities"]] == [network.name]
        assert demo.network.get("/network-ip-availabilities").json()["network_ip_availabilities"] == []
    finally:
        admin.network.delete_network(network)
    assert demo.network.get("/service-providers").json() == {"service_providers": []}


def test_deleted_agent_comes_back_with_its_next_heartbeat(admin):
    agent = next(a for a in wait_for_agents(admin) if a.agent_type == "Metadata agent")
    admin.network.delete_agent(agent)
    assert agent.id not in {a.id for a in admin.network.agents()}
    deadline = time.monotonic() + 30
    while True:
        back = [a for a in admin.network.agents() if a.agent_type == "Metadata agent"]
        if back:
            assert back[0].id != agent.id and back[0].is_alive
            break
        assert time.monotonic() < deadline, "the agent did not re-register"
        time.sleep(0.5)


def test_dhcp_agent_scheduler_add_and_remove(admin):
    dhcp = next(a for a in wait_for_agents(admin) if a.agent_type == "DHCP agent")
    listed = admin.network.get("/agents", params={"agent_type": "DHCP Agent"}).json()["agents"]
    assert [a["id"] for a in listed] == [dhcp.id]  # the type matches whatever its case
    network = admin.network.create_network(name=random_name("sched"))
    path = f"/agents/{dhcp.id}/dhcp-networks"

    def hosted() -> bool:
        return network.id in {n["id"] for n in admin.network.get(path).json()["networks"]}

    try:
        assert not hosted()
        assert admin.network.post(path, json={"network_id": network.id}).status_code == 201
        assert hosted()
        again = admin.network.post(path, json={"network_id": network.id}, raise_exc=False)
        assert again.status_code == 409 and again.json()["NeutronError"]["type"] == "NetworkHostedByDHCPAgent"
        assert admin.network.delete(f"{path}/{network.id}").status_code == 204
        assert not hosted()
        gone = admin.network.delete(f"{path}/{network.id}", raise_exc=False)
        assert gone.status_code == 409 and gone.json()["NeutronError"]["type"] == "NetworkNotHostedByDhcpAgent"
        admin.network.create_subnet(network_id=network.id, ip_version=4, cidr="10.78.0.0/24")
        assert hosted()  # a new DHCP subnet schedules its network, as Neutron's subnet_create_end
        assert admin.network.delete(f"{path}/{network.id}").status_code == 204
        time.sleep(0.5)
        assert not list(admin.network.ports(network_id=network.id, device_owner="network:dhcp"))
        admin.network.post(path, json={"network_id": network.id})
        deadline = time.monotonic() + 10
        while not list(admin.network.ports(network_id=network.id, device_owner="network:dhcp")):
            assert time.monotonic() < deadline, "the DHCP agent did not take the network back"
            time.sleep(0.2)
        l3 = next(a for a in wait_for_agents(admin) if a.agent_type == "L3 agent")
        wrong = admin.network.post(f"/agents/{l3.id}/dhcp-networks", json={"network_id": network.id},
                                   raise_exc=False)
        assert wrong.status_code == 404 and wrong.json()["NeutronError"]["type"] == "InvalidDHCPAgent"
    finally:
        admin.network.delete_network(network)
