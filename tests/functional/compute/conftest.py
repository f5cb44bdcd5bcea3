"""Compute test fixtures: a raw compute client (``api``) and a spare compute host (``spare``).

The spare host is written into the cloud's database as an agent's registration writes it
(nova-compute service, node, heartbeat), with a node too small for any flavor, so the
scheduler never sends a real build there; tests may disable it, force it down, zone it or
delete it without disturbing the all-in-one's own compute host.
"""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import httpx
import pytest

from conftest import random_name
from overcast.common import heartbeats
from overcast.common.db import Database
from overcast.compute.models import ComputeNode, ComputeServiceRow


def client(cloud, conn, version: str | None = None) -> httpx.Client:
    """A client for /compute/v2.1 with ``conn``'s token and an optional microversion."""
    headers = {"X-Auth-Token": conn.auth_token}
    if version:
        headers["OpenStack-API-Version"] = f"compute {version}"
    return httpx.Client(base_url=f"{cloud.url}/compute/v2.1", headers=headers)


@pytest.fixture
def api(cloud):
    """``api(conn, version=None)``: a compute client for ``conn`` (use it in a with block)."""
    return lambda conn, version=None: client(cloud, conn, version)


@pytest.fixture
def spare(cloud, admin):
    db = Database(f"sqlite:///{cloud.data_dir / 'overcast.db'}")
    name = random_name("spare")
    with db.session() as session:
        session.add(ComputeServiceRow(uuid=str(uuid.uuid4()), host=name, binary="nova-compute", topic="compute"))
        session.add(ComputeNode(uuid=str(uuid.uuid4()), host=name, hypervisor_hostname=f"{name}.node",
                                hypervisor_type="fake", vcpus=1, memory_mb=32, local_gb=1, reserved_host_memory_mb=0,
                                cpu_info={"arch": "x86_64"}))
    heartbeats.record(db, "nova-compute", name, "compute")
    yield SimpleNamespace(name=name, db=db)
    with client(cloud, admin, "2.53") as compute:
        for service in compute.get("/os-services", params={"host": name}).json()["services"]:
            compute.delete(f"/os-services/{service['id']}")
    db.close()
