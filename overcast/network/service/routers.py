"""Routers: create (one or a bulk list), show, list, update, delete; the external gateway
(a ``network:router_gateway`` port on a ``router:external`` network) and static routes.

Interfaces and the routes' checks against them are in ``router_interfaces``. A router
with interfaces cannot be deleted (RouterInUse); its gateway goes with it, unless
floating IPs still reach their ports through it.
"""

from __future__ import annotations

import ipaddress

from sqlalchemy import delete, func, select

from overcast.network import errors
from overcast.network.models import FloatingIP, Port, Router, RouterRoute
from overcast.network.service import router_interfaces
from overcast.network.service.ipam import begin_write
from overcast.network.service.l3 import GATEWAY, addresses, elevated, interface_ports
from overcast.network.service.records import apply, bump, own, standard, tags_of

COLUMNS = {"availability_zone_hints": "availability_zone_hints"}


def router_dict(row: Router, gateway_ips: list[tuple[str, str]], routes: list[dict], tags: list[str]) -> dict:
    gateway = None
    if row.gw_network_id:
        gateway = {"network_id": row.gw_network_id, "enable_snat": row.enable_snat,
                   "external_fixed_ips": [{"subnet_id": subnet, "ip_address": ip} for subnet, ip in gateway_ips]}
    return {**standard(row, tags), "admin_state_up": row.admin_state_up, "status": row.status,
            "external_gateway_info": gateway, "routes": routes, "distributed": row.distributed, "ha": row.ha,
            "availability_zone_hints": row.availability_zone_hints or [], "availability_zones": ["nova"]}


