"""Port forwardings: one external port of a floating IP forwarded to a port and address
behind a router (``/v2.0/floatingips/{id}/port_forwardings``).

A floating IP either has one associated port or port forwardings, never both (409
either way). The internal address must be one of the internal port's and reachable as
for an association (a router with a gateway on the floating network and an interface
on its subnet); that router becomes the floating IP's ``router_id``.
"""

from __future__ import annotations

from sqlalchemy import select

from overcast.network import errors
from overcast.network.models import FloatingIP, Port, PortForwarding
from overcast.network.models.standard import new_uuid
from overcast.network.service.l3 import addresses
from overcast.network.service.records import bump


def pf_dict(row: PortForwarding) -> dict:
    return {"id": row.id, "external_port": row.external_port, "internal_port": row.internal_port,
            "internal_ip_address": row.internal_ip_address, "protocol": row.protocol,
            "internal_port_id": row.internal_port_id, "description": row.description or ""}


class PortForwardings:
    model = PortForwarding

    def __init__(self, service):
        self.service = service
        self.db = service.db

    def _fip(self, session, ctx, fip_id: str, lock: bool = False) -> FloatingIP:
        return self.service.floatingips.find_row(session, ctx, fip_id, lock=lock)

    def _row(self, session, fip: FloatingIP, pf_id: str) -> PortForwarding:
        row = session.get(PortForwarding, pf_id)
        if row is None or row.floatingip_id != fip.id:
            raise errors.PortForwardingNotFound(id=pf_id)
        return row

    def list(self, ctx, fip_id: str) -> list[dict]:
        with self.db.session() as session:
            fip = self._fip(session, ctx, fip_id)
            query = select(PortForwarding).where(PortForwarding.floatingip_id == fip.id)
            return [pf_dict(row) for row in session.scalars(query)]

    def get(self, ctx, fip_id: str, pf_id: str) -> dict:
        with self.db.session() as session:
            return pf_dict(self._row(session, self._fip(session, ctx, fip_id), pf_id))

    def of_floatingips(self, fip_ids: list[str]) -> dict[str, list[dict]]:
        """Floating IP id -> its port forwardings, for the network agents (no policy)."""
        found: dict[str, list[dict]] = {}
        if not fip_ids:
            return found
        with self.db.session() as session:
            query = select(PortForwarding).where(PortForwarding.floatingip_id.in_(fip_ids))
            for row in session.scalars(query.order_by(PortForwarding.id)):
                found.setdefault(row.floatingip_id, []).append(pf_dict(row))
        return found

    def create(self, ctx, fip_id: str, values: dict) -> dict:
        with self.db.session() as session:
            fip = self._fip(session, ctx, fip_id, lock=True)
            if fip.port_id:
                raise errors.FipAssociatedWithPort(id=fip.id, port_id=fip.port_id)
            row = PortForwarding(id=new_uuid(), floatingip_id=fip.id, description=values.get("description") or "")
            self._apply(session, ctx, fip, row, values)
            session.add(row)
            session.flush()
            result = pf_dict(row)
            router_id = fip.router_id
        self.service.agents.router_changed(router_id)
        return result

    def update(self, ctx, fip_id: str, pf_id: str, values: dict) -> dict:
        with self.db.session() as session:
            fip = self._fip(session, ctx, fip_id, lock=True)
            row = self._row(session, fip, pf_id)
            current = pf_dict(row)
            self._apply(session, ctx, fip, row, {**current, **values})
            if "description" in values:
                row.description = values["description"]
            session.flush()
            result = pf_dict(row)
            router_id = fip.router_id
        self.service.agents.router_changed(router_id)
        return result

    def delete(self, ctx, fip_id: str, pf_id: str) -> None:
        with self.db.session() as session:
            fip = self._fip(session, ctx, fip_id, lock=True)
            session.delete(self._row(session, fip, pf_id))
            session.flush()
            router_id = fip.router_id
            if not session.scalars(select(PortForwarding.id).where(PortForwarding.floatingip_id == fip.id)).first():
                fip.router_id, fip.status = None, "DOWN"
                bump(fip)
        if router_id:
            self.service.agents.router_changed(router_id)

    def _apply(self, session, ctx, fip: FloatingIP, row: PortForwarding, values: dict) -> None:
        from overcast.network.service.floating_ips import router_for

        port = session.get(Port, values["internal_port_id"])
        if port is None or not (ctx.is_admin or port.project_id == ctx.project_id):
            raise errors.PortNotFound(id=values["internal_port_id"])
        pairs = [(subnet, ip) for subnet, ip in addresses(session, [port.id]).get(port.id, [])
                 if ip == values["internal_ip_address"]]
        if not pairs:
            raise errors.PortForwardingConflict(reason=f"The internal IP {values['internal_ip_address']} is not an "
                                                       f"address of port {port.id}")
        router_id = router_for(session, fip.floating_network_id, pairs[0][0])
        if router_id is None:
            raise errors.ExternalGatewayForFloatingIPNotFound(
                external_network_id=fip.floating_network_id, subnet_id=pairs[0][0], port_id=port.id)
        if fip.router_id and fip.router_id != router_id:
            raise errors.PortForwardingConflict(reason=f"Floating IP {fip.id} already forwards through router "
                                                       f"{fip.router_id}")
        clash = session.scalars(select(PortForwarding).where(
            PortForwarding.floatingip_id == fip.id, PortForwarding.protocol == values["protocol"],
            PortForwarding.external_port == values["external_port"], PortForwarding.id != row.id)).first()
        if clash is not None:
            raise errors.PortForwardingExists(id=fip.id, protocol=values["protocol"], port=values["external_port"])
        row.internal_port_id, row.internal_ip_address = port.id, values["internal_ip_address"]
        row.internal_port, row.external_port, row.protocol = (values["internal_port"], values["external_port"],
                                                              values["protocol"])
        if fip.router_id != router_id:
            fip.router_id, fip.status = router_id, "ACTIVE"
            bump(fip)
