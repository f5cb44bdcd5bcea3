"""Neutron's auto-allocated topology ("get me a network"): on first ask, a project gets
a network, a subnet from the default IPv4 subnet pool and a router whose gateway is on
the default external network. Nova asks for it when a server is created with
``networks: auto`` (the openstack CLI's default) in a project that has no network.

The topology is found again by its network's name and owner. A lock keeps two boots
racing in one process from making two of them.
"""

from __future__ import annotations

import threading

from sqlalchemy import select

from overcast.common.api.context import RequestContext
from overcast.network import errors
from overcast.network.models import Network, Router, SubnetPool

NAME = "auto_allocated_network"
ROUTER = "auto_allocated_router"
SUBNET = "auto_allocated_subnet_v4"


class AutoAllocate:
    def __init__(self, service):
        self.service = service
        self.db = service.db
        self._lock = threading.Lock()

    def _existing(self, project_id: str) -> str | None:
        with self.db.session() as session:
            return session.scalar(select(Network.id).where(Network.project_id == project_id, Network.name == NAME))

    def requirements(self) -> tuple[str, str]:
        """(default external network, default IPv4 subnet pool); 409 as Neutron says when missing."""
        with self.db.session() as session:
            external = session.scalar(select(Network.id).where(Network.external.is_(True),
                                                               Network.is_default.is_(True)))
            pool = session.scalar(select(SubnetPool.id).where(SubnetPool.is_default.is_(True),
                                                              SubnetPool.ip_version == 4))
        if external is None:
            raise errors.AutoAllocationFailure(reason="No default router:external network")
        if pool is None:
            raise errors.AutoAllocationFailure(reason="No default subnetpools defined")
        return external, pool

    def get(self, ctx, project_id: str, dry_run: bool = False) -> dict:
        """The project's topology, made if it has none; ``dry_run`` only checks it could be."""
        found = self._existing(project_id)
        if found is None:
            self.requirements()
            if dry_run:
                return {"id": "dry-run=pass", "tenant_id": project_id, "project_id": project_id}
            with self._lock:
                found = self._existing(project_id) or self._make(project_id)
        return {"id": found, "tenant_id": project_id, "project_id": project_id}

    def _make(self, project_id: str) -> str:
        external, pool = self.requirements()
        admin = RequestContext(user_id="neutron", project_id=project_id, roles=["admin"])
        service = self.service
        (network,) = service.networks.create(admin, [{"name": NAME, "project_id": project_id,
                                                       "description": "Auto-allocated network"}])
        try:
            (subnet,) = service.subnets.create(admin, [{"name": SUBNET, "network_id": network["id"], "ip_version": 4,
                                                        "subnetpool_id": pool, "project_id": project_id}])
            (router,) = service.routers.create(admin, [{"name": ROUTER, "project_id": project_id,
                                                        "external_gateway_info": {"network_id": external}}])
            service.routers.add_interface(admin, router["id"], {"subnet_id": subnet["id"]})
        except Exception:
            self._remove(admin, network["id"])
            raise
        return network["id"]

    def delete(self, ctx, project_id: str) -> None:
        found = self._existing(project_id)
        if found is None:
            raise errors.NotFound()
        self._remove(RequestContext(user_id="neutron", project_id=project_id, roles=["admin"]), found)

    def _remove(self, admin, network_id: str) -> None:
        service = self.service
        with self.db.session() as session:
            routers = list(session.scalars(select(Router.id).where(Router.name == ROUTER,
                                                                   Router.project_id == admin.project_id)))
        for router_id in routers:
            for subnet_id in service.networks.get(admin, network_id)["subnets"]:
                try:
                    service.routers.remove_interface(admin, router_id, {"subnet_id": subnet_id})
                except errors.NotFound:
                    pass
            service.routers.delete(admin, router_id)
        service.networks.delete(admin, network_id)
