"""Networks: create (one or a bulk list, all or nothing), show, list, update, delete.

Tenant networks get a VXLAN segment (the next free id); ``flat`` and ``local`` ones
need none. A network with ports other than its own DHCP ports cannot be deleted.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select

from overcast.network import errors
from overcast.network.models import IPAllocation, Network, Port, Subnet
from overcast.network.service.records import apply, bump, standard, tags_of, visible_networks

TYPES = ("vxlan", "flat", "local")
COLUMNS = {"router:external": "external", "provider:network_type": "network_type",
           "provider:physical_network": "physical_network", "provider:segmentation_id": "segmentation_id"}
VXLAN_MTU = 1450  # 1500 less the VXLAN header, as Neutron computes it


def network_dict(row: Network, subnets: list[str], tags: list[str]) -> dict:
    return {**standard(row, tags), "admin_state_up": row.admin_state_up, "status": row.status,
            "subnets": subnets, "shared": row.shared, "router:external": row.external, "is_default": row.is_default,
            "mtu": row.mtu, "port_security_enabled": row.port_security_enabled, "dns_domain": row.dns_domain,
            "availability_zone_hints": row.availability_zone_hints or [], "availability_zones": ["nova"],
            "ipv4_address_scope": None, "ipv6_address_scope": None, "l2_adjacency": True,
            "provider:network_type": row.network_type, "provider:physical_network": row.physical_network,
            "provider:segmentation_id": row.segmentation_id}


class Networks:
    model = Network

    def __init__(self, service):
        self.service = service
        self.db = service.db
        self.quotas = service.quotas

    def _dicts(self, session, rows: list[Network]) -> list[dict]:
        ids = [row.id for row in rows]
        subnets: dict[str, list[str]] = {}
        if ids:
            query = select(Subnet.network_id, Subnet.id).where(Subnet.network_id.in_(ids)).order_by(Subnet.created_at)
            for network_id, subnet_id in session.execute(query):
                subnets.setdefault(network_id, []).append(subnet_id)
        tags = tags_of(session, ids)
        return [network_dict(row, subnets.get(row.id, []), tags.get(row.id, [])) for row in rows]

    def find_row(self, session, ctx, network_id: str) -> Network:
        row = session.scalars(select(Network).where(Network.id == network_id, visible_networks(ctx))).first()
        if row is None:
            raise errors.NetworkNotFound(id=network_id)
        return row

    def get(self, ctx, network_id: str) -> dict:
        with self.db.session() as session:
            return self._dicts(session, [self.find_row(session, ctx, network_id)])[0]

    def list(self, ctx, filters: dict) -> list[dict]:
        query = select(Network).where(visible_networks(ctx))
        if "id" in filters:
            query = query.where(Network.id.in_(filters["id"]))
        if "name" in filters:
            query = query.where(Network.name.in_(filters["name"]))
        with self.db.session() as session:
            return self._dicts(session, list(session.scalars(query)))

    def create(self, ctx, items: list[dict]) -> list[dict]:
        with self.db.session() as session:
            rows = []
            for values in items:
                row = Network()
                apply(row, self._provider(session, dict(values)), COLUMNS)
                session.add(row)
                rows.append(row)
            session.flush()
            for project_id in {row.project_id for row in rows}:
                self.quotas.check(session, project_id, "network")
            return self._dicts(session, rows)

    def _provider(self, session, values: dict) -> dict:
        kind = values.get("provider:network_type") or "vxlan"
        physical = values.get("provider:physical_network")
        segment = values.get("provider:segmentation_id")
        if kind not in TYPES:
            raise errors.InvalidInput(reason=f"network_type value '{kind}' not supported")
        if kind == "flat":
            if segment is not None:
                raise errors.InvalidInput(reason="segmentation_id cannot be specified for flat network type")
            physical = physical or "public"
        elif kind == "local":
            if physical or segment is not None:
                raise errors.InvalidInput(reason="physical_network and segmentation_id cannot be specified for "
                                                 "local network type")
        else:
            if physical:
                raise errors.InvalidInput(reason="provider:physical_network specified for VXLAN network")
            segment = segment if segment is not None else self._next_segment(session)
            values.setdefault("mtu", VXLAN_MTU)
        values.update({"provider:network_type": kind, "provider:physical_network": physical,
                       "provider:segmentation_id": segment})
        if values.get("mtu") is None:
            values["mtu"] = 1500
        return values

    @staticmethod
    def _next_segment(session) -> int:
        top = session.scalar(select(func.max(Network.segmentation_id)).where(Network.network_type == "vxlan"))
        return (top or 0) + 1

    def update(self, ctx, network_id: str, values: dict) -> dict:
        with self.db.session() as session:
            row = self.find_row(session, ctx, network_id)
            if "provider:network_type" in values or "provider:physical_network" in values:
                raise errors.InvalidInput(reason="Plugin does not support updating provider attributes")
            if values.get("shared") is False and row.shared:
                self._check_unshare(session, row)
            apply(row, values, COLUMNS)
            bump(row)
            session.flush()
            result = self._dicts(session, [row])[0]
        self.service.agents.network_changed(network_id)
        return result

    @staticmethod
    def _check_unshare(session, row: Network) -> None:
        others = session.scalar(select(func.count()).select_from(Port).where(
            Port.network_id == row.id, Port.project_id != row.project_id, Port.device_owner != "network:dhcp"))
        if others:
            raise errors.InvalidInput(reason=f"Unable to reconfigure sharing settings for network {row.id}. "
                                             "Multiple tenants are using it.")

    def delete(self, ctx, network_id: str) -> None:
        with self.db.session() as session:
            row = self.find_row(session, ctx, network_id)
            self.service.floatingips.network_deleting_in(session, network_id)
            in_use = session.scalar(select(func.count()).select_from(Port).where(
                Port.network_id == network_id, Port.device_owner != "network:dhcp"))
            if in_use:
                raise errors.NetworkInUse(id=network_id)
            session.execute(delete(IPAllocation).where(IPAllocation.network_id == network_id))
            for port in session.scalars(select(Port).where(Port.network_id == network_id)):
                session.delete(port)
            for subnet in session.scalars(select(Subnet).where(Subnet.network_id == network_id)):
                session.delete(subnet)
            session.flush()  # subnets first: the network's own DELETE would cascade to them
            session.delete(row)
        self.service.agents.network_deleted(network_id)
