"""A fresh in-memory SQLite with every table, for the network service unit tests."""

from __future__ import annotations

import pytest

from overcast.common.db import Base, Database
from overcast.common.db.models import load_all


@pytest.fixture
def db():
    load_all()
    database = Database("sqlite://")
    Base.metadata.create_all(database.engine)
    yield database
    database.close()


@pytest.fixture
def network(db):
    from overcast.common.config import Config
    from overcast.network.service import NetworkService

    return NetworkService(Config(), db)


def context(project: str = "p1", admin: bool = False):
    from overcast.common.api.context import RequestContext

    return RequestContext(user_id="u", project_id=project, roles=["member", "reader"] + (["admin"] if admin else []))



@pytest.fixture
def l3(network):
    """The network service, with a helper making subnets (``l3.make_subnet``)."""
    def make_subnet(network_id: str, cidr: str, project: str, gateway: str | None = "auto") -> str:
        values = {"network_id": network_id, "cidr": cidr, "project_id": project, "enable_dhcp": False}
        if gateway != "auto":
            values["gateway_ip"] = gateway
        return network.subnets.create(context(project, admin=True), [values])[0]["id"]

    network.make_subnet = make_subnet
    return network
