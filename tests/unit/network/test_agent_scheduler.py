"""The DHCP and L3 agent scheduler over SQLite: bindings made for live agents only, the
least loaded first, the admin's add/remove with Neutron's errors, and the failover of
networks (on by default) and routers (off by default) from agents dead long enough."""

from __future__ import annotations

import datetime

import pytest

from overcast.common import heartbeats
from overcast.common.db import utcnow
from overcast.network import errors

from .conftest import context

DHCP, L3 = "neutron-dhcp-agent", "neutron-l3-agent"


def beat(network, host: str, *binaries: str, age: float = 0.0) -> None:
    for binary in binaries or (DHCP, L3):
        heartbeats.record(network.db, binary, host)
        if age:
            with network.db.session() as session:
                session.get(heartbeats.ServiceRecord, (binary, host)).last_seen = utcnow() - datetime.timedelta(
                    seconds=age)
    network.network_agents.register()


def agent_id(network, host: str, binary: str) -> str:
    agents = network.network_agents.list(context(admin=True), {})
    return next(a["id"] for a in agents if a["host"] == host and a["binary"] == binary)


def dhcp_network(network, cidr: str = "10.1.0.0/24", dhcp: bool = True) -> str:
    admin = context(admin=True)
    net = network.networks.create(admin, [{"name": "n", "project_id": "p1"}])[0]
    network.subnets.create(admin, [{"network_id": net["id"], "cidr": cidr, "project_id": "p1", "enable_dhcp": dhcp}])
    return net["id"]


def hosts_of(network, network_id: str) -> set[str]:
    agents = {a["id"]: a["host"] for a in network.network_agents.list(context(admin=True), {})}
    return {agents[i] for i in network.agent_scheduler.network_agent_ids(network_id)}


def test_a_dhcp_network_goes_to_one_live_agent_the_least_loaded(network):
    beat(network, "a")
    beat(network, "b")
    beat(network, "dead", age=heartbeats.DOWN_AFTER + 1)
    first, second = dhcp_network(network, "10.1.0.0/24"), dhcp_network(network, "10.2.0.0/24")
    assert len(hosts_of(network, first)) == 1 and len(hosts_of(network, second)) == 1
    assert hosts_of(network, first) | hosts_of(network, second) == {"a", "b"}
    assert hosts_of(network, dhcp_network(network, "10.3.0.0/24", dhcp=False)) == set()
    host = hosts_of(network, first).pop()
    assert network.agent_scheduler.dhcp_hosted(first, host) and not network.agent_scheduler.dhcp_hosted(first, "dead")
    dhcp = network.network_agents.get(context(admin=True), agent_id(network, host, DHCP))
    assert dhcp["configurations"]["networks"] == 1


def test_dhcp_agents_per_network_and_a_disabled_agent(network):
    network.config.network.dhcp_agents_per_network = 2
    beat(network, "a")
    beat(network, "b")
    beat(network, "c")
    network.network_agents.update(context(admin=True), agent_id(network, "c", DHCP), {"admin_state_up": False})
    assert hosts_of(network, dhcp_network(network)) == {"a", "b"}


def test_a_router_goes_to_the_l3_agent_with_fewest_routers(network):
    beat(network, "a")
    beat(network, "b")
    admin = context(admin=True)
    routers = [network.routers.create(admin, [{"name": f"r{n}", "project_id": "p1"}])[0]["id"] for n in range(4)]
    counts = {host: len(network.agent_scheduler.agent_router_ids(agent_id(network, host, L3))) for host in "ab"}
    assert counts == {"a": 2, "b": 2}
    for router_id in routers:
        (bound,) = network.agent_scheduler.router_agent_ids(router_id)
        host = next(h for h in "ab" if agent_id(network, h, L3) == bound)
        assert network.agent_scheduler.l3_hosted(router_id, host)


def test_nothing_is_scheduled_without_a_live_agent_until_one_syncs(network):
    net = dhcp_network(network)
    router = network.routers.create(context(admin=True), [{"name": "r", "project_id": "p1"}])[0]["id"]
    assert hosts_of(network, net) == set() and network.agent_scheduler.router_agent_ids(router) == set()
    assert network.agent_scheduler.agent_sync("late") == {"networks": [net], "routers": [router]}


def test_admin_add_and_remove_with_neutrons_errors(network):
    beat(network, "a")
    beat(network, "b")
    net = dhcp_network(network)
    (holder,) = hosts_of(network, net)
    other = "b" if holder == "a" else "a"
    sched = network.agent_scheduler
    holder_id, other_id = agent_id(network, holder, DHCP), agent_id(network, other, DHCP)
    with pytest.raises(errors.NetworkHostedByDHCPAgent):
        sched.add_network(holder_id, net)
    with pytest.raises(errors.NetworkNotHostedByDhcpAgent):
        sched.remove_network(other_id, net)
    with pytest.raises(errors.InvalidDHCPAgent) as refused:
        sched.add_network(agent_id(network, other, L3), net)
    assert refused.value.status == 404
    with pytest.raises(errors.NetworkNotFound):
        sched.add_network(other_id, "4b2d5a5e-0000-4000-8000-000000000000")
    sched.remove_network(holder_id, net)
    sched.add_network(other_id, net)
    assert hosts_of(network, net) == {other}
    assert ("network_update", {"network_id": net}) in network.agents.sent
    router = network.routers.create(context(admin=True), [{"name": "r", "project_id": "p1"}])[0]["id"]
    (bound,) = sched.router_agent_ids(router)
    free = next(agent_id(network, h, L3) for h in "ab" if agent_id(network, h, L3) != bound)
    with pytest.raises(errors.RouterHostedByL3Agent) as taken:
        sched.add_router(free, router)
    assert taken.value.status == 409 and bound in str(taken.value)
    sched.add_router(bound, router)  # its own agent: nothing to do
    with pytest.raises(errors.RouterNotHostedByL3Agent):
        sched.remove_router(free, router)
    with pytest.raises(errors.InvalidL3Agent):
        sched.add_router(holder_id, router)
    sched.remove_router(bound, router)
    sched.add_router(free, router)
    assert sched.router_agent_ids(router) == {free}


def test_failover_moves_networks_by_default_and_routers_only_when_allowed(network):
    network.config.network.agent_failover_seconds = 30
    beat(network, "a")
    net = dhcp_network(network)
    router = network.routers.create(context(admin=True), [{"name": "r", "project_id": "p1"}])[0]["id"]
    admin = context(admin=True)
    left = network.ports.create(admin, [{"network_id": net, "device_owner": "network:dhcp", "project_id": "p1",
                                         "device_id": f"dhcp-a-{net}"}])[0]
    beat(network, "a", age=31)  # dead long enough
    network.agent_scheduler.failover()
    assert hosts_of(network, net) == {"a"}  # no live agent to take it: nothing moves
    beat(network, "b")
    network.agent_scheduler.failover()
    assert hosts_of(network, net) == {"b"}
    assert not [p for p in network.ports.list(admin, {"network_id": [net]}) if p["id"] == left["id"]]
    assert network.agent_scheduler.router_agent_ids(router) == {agent_id(network, "a", L3)}  # off by default
    network.config.network.allow_automatic_l3agent_failover = True
    network.agent_scheduler.failover()
    assert network.agent_scheduler.router_agent_ids(router) == {agent_id(network, "b", L3)}
    assert ("router_update", {"router_id": router}) in network.agents.sent
