"""Subnets: an IPv4 or IPv6 range on a network, with its gateway, allocation pools, DNS
servers and host routes; the CIDR given or allocated from a subnet pool.

A subnet is visible to its project, to its network's owner and, on a shared network,
to everyone. Its ``_policy`` carries the network's ``shared`` flag and owner
(``network:project_id``), which the subnet rules check. Deleting a subnet that ports
other than DHCP ports still hold addresses on is refused (409 SubnetInUse); on SLAAC
subnets the automatic addresses of ports go with it, as in Neutron.
"""

from __future__ import annotations

import ipaddress

from sqlalchemy import delete, or_, select

from overcast.network import errors
from overcast.network.models import IPAllocation, Network, Port, Subnet
from overcast.network.service import subnet_checks as checks
from overcast.network.service.ipam import is_auto_address
from overcast.network.service.records import apply, bump, standard, tags_of

AUTO_DELETE_OWNERS = ("network:dhcp",)  # ports whose addresses go with the subnet
ROUTER_OWNERS = ("network:router_interface", "network:router_interface_distributed",
                 "network:ha_router_replicated_interface")


def subnet_dict(row: Subnet, network: Network, tags: list[str]) -> dict:
    return {**standard(row, tags), "network_id": row.network_id, "ip_version": row.ip_version, "cidr": row.cidr,
            "gateway_ip": row.gateway_ip, "enable_dhcp": row.enable_dhcp,
            "allocation_pools": list(row.allocation_pools or []), "dns_nameservers": list(row.dns_nameservers or []),
            "host_routes": list(row.host_routes or []), "ipv6_ra_mode": row.ipv6_ra_mode,
            "ipv6_address_mode": row.ipv6_address_mode, "subnetpool_id": row.subnetpool_id,
            "segment_id": row.segment_id,
            "_policy": {"shared": network.shared, "network:project_id": network.project_id,
                        "network:shared": network.shared, "router:external": network.external}}


def visible_subnets(ctx):
    """Subnets the caller sees: its own, those on its networks and on shared networks."""
    if ctx.is_admin:
        return True
    project = ctx.project_id or ""
    return or_(Subnet.project_id == project, Network.project_id == project, Network.shared.is_(True))


