"""Network IP availability: per network and per subnet, how many addresses the
allocation pools hold (``total_ips``) and how many ports use (``used_ips``)."""

from __future__ import annotations

import ipaddress

from sqlalchemy import func, select

from overcast.network import errors
from overcast.network.models import IPAllocation, Network, Subnet


def pool_size(subnet: Subnet) -> int:
    total = 0
    for pool in subnet.allocation_pools or []:
        total += int(ipaddress.ip_address(pool["end"])) - int(ipaddress.ip_address(pool["start"])) + 1
    return total


class IpAvailability:
    def __init__(self, service):
        self.db = service.db

    def _dicts(self, session, networks: list[Network], ip_version: list[str] | None = None) -> list[dict]:
        ids = [network.id for network in networks]
        subnets: dict[str, list[Subnet]] = {}
        used: dict[str, int] = {}
        if ids:
            for subnet in session.scalars(select(Subnet).where(Subnet.network_id.in_(ids)).order_by(Subnet.created_at)):
                if ip_version and str(subnet.ip_version) not in ip_version:
                    continue
                subnets.setdefault(subnet.network_id, []).append(subnet)
            query = (select(IPAllocation.subnet_id, func.count()).where(IPAllocation.network_id.in_(ids))
                     .group_by(IPAllocation.subnet_id))
            used = dict(session.execute(query).all())
        found = []
        for network in networks:
            per_subnet = [{"subnet_id": s.id, "subnet_name": s.name, "cidr": s.cidr, "ip_version": s.ip_version,
                           "total_ips": pool_size(s), "used_ips": used.get(s.id, 0)}
                          for s in subnets.get(network.id, [])]
            found.append({"network_id": network.id, "network_name": network.name, "project_id": network.project_id,
                          "tenant_id": network.project_id, "subnet_ip_availability": per_subnet,
                          "total_ips": sum(s["total_ips"] for s in per_subnet),
                          "used_ips": sum(s["used_ips"] for s in per_subnet)})
        return found

    def list(self, filters: dict) -> list[dict]:
        query = select(Network).order_by(Network.created_at)
        for name, column in (("network_id", Network.id), ("network_name", Network.name),
                             ("project_id", Network.project_id), ("tenant_id", Network.project_id)):
            if name in filters:
                query = query.where(column.in_(filters[name]))
        with self.db.session() as session:
            return self._dicts(session, list(session.scalars(query)), filters.get("ip_version"))

    def get(self, network_id: str) -> dict:
        with self.db.session() as session:
            network = session.get(Network, network_id)
            if network is None:
                raise errors.NetworkNotFound(id=network_id)
            return self._dicts(session, [network])[0]
