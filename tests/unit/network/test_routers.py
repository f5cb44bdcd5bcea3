"""Router logic without ports: CRUD, visibility, the checks that come before any port."""

from __future__ import annotations

import pytest

from overcast.network import errors
from tests.unit.network.conftest import context

ALICE, BOB, ADMIN = context("alice"), context("bob"), context("admin", admin=True)


def make(network, ctx=ALICE, **values):
    body = {"name": "r", "description": "", "admin_state_up": True, "availability_zone_hints": [],
            "external_gateway_info": None, "project_id": ctx.project_id, **values}
    return network.routers.create(ctx, [body])[0]


def test_create_show_list_update_delete(network):
    router = make(network, name="r1")
    assert router["external_gateway_info"] is None and router["routes"] == []
    assert router["status"] == "ACTIVE" and router["distributed"] is False and router["ha"] is False
    assert network.routers.get(ALICE, router["id"])["name"] == "r1"
    assert [r["id"] for r in network.routers.list(ALICE, {})] == [router["id"]]
    updated = network.routers.update(ALICE, router["id"], {"name": "r2", "admin_state_up": False})
    assert updated["name"] == "r2" and updated["admin_state_up"] is False
    assert updated["revision_number"] == router["revision_number"] + 1
    network.routers.delete(ALICE, router["id"])
    with pytest.raises(errors.RouterNotFound):
        network.routers.get(ALICE, router["id"])
    assert ("router_delete", {"router_id": router["id"]}) in network.agents.sent


def test_other_projects_routers_are_not_found(network):
    router = make(network)
    with pytest.raises(errors.RouterNotFound):
        network.routers.get(BOB, router["id"])
    with pytest.raises(errors.RouterNotFound):
        network.routers.delete(BOB, router["id"])
    assert network.routers.list(BOB, {}) == []
    assert network.routers.get(ADMIN, router["id"])["id"] == router["id"]


def test_ha_and_distributed_routers_are_refused(network):
    with pytest.raises(errors.BadRouterRequest):
        make(network, distributed=True)
    with pytest.raises(errors.BadRouterRequest):
        make(network, ha=True)


def test_route_nexthop_must_be_connected(network):
    router = make(network)
    with pytest.raises(errors.InvalidRoutes, match="not connected"):
        network.routers.update(ALICE, router["id"], {"routes": [{"destination": "10.0.0.0/24",
                                                                "nexthop": "192.168.1.5"}]})


def test_gateway_needs_an_external_network(network):
    net = network.networks.create(ALICE, [{"name": "n", "project_id": "alice", "admin_state_up": True}])[0]
    with pytest.raises(errors.BadRouterRequest, match="not an external network"):
        make(network, external_gateway_info={"network_id": net["id"]})
    with pytest.raises(errors.NetworkNotFound):
        make(network, external_gateway_info={"network_id": "00000000-0000-0000-0000-000000000000"})


def test_router_quota(network):
    network.quotas.update("alice", {"router": 1})
    make(network)
    with pytest.raises(errors.OverQuota):
        make(network)


def test_floating_ip_needs_an_external_network(network):
    net = network.networks.create(ALICE, [{"name": "n", "project_id": "alice", "admin_state_up": True}])[0]
    with pytest.raises(errors.BadFloatingIPRequest, match="not a valid external network"):
        network.floatingips.create(ALICE, [{"floating_network_id": net["id"], "project_id": "alice"}])