class Routers:
    model = Router

    def __init__(self, service):
        self.service = service
        self.db = service.db
        self.quotas = service.quotas

    # reading
    def dicts(self, session, rows: list[Router]) -> list[dict]:
        ids = [row.id for row in rows]
        routes: dict[str, list[dict]] = {}
        if ids:
            query = select(RouterRoute).where(RouterRoute.router_id.in_(ids))
            for route in session.scalars(query):
                routes.setdefault(route.router_id, []).append({"destination": route.destination,
                                                               "nexthop": route.nexthop})
        gateways = addresses(session, [row.gw_port_id for row in rows if row.gw_port_id])
        tags = tags_of(session, ids)
        return [router_dict(row, gateways.get(row.gw_port_id, []), routes.get(row.id, []), tags.get(row.id, []))
                for row in rows]

    def find_row(self, session, ctx, router_id: str, lock: bool = False) -> Router:
        """The router, visible to ``ctx``; ``lock``: for a change, so concurrent changes of
        one router (two overlapping interfaces, say) run one after the other."""
        if lock:
            begin_write(session)
        query = select(Router).where(Router.id == router_id, own(Router, ctx))
        row = session.scalars(query.with_for_update() if lock else query).first()
        if row is None:
            raise errors.RouterNotFound(id=router_id)
        return row

    def get(self, ctx, router_id: str) -> dict:
        with self.db.session() as session:
            return self.dicts(session, [self.find_row(session, ctx, router_id)])[0]

    def list(self, ctx, filters: dict) -> list[dict]:
        query = select(Router).where(own(Router, ctx))
        if "id" in filters:
            query = query.where(Router.id.in_(filters["id"]))
        if "name" in filters:
            query = query.where(Router.name.in_(filters["name"]))
        with self.db.session() as session:
            return self.dicts(session, list(session.scalars(query)))

    # writing
    def create(self, ctx, items: list[dict]) -> list[dict]:
        with self.db.session() as session:
            rows = []
            for values in items:
                values = dict(values)
                gateway = values.pop("external_gateway_info", None)
                self._check_modes(values)
                row = Router()
                apply(row, values, COLUMNS)
                session.add(row)
                session.flush()
                if gateway:
                    self._set_gateway(session, ctx, row, gateway)
                rows.append(row)
            for project_id in {row.project_id for row in rows}:
                self.quotas.check(session, project_id, "router")
            result = self.dicts(session, rows)
        for row in result:
            self.service.agents.router_changed(row["id"])
        return result

    @staticmethod
    def _check_modes(values: dict) -> None:
        for mode in ("distributed", "ha"):
            if values.get(mode):
                raise errors.BadRouterRequest(reason=f"{mode} routers are not supported")

    def update(self, ctx, router_id: str, values: dict) -> dict:
        values = dict(values)
        with self.db.session() as session:
            row = self.find_row(session, ctx, router_id, lock=True)
            self._check_modes(values)
            if "external_gateway_info" in values:
                self._set_gateway(session, ctx, row, values.pop("external_gateway_info"))
            if "routes" in values:
                router_interfaces.replace_routes(session, row, values.pop("routes"))
            apply(row, values, COLUMNS)
            bump(row)
            session.flush()
            result = self.dicts(session, [row])[0]
        self.service.agents.router_changed(router_id)
        return result

    def delete(self, ctx, router_id: str) -> None:
        with self.db.session() as session:
            row = self.find_row(session, ctx, router_id, lock=True)
            if interface_ports(session, router_id):
                raise errors.RouterInUse(id=router_id, reason="still has ports")
            self._clear_gateway(session, row)
            session.execute(delete(RouterRoute).where(RouterRoute.router_id == router_id))
            session.delete(row)
        self.service.agents.router_deleted(router_id)

    # the external gateway
    def _set_gateway(self, session, ctx, row: Router, info: dict | None) -> None:
        if not info:
            self._clear_gateway(session, row)
            return
        network = self.service.networks.find_row(session, ctx, info["network_id"])
        if not network.external:
            raise errors.BadRouterRequest(reason=f"Network {network.id} is not an external network")
        wanted = info.get("external_fixed_ips")
        if row.gw_network_id == network.id and row.gw_port_id and wanted is None:
            row.enable_snat = info.get("enable_snat", row.enable_snat)
            return
        if row.gw_network_id != network.id:
            self._clear_gateway(session, row)
        elif row.gw_port_id:
            self.service.ports.delete_in(session, row.gw_port_id)
            session.flush()
        port = {"network_id": network.id, "device_owner": GATEWAY, "device_id": row.id, "project_id": "",
                "name": "", "admin_state_up": True}
        if wanted:
            port["fixed_ips"] = [_fixed_ip(one) for one in wanted]
        created = self.service.ports.create_in(session, elevated(ctx), port)
        session.flush()
        if not addresses(session, [created.id]):
            raise errors.BadRouterRequest(reason=f"No IPs available for external network {network.id}")
        row.gw_network_id = network.id
        row.gw_port_id = created.id
        row.enable_snat = info.get("enable_snat", True)

    def _clear_gateway(self, session, row: Router) -> None:
        if not row.gw_network_id:
            return
        in_use = session.scalar(select(func.count()).select_from(FloatingIP).where(FloatingIP.router_id == row.id))
        if in_use:
            raise errors.RouterExternalGatewayInUseByFloatingIp(router_id=row.id, net_id=row.gw_network_id)
        if row.gw_port_id and session.get(Port, row.gw_port_id) is not None:
            self.service.ports.delete_in(session, row.gw_port_id)
        row.gw_network_id = None
        row.gw_port_id = None
        row.enable_snat = True
        session.flush()

    # interfaces and routes (PUT /routers/{id}/<action>)
    def add_interface(self, ctx, router_id: str, body: dict) -> dict:
        with self.db.session() as session:
            row = self.find_row(session, ctx, router_id, lock=True)
            info = router_interfaces.add(self.service, session, ctx, row, body)
            bump(row)
        self.service.agents.router_changed(router_id)
        return info

    def remove_interface(self, ctx, router_id: str, body: dict) -> dict:
        with self.db.session() as session:
            row = self.find_row(session, ctx, router_id, lock=True)
            info = router_interfaces.remove(self.service, session, row, body)
            bump(row)
        self.service.agents.router_changed(router_id)
        return info

    def change_routes(self, ctx, router_id: str, routes: list[dict], adding: bool) -> dict:
        with self.db.session() as session:
            row = self.find_row(session, ctx, router_id, lock=True)
            current = [{"destination": r.destination, "nexthop": r.nexthop} for r in
                       session.scalars(select(RouterRoute).where(RouterRoute.router_id == row.id))]
            if adding:
                wanted = current + [route for route in routes if route not in current]
            else:
                wanted = [route for route in current if route not in routes]
            router_interfaces.replace_routes(session, row, wanted)
            bump(row)
            session.flush()
            result = self.dicts(session, [row])[0]
        self.service.agents.router_changed(router_id)
        return result


def _fixed_ip(wanted: dict) -> dict:
    found = {}
    if wanted.get("subnet_id"):
        found["subnet_id"] = wanted["subnet_id"]
    if wanted.get("ip_address"):
        found["ip_address"] = str(ipaddress.ip_address(wanted["ip_address"]))
    return found
