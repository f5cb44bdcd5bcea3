"""A network service on a fresh SQLite file (WAL, as the cloud runs it), and contexts."""

from __future__ import annotations

import pytest

from overcast.common.api.context import RequestContext
from overcast.common.config import Config
from overcast.common.db import Database
from overcast.common.db.migrate import upgrade
from overcast.network.service import NetworkService


def context(project: str, admin: bool = False) -> RequestContext:
    return RequestContext(user_id=f"user-{project}", project_id=project,
                          roles=["admin", "member", "reader"] if admin else ["member", "reader"])


@pytest.fixture
def service(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'network.db'}")
    upgrade(db)
    yield NetworkService(Config(), db)
    db.close()


@pytest.fixture
def admin_ctx():
    return context("admin-project", admin=True)


@pytest.fixture
def ctx():
    return context("project-a")


@pytest.fixture
def other_ctx():
    return context("project-b")


@pytest.fixture
def network(service, ctx):
    return service.networks.create(ctx, [{"name": "net", "project_id": ctx.project_id}])[0]
