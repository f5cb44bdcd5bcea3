"""Floating IPs: an address on a ``router:external`` network (a ``network:floatingip``
port holds it) that a router NATs to one fixed IP of an internal port.

Associating needs a router with its gateway on the floating network and an interface on
the fixed IP's subnet (404 ExternalGatewayForFloatingIPNotFound otherwise, as Neutron
answers); that router becomes ``router_id`` and the status ACTIVE. One floating IP per
fixed IP and external network (409). Deleting an internal port disassociates its
floating IPs (``port_deleted_in``, called by the port logic in its transaction).
"""

from __future__ import annotations

from sqlalchemy import delete, select

from overcast.network import errors
from overcast.network.models import FloatingIP, IPAllocation, Port, PortForwarding, Router
from overcast.network.models.standard import new_uuid
from overcast.network.service.ipam import begin_write
from overcast.network.service.l3 import FLOATING, INTERFACE, OWNERS, addresses, elevated
from overcast.network.service.records import bump, own, standard, tags_of
from overcast.network.service.port_forwardings import PortForwardings  # noqa: F401  (re-exported)


def fip_dict(row: FloatingIP, tags: list[str]) -> dict:
    found = standard(row, tags)
    found.pop("name")
    return {**found, "floating_ip_address": row.floating_ip_address, "floating_network_id": row.floating_network_id,
            "router_id": row.router_id, "port_id": row.port_id, "fixed_ip_address": row.fixed_ip_address,
            "status": row.status}


