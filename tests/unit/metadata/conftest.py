"""The metadata service over real compute and network services on an in-memory SQLite:
a network with a subnet, and instances (rows written directly) with a port each."""

from __future__ import annotations

import base64
import uuid

import pytest

from overcast.common.api.context import RequestContext
from overcast.common.config import Config
from overcast.common.db import Base, Database
from overcast.common.db.models import load_all

SECRET = "test-secret"
ADMIN = RequestContext(user_id="u", project_id="p1", roles=["admin", "member", "reader"])


@pytest.fixture
def db(tmp_path):
    load_all()
    database = Database(f"sqlite:///{tmp_path}/overcast.db")  # a file: HTTP handlers run in other threads
    Base.metadata.create_all(database.engine)
    yield database
    database.close()


class World:
    """The services, a network and a way to boot (write) instances on it."""

    def __init__(self, db):
        from overcast.compute.service import ComputeService
        from overcast.metadata.service import MetadataService
        from overcast.network.service import NetworkService

        config = Config()
        self.db = db
        self.network = NetworkService(config, db)
        self.compute = ComputeService(config, db, network=self.network)
        self.metadata = MetadataService(config, db, compute=self.compute, network=self.network, secret=SECRET)
        self.net = self.network.networks.create(ADMIN, [{"name": "net", "project_id": "p1"}])[0]
        self.subnet = self.network.subnets.create(ADMIN, [{"network_id": self.net["id"], "ip_version": 4,
                                                           "cidr": "10.0.0.0/24", "project_id": "p1"}])[0]

    def boot(self, name: str, user_data: bytes | None = None, key: str | None = None,
             owner: str = "compute:nova") -> tuple[str, str]:
        """An instance row and its port on the network: (uuid, fixed address)."""
        from overcast.compute.models import Instance

        uuid_ = str(uuid.uuid4())
        flavor = {"vcpus": 1, "memory_mb": 64, "root_gb": 1, "ephemeral_gb": 0, "swap": 0}
        with self.db.session() as session:
            session.add(Instance(uuid=uuid_, project_id="p1", user_id="u", display_name=name, hostname=f"{name}-host",
                                 flavor_id="42", availability_zone="zone-a",
                                 flavor=flavor, vcpus=1, memory_mb=64, root_gb=1, key_data=key,
                                 user_data=base64.b64encode(user_data).decode() if user_data else None,
                                 vm_state="active"))
        (port,) = self.network.ports.create(ADMIN, [{"network_id": self.net["id"], "device_owner": owner,
                                                     "device_id": uuid_, "project_id": "p1"}])
        return uuid_, port["fixed_ips"][0]["ip_address"]


@pytest.fixture
def world(db):
    return World(db)
