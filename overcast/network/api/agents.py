"""/v2.0/agents (list, show, update ``admin_state_up``/``description``, delete; agents
are born of their heartbeats, never POSTed), the networks and routers an agent hosts,
/v2.0/availability_zones, /v2.0/network-ip-availabilities and /v2.0/service-providers.

Lists leave out what the caller may not see (Neutron answers a member's agent list with
an empty list, not 403)."""

from __future__ import annotations

from starlette.datastructures import QueryParams
from starlette.responses import Response

from overcast.common.api import Route, reply
from overcast.network.api import listing
from overcast.network.api.attributes import Attr, boolean, string
from overcast.network.api.controller import Resource, target
from overcast.network.errors import AgentNotFound, HTTPBadRequest, NetworkNotFound, PolicyNotAuthorized

READ_ONLY = ("agent_type", "binary", "host", "topic", "alive", "availability_zone", "configurations", "created_at",
             "started_at", "heartbeat_timestamp", "resources_synced")
ATTRS = {
    "admin_state_up": Attr(boolean, post=False),
    "description": Attr(string(255, nullable=True), post=False),
    **{name: Attr(post=False, put=False) for name in READ_ONLY},
}

RESOURCE = Resource("agent", "agents", ATTRS, "network_agents", bulk=False)
TYPES = {kind.lower(): kind for kind in ("DHCP agent", "L3 agent", "Metadata agent", "Linux bridge agent")}


def list_agents(req):
    """The generic list, with ``agent_type`` matched whatever its case (Neutron on MySQL
    compares case-insensitively, and Tempest asks for 'DHCP Agent')."""
    req.query = QueryParams([(name, TYPES.get(value.lower(), value) if name == "agent_type" else value)
                             for name, value in req.query.multi_items()])
    return RESOURCE.list(req)


def _agent_of(req) -> dict:
    agent = RESOURCE.logic(req).get(req.context, req.params["id"])
    if not req.allowed(target(agent)):
        raise AgentNotFound(id=req.params["id"])
    return agent


def _added():
    """What Neutron answers a POST binding a network or router: 201 and a JSON ``null``
    (openstacksdk parses the body of it)."""
    return Response("null", status_code=201, media_type="application/json")


def _id_in_body(req, name: str) -> str:
    body = req.json()
    value = body.get(name) if isinstance(body, dict) else None
    if not isinstance(value, str):
        raise HTTPBadRequest(f"Failed to parse request. Required attribute '{name}' not specified")
    return value


def dhcp_networks(req):
    """The networks scheduled to a DHCP agent."""
    agent = _agent_of(req)
    served = req.state.network.agent_scheduler.agent_network_ids(agent["id"])
    found = [item for item in req.state.network.networks.list(req.context, {}) if item["id"] in served]
    return reply({"networks": found})


def add_dhcp_network(req):
    network_id = _id_in_body(req, "network_id")
    req.state.network.agent_scheduler.add_network(_agent_of(req)["id"], network_id)
    return _added()


def remove_dhcp_network(req):
    req.state.network.agent_scheduler.remove_network(_agent_of(req)["id"], req.params["network_id"])
    return reply(None, status=204)


def l3_routers(req):
    """The routers scheduled to an L3 agent."""
    agent = _agent_of(req)
    running = req.state.network.agent_scheduler.agent_router_ids(agent["id"])
    return reply({"routers": [item for item in req.state.network.routers.list(req.context, {})
                              if item["id"] in running]})


def add_l3_router(req):
    router_id = _id_in_body(req, "router_id")
    req.state.network.agent_scheduler.add_router(_agent_of(req)["id"], router_id)
    return _added()


def remove_l3_router(req):
    req.state.network.agent_scheduler.remove_router(_agent_of(req)["id"], req.params["router_id"])
    return reply(None, status=204)


def _agents_of(req, ids: set[str]) -> list[dict]:
    agents = [agent for agent in RESOURCE.logic(req).list(req.context, {}) if agent["id"] in ids]
    return [RESOURCE.render(req, agent) for agent in agents if req.allowed(target(agent))]


def network_dhcp_agents(req):
    """The DHCP agents a network is scheduled to."""
    network_id = req.params["network_id"]
    network = req.state.network.networks.get(req.context, network_id)  # 404 for a network the caller cannot see
    if not req.allowed(target(network)):
        raise PolicyNotAuthorized(rule="get_dhcp-agents")
    return reply({"agents": _agents_of(req, req.state.network.agent_scheduler.network_agent_ids(network_id))})


def router_l3_agents(req):
    """The L3 agent a router is scheduled to."""
    router = req.state.network.routers.get(req.context, req.params["router_id"])  # 404 for an unknown router
    if not req.allowed(target(router)):
        raise PolicyNotAuthorized(rule="get_l3-agents")
    return reply({"agents": _agents_of(req, req.state.network.agent_scheduler.router_agent_ids(router["id"]))})


def availability_zones(req):
    req.allowed()  # the rule is checked per zone below; an empty list is checked too
    zones = req.state.network.network_agents.zones()
    zones = [zone for zone in listing.select(zones, req.query) if req.allowed(zone)]
    return reply({"availability_zones": [listing.only_fields(zone, req.query.getlist("fields")) for zone in zones]})


def ip_availabilities(req):
    req.allowed()  # the rule is checked per network below; an empty list is checked too
    found = req.state.network.ip_availability.list(listing.filters_of(req.query))
    found = [item for item in listing.select(found, req.query) if req.allowed(item)]
    return reply({"network_ip_availabilities": [listing.only_fields(item, req.query.getlist("fields"))
                                                for item in found]})


def ip_availability(req):
    item = req.state.network.ip_availability.get(req.params["id"])
    if not req.allowed(item):
        raise NetworkNotFound(id=req.params["id"])
    return reply({"network_ip_availability": listing.only_fields(item, req.query.getlist("fields"))})


def service_providers(req):
    """No advanced service (LBaaS, VPNaaS, ...) runs here, so there is no provider to list."""
    req.allowed()
    return reply({"service_providers": []})


ROUTES = [
    Route("GET", "/v2.0/agents", list_agents, "get_agent"),
    *[route for route in RESOURCE.routes() if route.method != "POST" and route.handler != RESOURCE.list],
    Route("GET", "/v2.0/agents/{id}/dhcp-networks", dhcp_networks, "get_dhcp-networks"),
    Route("POST", "/v2.0/agents/{id}/dhcp-networks", add_dhcp_network, "create_dhcp-network"),
    Route("DELETE", "/v2.0/agents/{id}/dhcp-networks/{network_id}", remove_dhcp_network, "delete_dhcp-network"),
    Route("GET", "/v2.0/agents/{id}/l3-routers", l3_routers, "get_l3-routers"),
    Route("POST", "/v2.0/agents/{id}/l3-routers", add_l3_router, "create_l3-router"),
    Route("DELETE", "/v2.0/agents/{id}/l3-routers/{router_id}", remove_l3_router, "delete_l3-router"),
    Route("GET", "/v2.0/networks/{network_id}/dhcp-agents", network_dhcp_agents, "get_dhcp-agents"),
    Route("GET", "/v2.0/routers/{router_id}/l3-agents", router_l3_agents, "get_l3-agents"),
    Route("GET", "/v2.0/availability_zones", availability_zones, "get_availability_zone"),
    Route("GET", "/v2.0/network-ip-availabilities", ip_availabilities, "get_network_ip_availability"),
    Route("GET", "/v2.0/network-ip-availabilities/{id}", ip_availability, "get_network_ip_availability"),
    Route("GET", "/v2.0/service-providers", service_providers, "get_service_provider"),
]
