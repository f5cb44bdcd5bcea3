"""The agents API's data from heartbeats: a Linux bridge agent's tunnel endpoint in its
configurations, and the endpoints each host floods its vxlan networks to."""

from __future__ import annotations

import datetime

from overcast.common import heartbeats
from overcast.common.db import utcnow

from .conftest import context

BRIDGE = "neutron-linuxbridge-agent"


def beat(db, host: str, ip: str | None) -> None:
    heartbeats.record(db, BRIDGE, host, "N/A", {"tunneling_ip": ip, "tunnel_types": ["vxlan"]} if ip else None)


def test_the_bridge_agent_shows_its_tunnel_endpoint_as_neutrons_does(db, network):
    beat(db, "a", "192.0.2.1")
    beat(db, "b", None)
    agents = {agent["host"]: agent for agent in network.network_agents.list(context(admin=True), {})}
    assert agents["a"]["configurations"]["tunneling_ip"] == "192.0.2.1"
    assert agents["a"]["configurations"]["tunnel_types"] == ["vxlan"]
    assert "tunneling_ip" not in agents["b"]["configurations"] and "tunnel_types" not in agents["b"]["configurations"]
    shown = network.network_agents.get(context(admin=True), agents["a"]["id"])
    assert shown["configurations"]["tunneling_ip"] == "192.0.2.1"


def test_peers_are_the_other_live_endpoints(db, network):
    beat(db, "a", "192.0.2.1")
    beat(db, "b", "192.0.2.2")
    beat(db, "c", "192.0.2.3")
    beat(db, "d", None)  # no endpoint: not a peer
    beat(db, "e", "192.0.2.1")  # the same endpoint as a's: never a's peer
    assert network.network_agents.tunnel_peers("a") == ["192.0.2.2", "192.0.2.3"]
    assert network.network_agents.tunnel_peers("new") == ["192.0.2.1", "192.0.2.2", "192.0.2.3"]
    with db.session() as session:  # c stops beating: once down, it is no one's peer
        session.get(heartbeats.ServiceRecord, (BRIDGE, "c")).last_seen = utcnow() - datetime.timedelta(
            seconds=heartbeats.DOWN_AFTER + 1)
    assert network.network_agents.tunnel_peers("a") == ["192.0.2.2"]
    beat(db, "b", "192.0.2.22")  # a new endpoint replaces the old one
    assert network.network_agents.tunnel_peers("a") == ["192.0.2.22"]