class FloatingIPs:
    model = FloatingIP

    def __init__(self, service):
        self.service = service
        self.db = service.db
        self.quotas = service.quotas

    def dicts(self, session, rows: list[FloatingIP]) -> list[dict]:
        tags = tags_of(session, [row.id for row in rows])
        return [fip_dict(row, tags.get(row.id, [])) for row in rows]

    def find_row(self, session, ctx, fip_id: str, lock: bool = False) -> FloatingIP:
        if lock:
            begin_write(session)
        query = select(FloatingIP).where(FloatingIP.id == fip_id, own(FloatingIP, ctx))
        row = session.scalars(query.with_for_update() if lock else query).first()
        if row is None:
            raise errors.FloatingIPNotFound(id=fip_id)
        return row

    def get(self, ctx, fip_id: str) -> dict:
        with self.db.session() as session:
            return self.dicts(session, [self.find_row(session, ctx, fip_id)])[0]

    def list(self, ctx, filters: dict) -> list[dict]:
        query = select(FloatingIP).where(own(FloatingIP, ctx))
        for name in ("id", "port_id", "router_id", "floating_network_id", "floating_ip_address"):
            if name in filters:
                query = query.where(getattr(FloatingIP, name).in_(filters[name]))
        with self.db.session() as session:
            return self.dicts(session, list(session.scalars(query.order_by(FloatingIP.created_at))))

    def create(self, ctx, items: list[dict]) -> list[dict]:
        with self.db.session() as session:
            begin_write(session)
            rows = [self._allocate(session, ctx, dict(values)) for values in items]
            for project_id in {row.project_id for row in rows}:
                self.quotas.check(session, project_id, "floatingip")
            routers = {row.router_id for row in rows if row.router_id}
            result = self.dicts(session, rows)
        for router_id in routers:
            self.service.agents.router_changed(router_id)
        return result

    def _allocate(self, session, ctx, values: dict) -> FloatingIP:
        network = self.service.networks.find_row(session, ctx, values["floating_network_id"])
        if not network.external:
            raise errors.BadFloatingIPRequest(reason=f"Network {network.id} is not a valid external network")
        fixed = {}
        if values.get("subnet_id"):
            subnet = self.service.subnets.find_row(session, elevated(ctx), values["subnet_id"])
            if subnet.network_id != network.id:
                raise errors.BadFloatingIPRequest(reason=f"Subnet {subnet.id} is not on network {network.id}")
            fixed["subnet_id"] = subnet.id
        if values.get("floating_ip_address"):
            fixed["ip_address"] = values["floating_ip_address"]
        row = FloatingIP(id=new_uuid(), project_id=values["project_id"], description=values.get("description") or "",
                         floating_network_id=network.id, status="DOWN")
        port = {"network_id": network.id, "device_owner": FLOATING, "device_id": row.id, "project_id": "",
                "name": "", "admin_state_up": True}
        if fixed:
            port["fixed_ips"] = [fixed]
        created = self.service.ports.create_in(session, elevated(ctx), port)
        session.flush()
        ips = [ip for _, ip in addresses(session, [created.id]).get(created.id, []) if ":" not in ip]
        if not ips:
            raise errors.BadFloatingIPRequest(reason=f"Unable to find any IP address on external network "
                                                     f"{network.id}")
        row.floating_port_id, row.floating_ip_address = created.id, ips[0]
        session.add(row)
        session.flush()
        if values.get("port_id"):
            self._associate(session, ctx, row, values["port_id"], values.get("fixed_ip_address"))
        return row

    def update(self, ctx, fip_id: str, values: dict) -> dict:
        with self.db.session() as session:
            row = self.find_row(session, ctx, fip_id, lock=True)
            before = row.router_id
            if "description" in values:
                row.description = values["description"]
            if "port_id" in values or "fixed_ip_address" in values:
                port_id = values.get("port_id", row.port_id)
                if port_id:
                    self._associate(session, ctx, row, port_id, values.get("fixed_ip_address"))
                elif row.port_id:
                    disassociate(row)
            bump(row)
            session.flush()
            result = self.dicts(session, [row])[0]
        for router_id in {before, result["router_id"]} - {None}:
            self.service.agents.router_changed(router_id)
        return result

    def delete(self, ctx, fip_id: str) -> None:
        with self.db.session() as session:
            row = self.find_row(session, ctx, fip_id, lock=True)
            router_id = row.router_id
            session.execute(delete(PortForwarding).where(PortForwarding.floatingip_id == row.id))
            if row.floating_port_id and session.get(Port, row.floating_port_id) is not None:
                self.service.ports.delete_in(session, row.floating_port_id)
            session.delete(row)
        if router_id:
            self.service.agents.router_changed(router_id)

    # association
    def _associate(self, session, ctx, row: FloatingIP, port_id: str, fixed_ip: str | None) -> None:
        # the port's row locked: two floating IPs racing for one fixed IP go one at a time
        port = session.scalars(select(Port).where(Port.id == port_id).with_for_update()).first()
        if port is None or not (ctx.is_admin or port.project_id == ctx.project_id):
            raise errors.PortNotFound(id=port_id)
        if session.scalars(select(PortForwarding.id).where(PortForwarding.floatingip_id == row.id)).first():
            raise errors.FipInUseByPortForwarding(id=row.id)
        if not ctx.is_admin and port.project_id != row.project_id:
            raise errors.BadFloatingIPRequest(reason=f"Cannot create floating IP and bind it to Port {port_id}, "
                                                     "since that port is owned by a different tenant")
        if port.device_owner in OWNERS:
            raise errors.BadFloatingIPRequest(reason=f"Port {port_id} has owner {port.device_owner} and therefore "
                                                     "cannot be associated with a floating IP")
        pairs = [(subnet, ip) for subnet, ip in addresses(session, [port.id]).get(port.id, []) if ":" not in ip]
        if fixed_ip:
            pairs = [(subnet, ip) for subnet, ip in pairs if ip == fixed_ip]
            if not pairs:
                raise errors.BadFloatingIPRequest(reason=f"Port {port_id} does not have fixed ip {fixed_ip}")
        elif not pairs:
            raise errors.BadFloatingIPRequest(reason=f"Cannot add floating IP to port {port_id} that has no fixed "
                                                     "IPv4 addresses")
        elif len(pairs) > 1:
            raise errors.BadFloatingIPRequest(reason=f"Port {port_id} has multiple fixed IPv4 addresses.  Must "
                                                     "provide a specific IPv4 address when assigning a floating IP")
        subnet_id, ip = pairs[0]
        taken = session.scalars(select(FloatingIP).where(
            FloatingIP.port_id == port.id, FloatingIP.fixed_ip_address == ip,
            FloatingIP.floating_network_id == row.floating_network_id, FloatingIP.id != row.id)).first()
        if taken is not None:
            raise errors.FloatingIPPortAlreadyAssociated(
                floating_ip_address=row.floating_ip_address, fip_id=row.id, port_id=port.id, fixed_ip=ip,
                net_id=row.floating_network_id)
        router_id = router_for(session, row.floating_network_id, subnet_id)
        if router_id is None:
            raise errors.ExternalGatewayForFloatingIPNotFound(
                external_network_id=row.floating_network_id, subnet_id=subnet_id, port_id=port.id)
        row.port_id, row.fixed_ip_address, row.router_id, row.status = port.id, ip, router_id, "ACTIVE"

    def network_deleting_in(self, session, network_id: str) -> None:
        """Free the floating IPs of external network ``network_id`` (being deleted in
        ``session``): Neutron deletes a network with its floating IPs; a router gateway
        that serves them still keeps the network (NetworkInUse)."""
        for row in session.scalars(select(FloatingIP).where(FloatingIP.floating_network_id == network_id)):
            session.execute(delete(PortForwarding).where(PortForwarding.floatingip_id == row.id))
            if row.floating_port_id and session.get(Port, row.floating_port_id) is not None:
                self.service.ports.delete_in(session, row.floating_port_id)
            session.delete(row)
        session.flush()

    def port_deleted_in(self, session, port_id: str) -> list[str]:
        """Disassociate the floating IPs of ``port_id`` (being deleted in ``session``); the
        routers that served them, to tell the agents after the commit."""
        routers = []
        for row in session.scalars(select(FloatingIP).where(FloatingIP.port_id == port_id)):
            routers.append(row.router_id)
            disassociate(row)
            bump(row)
        forwarded = set(session.scalars(select(PortForwarding.floatingip_id)
                                        .where(PortForwarding.internal_port_id == port_id)))
        session.execute(delete(PortForwarding).where(PortForwarding.internal_port_id == port_id))
        session.flush()
        for fip_id in forwarded:
            row = session.get(FloatingIP, fip_id)
            left = session.scalars(select(PortForwarding.id).where(PortForwarding.floatingip_id == fip_id)).first()
            if row is not None and not left and not row.port_id:
                routers.append(row.router_id)
                disassociate(row)
                bump(row)
        return sorted({router_id for router_id in routers if router_id})


def disassociate(row: FloatingIP) -> None:
    row.port_id = row.fixed_ip_address = row.router_id = None
    row.status = "DOWN"


def router_for(session, network_id: str, subnet_id: str) -> str | None:
    """A router with its gateway on ``network_id`` and an interface on ``subnet_id``."""
    query = (select(Router.id).join(Port, Port.device_id == Router.id)
             .join(IPAllocation, IPAllocation.port_id == Port.id)
             .where(Router.gw_network_id == network_id, Port.device_owner == INTERFACE,
                    IPAllocation.subnet_id == subnet_id).order_by(Router.created_at))
    return session.scalars(query).first()


__all__ = ["FloatingIPs", "PortForwardings"]
