"""A server deleted while the conductor makes its ports leaves no port behind, whichever
side finishes first (Tempest's delete-while-building, whose network must then delete)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from overcast.common.api.context import RequestContext
from overcast.common.config import Config
from overcast.common.db import Base, Database
from overcast.common.db.models import load_all
from overcast.compute.conductor import Conductor
from overcast.compute.models import Instance
from overcast.compute.scheduler import HostState
from overcast.compute.service import ComputeService
from overcast.network.service import NetworkService

ADMIN = RequestContext(user_id="u", project_id="p1", roles=["admin", "member", "reader"])


class Bus:
    def __init__(self):
        self.casts = []

    async def cast(self, topic: str, method: str, payload: dict) -> None:
        self.casts.append((topic, method))

    async def notify(self, *args, **kwargs) -> None:
        pass


@pytest.fixture
def db(tmp_path):  # a file: the conductor works in threads, each with its own connection
    load_all()
    database = Database(f"sqlite:///{tmp_path}/db.sqlite")
    Base.metadata.create_all(database.engine)
    yield database
    database.close()


@pytest.fixture
def compute(db):
    network = NetworkService(Config(), db)
    compute = ComputeService(Config(), db, network=network)
    net = network.networks.create(ADMIN, [{"name": "n", "project_id": "p1"}])[0]
    network.subnets.create(ADMIN, [{"network_id": net["id"], "cidr": "10.9.0.0/24", "project_id": "p1",
                                    "enable_dhcp": False}])
    compute.net_id = net["id"]
    return compute


def building_server(compute) -> str:
    ident = str(uuid.uuid4())
    with compute.db.session() as session:
        session.add(Instance(uuid=ident, project_id="p1", user_id="u", display_name="vm", flavor_id="1",
                             flavor={}, vcpus=1, memory_mb=64, root_gb=1, vm_state="building",
                             task_state="scheduling",
                             system_metadata={"network_plan": {"nics": [{"network_id": compute.net_id}]}}))
    return ident


def ports_of(compute, ident: str) -> list:
    return compute.network_api.network.ports.list_by_device(ident)


def test_ports_made_between_the_two_looks_of_a_delete_are_freed(compute):
    ident = building_server(compute)
    api = compute.network_api
    first = api.deallocate
    calls = []

    def deallocate(row):
        first(row)
        if not calls:  # the conductor makes the ports right after the delete's first look
            api.allocate(row, "h1")
            assert len(ports_of(compute, ident)) == 1
        calls.append(row.uuid)

    api.deallocate = deallocate
    assert compute.servers.mark_deleted(ident) is not None
    assert len(calls) == 2
    assert ports_of(compute, ident) == []


def test_the_conductor_frees_ports_it_made_for_a_server_deleted_meanwhile(compute, monkeypatch):
    ident = building_server(compute)
    host = HostState(node_id=1, host="h1", node="h1", zone="nova", enabled=True, up=True, free_vcpus=8,
                     free_ram_mb=8192, free_disk_gb=100)
    monkeypatch.setattr(compute.scheduler, "schedule", lambda spec: host)
    bus = Bus()
    conductor = Conductor(compute, bus)
    allocate = compute.network_api.allocate

    def allocate_then_deleted(row, on):
        vifs = allocate(row, on)
        compute.servers.mark_deleted(ident)  # the whole delete ran while the ports were made...
        compute.network_api.allocate = allocate
        allocate(row, on)  # ...and one more port landed after it
        return vifs

    compute.network_api.allocate = allocate_then_deleted
    asyncio.run(conductor._place(ident, "req", "build_instance", "scheduling", None))
    assert ports_of(compute, ident) == []
    assert bus.casts == []  # nothing to build
