"""Routers and floating IPs on every database backend: floating IPs racing to one fixed
IP leave exactly one associated, and overlapping subnets racing onto one router leave
exactly one attached."""

from __future__ import annotations

import pytest

from overcast.common.api.context import RequestContext
from overcast.common.config import Config
from overcast.common.db import Database
from overcast.common.db.migrate import upgrade
from overcast.network import errors
from overcast.network.service import NetworkService
from tests.contract.test_ipam_race import _race

CTX = RequestContext(user_id="u", project_id="p", roles=["member", "reader"])
ADMIN = RequestContext(user_id="a", project_id="admin", roles=["admin", "member", "reader"])


@pytest.fixture
def world(database_url):
    db = Database(database_url)
    upgrade(db)
    service = NetworkService(Config(), db)
    public = service.networks.create(ADMIN, [{"name": "public", "project_id": "admin", "router:external": True}])[0]
    service.subnets.create(ADMIN, [{"network_id": public["id"], "cidr": "172.30.0.0/24", "project_id": "admin",
                                    "enable_dhcp": False}])
    net = service.networks.create(CTX, [{"name": "n", "project_id": "p"}])[0]
    subnet = service.subnets.create(CTX, [{"network_id": net["id"], "cidr": "10.50.0.0/24", "project_id": "p"}])[0]
    router = service.routers.create(CTX, [{"name": "r", "project_id": "p",
                                           "external_gateway_info": {"network_id": public["id"]}}])[0]
    yield service, public, net, subnet, router
    db.close()


def test_floating_ips_racing_for_one_fixed_ip(world):
    service, public, net, subnet, router = world
    service.routers.add_interface(CTX, router["id"], {"subnet_id": subnet["id"]})
    port = service.ports.create(CTX, [{"network_id": net["id"], "security_groups": []}])[0]
    fips = service.floatingips.create(CTX, [{"floating_network_id": public["id"], "project_id": "p"}
                                            for _ in range(6)])
    ids = iter([fip["id"] for fip in fips])
    results, failures = _race(6, lambda: service.floatingips.update(CTX, next(ids), {"port_id": port["id"]}))
    assert len(results) == 1 and len(failures) == 5
    assert all(isinstance(error, errors.FloatingIPPortAlreadyAssociated) for error in failures)
    assert len(service.floatingips.list(CTX, {"port_id": [port["id"]]})) == 1


def test_overlapping_subnets_racing_onto_one_router(world):
    service, public, net, subnet, router = world
    others = []
    for n in range(5):
        other = service.networks.create(CTX, [{"name": f"o{n}", "project_id": "p"}])[0]
        others.append(service.subnets.create(CTX, [{"network_id": other["id"], "cidr": f"10.60.0.0/{24 + n}",
                                                    "project_id": "p"}])[0])  # each overlaps every other
    ids = iter([one["id"] for one in others])
    results, failures = _race(5, lambda: service.routers.add_interface(CTX, router["id"], {"subnet_id": next(ids)}))
    assert len(results) == 1 and len(failures) == 4
    assert all(isinstance(error, errors.BadRouterRequest) for error in failures)