class Subnets:
    model = Subnet

    def __init__(self, service):
        self.service = service
        self.db = service.db
        self.quotas = service.quotas

    # reading
    def _dicts(self, session, pairs: list[tuple[Subnet, Network]]) -> list[dict]:
        tags = tags_of(session, [row.id for row, _ in pairs])
        return [subnet_dict(row, network, tags.get(row.id, [])) for row, network in pairs]

    def find_row(self, session, ctx, subnet_id: str) -> Subnet:
        """The subnet row if the caller may see it, else 404 SubnetNotFound."""
        row = session.execute(select(Subnet).join(Network, Network.id == Subnet.network_id)
                              .where(Subnet.id == subnet_id, visible_subnets(ctx))).scalars().first()
        if row is None:
            raise errors.SubnetNotFound(id=subnet_id)
        return row

    def get(self, ctx, subnet_id: str) -> dict:
        with self.db.session() as session:
            row = self.find_row(session, ctx, subnet_id)
            return self._dicts(session, [(row, session.get(Network, row.network_id))])[0]

    def list(self, ctx, filters: dict) -> list[dict]:
        query = select(Subnet, Network).join(Network, Network.id == Subnet.network_id).where(visible_subnets(ctx))
        for name in ("id", "name", "network_id", "cidr", "subnetpool_id"):
            if name in filters:
                query = query.where(getattr(Subnet, name).in_(filters[name]))
        with self.db.session() as session:
            return self._dicts(session, [tuple(pair) for pair in session.execute(query.order_by(Subnet.created_at))])

    def policy_extra(self, ctx, values: dict) -> dict:
        """Policy-target fields of a subnet about to be created (its network's owner)."""
        with self.db.session() as session:
            network = self.service.networks.find_row(session, ctx, values.get("network_id") or "")
            return {"network:project_id": network.project_id, "shared": network.shared}

    # writing
    def create(self, ctx, items: list[dict]) -> list[dict]:
        with self.db.session() as session:
            pairs = []
            for values in items:
                network = self.service.networks.find_row(session, ctx, values.get("network_id") or "")
                row = self._new_row(session, ctx, network, dict(values))
                session.add(row)
                session.flush()
                pairs.append((row, network))
            for project_id in {row.project_id for row, _ in pairs}:
                self.quotas.check(session, project_id, "subnet")
            result = self._dicts(session, pairs)
        network_ids = {row.network_id for row, _ in pairs}
        self.service.agent_scheduler.schedule_networks(network_ids)  # DHCP agents before they hear of it
        for network_id in network_ids:
            self.service.agents.network_changed(network_id)
        return result

    def _new_row(self, session, ctx, network: Network, values: dict) -> Subnet:
        values = self._cidr(session, ctx, values)
        cidr = ipaddress.ip_network(values["cidr"])
        version = values.get("ip_version") or cidr.version
        if cidr.version != version:
            raise errors.InvalidInput(reason="Cidr and IP version mismatch" if "cidr" in values else
                                      "IP version mismatch")
        self._check_overlap(session, network.id, cidr)
        gateway = values["gateway_ip"] if "gateway_ip" in values else checks.default_gateway(cidr)
        checks.check_gateway(cidr, gateway)
        pools = values.get("allocation_pools")  # None: the default pools; []: none at all
        pools = checks.check_pools(cidr, pools, gateway) if pools is not None else checks.default_pools(cidr, gateway)
        enable_dhcp = values.get("enable_dhcp", True)
        checks.check_ipv6_modes(version, values.get("ipv6_ra_mode"), values.get("ipv6_address_mode"),
                                enable_dhcp, cidr)
        row = Subnet(network_id=network.id, project_id=values.get("project_id") or ctx.project_id or "",
                     name=values.get("name") or "", description=values.get("description") or "", ip_version=version,
                     cidr=str(cidr), gateway_ip=gateway, enable_dhcp=enable_dhcp, allocation_pools=pools,
                     ipv6_ra_mode=values.get("ipv6_ra_mode"), ipv6_address_mode=values.get("ipv6_address_mode"),
                     subnetpool_id=values.get("subnetpool_id"), segment_id=values.get("segment_id"),
                     next_ip_key="")
        row.dns_nameservers = checks.check_nameservers("", values.get("dns_nameservers") or [], version)
        row.host_routes = checks.check_routes("", values.get("host_routes") or [], version)
        return row

    def _cidr(self, session, ctx, values: dict) -> dict:
        """``values`` with its cidr: given, or allocated from its subnet pool."""
        pools = self.service.subnetpools
        if values.get("use_default_subnetpool") and not values.get("subnetpool_id"):
            values["subnetpool_id"] = pools.default_pool_id(session, values.get("ip_version") or 4)
        if values.get("subnetpool_id"):
            pool = pools.find_row(session, ctx, values["subnetpool_id"])
            values["cidr"] = pools.allocate(session, pool, values.get("cidr"), values.get("prefixlen"))
            values.setdefault("ip_version", pool.ip_version)
        elif not values.get("cidr"):
            raise errors.InvalidInput(reason="A cidr must be specified in the absence of a subnet pool")
        return values

    @staticmethod
    def _check_overlap(session, network_id: str, cidr, exclude: str | None = None) -> None:
        for other_id, other in session.execute(select(Subnet.id, Subnet.cidr).where(Subnet.network_id == network_id)):
            other = ipaddress.ip_network(other)
            if other_id != exclude and other.version == cidr.version and other.overlaps(cidr):
                raise errors.InvalidInput(reason=f"Requested subnet with cidr: {cidr} for network: {network_id} "
                                                 "overlaps with another subnet")

    def update(self, ctx, subnet_id: str, values: dict) -> dict:
        with self.db.session() as session:
            row = self.find_row(session, ctx, subnet_id)
            cidr = ipaddress.ip_network(row.cidr)
            values = dict(values)
            gateway = values.get("gateway_ip", row.gateway_ip)
            if "gateway_ip" in values:
                checks.check_gateway(cidr, gateway)
            if "allocation_pools" in values:
                values["allocation_pools"] = checks.check_pools(cidr, values["allocation_pools"] or [], gateway) \
                    if values["allocation_pools"] is not None else checks.default_pools(cidr, gateway)
                values["next_ip_key"] = ""
            elif "gateway_ip" in values:
                checks.check_gateway_outside(row.allocation_pools or [], gateway)
            if "dns_nameservers" in values:
                values["dns_nameservers"] = checks.check_nameservers(subnet_id, values["dns_nameservers"] or [],
                                                                     row.ip_version)
            if "host_routes" in values:
                values["host_routes"] = checks.check_routes(subnet_id, values["host_routes"] or [], row.ip_version)
            if values.get("enable_dhcp") is False and (row.ipv6_address_mode or row.ipv6_ra_mode):
                raise errors.InvalidInput(reason="Cannot disable enable_dhcp with ipv6 attributes set")
            apply(row, values)
            bump(row)
            session.flush()
            result = self._dicts(session, [(row, session.get(Network, row.network_id))])[0]
        if result.get("enable_dhcp"):
            self.service.agent_scheduler.schedule_networks([result["network_id"]])
        self.service.agents.network_changed(result["network_id"])
        return result

    def delete(self, ctx, subnet_id: str) -> None:
        with self.db.session() as session:
            row = self.find_row(session, ctx, subnet_id)
            holders = session.execute(select(Port.id, Port.device_owner).join(
                IPAllocation, IPAllocation.port_id == Port.id).where(IPAllocation.subnet_id == subnet_id)).all()
            auto = is_auto_address(row)
            for _, owner in holders:
                if owner in AUTO_DELETE_OWNERS or (auto and owner not in ROUTER_OWNERS):
                    continue
                raise errors.SubnetInUse(id=subnet_id)
            changed = sorted({port_id for port_id, _ in holders})
            session.execute(delete(IPAllocation).where(IPAllocation.subnet_id == subnet_id))
            for port in session.scalars(select(Port).where(Port.id.in_(changed))) if changed else []:
                bump(port)
            session.delete(row)
            network_id = row.network_id
        for port_id in changed:
            self.service.agents.port_changed({"id": port_id})
        self.service.agents.network_changed(network_id)
