"""A router's interfaces (``network:router_interface`` ports owned by the router, one per
subnet, holding the subnet's gateway address) and its static routes, whose next hops
must lie on a subnet the router is connected to.

Neutron's checks, and their answers: a subnet without a gateway, a subnet overlapping
one the router already has and a port without addresses are 400; a port of another
device is 409; removing what the router does not have is 404; removing an interface
a floating IP or a route still needs is 409.
"""

from __future__ import annotations

import ipaddress

from sqlalchemy import delete, select

from overcast.network import errors
from overcast.network.models import FloatingIP, Port, Router, RouterRoute
from overcast.network.service.l3 import INTERFACE, addresses, elevated, interface_ports, subnets_by_id
from overcast.network.service.records import bump

MAX_ROUTES = 30


def info(router: Router, port: Port, subnet_ids: list[str]) -> dict:
    return {"id": router.id, "port_id": port.id, "network_id": port.network_id, "subnet_id": subnet_ids[0],
            "subnet_ids": subnet_ids, "tenant_id": port.project_id, "project_id": port.project_id}


def connected(session, router: Router) -> dict[str, tuple[str, str]]:
    """subnet id -> (port id, ip) of the router's interfaces and gateway."""
    ports = [port.id for port in interface_ports(session, router.id)]
    if router.gw_port_id:
        ports.append(router.gw_port_id)
    return {subnet_id: (port_id, ip) for port_id, pairs in addresses(session, ports).items()
            for subnet_id, ip in pairs}


def _request(body) -> tuple[str | None, str | None]:
    if not isinstance(body, dict):
        raise errors.HTTPBadRequest("Body contains invalid data")
    subnet_id, port_id = body.get("subnet_id"), body.get("port_id")
    for name, value in (("subnet_id", subnet_id), ("port_id", port_id)):
        if value is not None and not isinstance(value, str):
            raise errors.InvalidInput(reason=f"'{value}' is not a valid UUID")
    return subnet_id, port_id


def add(service, session, ctx, router: Router, body) -> dict:
    subnet_id, port_id = _request(body)
    if subnet_id and port_id:
        raise errors.BadRouterRequest(reason="Cannot specify both subnet-id and port-id")
    if not subnet_id and not port_id:
        raise errors.BadRouterRequest(reason="Either subnet_id or port_id must be specified")
    if port_id:
        port = _own_port(session, ctx, port_id)
        if port.device_id or port.device_owner:
            raise errors.PortInUse(id=port.id, network_id=port.network_id, device_id=port.device_id)
        subnet_ids = [subnet for subnet, _ in addresses(session, [port.id]).get(port.id, [])]
        if not subnet_ids:
            raise errors.BadRouterRequest(reason="Router port must have at least one fixed IP")
        subnets = subnets_by_id(session, subnet_ids)
        if len([s for s in subnets.values() if s.ip_version == 4]) > 1:
            raise errors.BadRouterRequest(reason=f"Cannot have multiple IPv4 subnets on router port {port.id}")
        _check_overlap(session, router, [subnets[s] for s in subnet_ids])
        port.device_id, port.device_owner = router.id, INTERFACE
        bump(port)
    else:
        subnet = service.subnets.find_row(session, ctx, subnet_id)
        if not subnet.gateway_ip:
            raise errors.BadRouterRequest(reason="Subnet for router interface must have a gateway IP")
        _check_overlap(session, router, [subnet])
        subnet_ids = [subnet.id]
        port = service.ports.create_in(session, elevated(ctx), {
            "network_id": subnet.network_id, "project_id": router.project_id, "name": "", "admin_state_up": True,
            "device_owner": INTERFACE, "device_id": router.id,
            "fixed_ips": [{"subnet_id": subnet.id, "ip_address": subnet.gateway_ip}]})
    session.flush()
    return info(router, port, subnet_ids)


def _own_port(session, ctx, port_id: str) -> Port:
    port = session.get(Port, port_id)
    if port is None or not (ctx.is_admin or port.project_id == ctx.project_id):
        raise errors.PortNotFound(id=port_id)
    return port


def _check_overlap(session, router: Router, new) -> None:
    attached = subnets_by_id(session, connected(session, router))
    for subnet in new:
        if subnet.id in attached:
            raise errors.BadRouterRequest(reason=f"Router already has a port on subnet {subnet.id}")
        mine = ipaddress.ip_network(subnet.cidr)
        for other in attached.values():
            theirs = ipaddress.ip_network(other.cidr)
            if mine.version == theirs.version and mine.overlaps(theirs):
                raise errors.BadRouterRequest(reason=f"Cidr {subnet.cidr} of subnet {subnet.id} overlaps with "
                                                     f"cidr {other.cidr} of subnet {other.id}")


def remove(service, session, router: Router, body) -> dict:
    subnet_id, port_id = _request(body)
    if not subnet_id and not port_id:
        raise errors.BadRouterRequest(reason="Either subnet_id or port_id must be specified")
    interfaces = {port.id: port for port in interface_ports(session, router.id)}
    owned = addresses(session, list(interfaces))
    if port_id:
        if port_id not in interfaces:
            raise errors.RouterInterfaceNotFound(router_id=router.id, port_id=port_id)
        if subnet_id and subnet_id not in [s for s, _ in owned.get(port_id, [])]:
            raise errors.RouterInterfaceNotFoundForSubnet(router_id=router.id, subnet_id=subnet_id)
    else:
        port_id = next((pid for pid, pairs in owned.items() if subnet_id in [s for s, _ in pairs]), None)
        if port_id is None:
            raise errors.RouterInterfaceNotFoundForSubnet(router_id=router.id, subnet_id=subnet_id)
    port = interfaces[port_id]
    subnet_ids = [s for s, _ in owned.get(port_id, [])] or ([subnet_id] if subnet_id else [""])
    for subnet in subnets_by_id(session, subnet_ids).values():
        _check_unused(session, router, subnet)
    result = info(router, port, subnet_ids)
    service.ports.delete_in(session, port_id)
    session.flush()
    return result


def _check_unused(session, router: Router, subnet) -> None:
    network = ipaddress.ip_network(subnet.cidr)
    fixed = session.scalars(select(FloatingIP.fixed_ip_address).where(FloatingIP.router_id == router.id))
    if any(ip and ipaddress.ip_address(ip) in network for ip in fixed):
        raise errors.RouterInterfaceInUseByFloatingIP(router_id=router.id, subnet_id=subnet.id)
    hops = session.scalars(select(RouterRoute.nexthop).where(RouterRoute.router_id == router.id))
    if any(ipaddress.ip_address(hop) in network for hop in hops):
        raise errors.RouterInterfaceInUseByRoute(router_id=router.id, subnet_id=subnet.id)


def replace_routes(session, router: Router, routes: list[dict]) -> None:
    """Make ``routes`` (converted {destination, nexthop} dicts) the router's static routes."""
    unique = []
    for route in routes:
        if route not in unique:
            unique.append(route)
    if len(unique) > MAX_ROUTES:
        raise errors.InvalidRoutes(routes=unique, reason=f"number of routes exceeded the maximum {MAX_ROUTES}")
    links = connected(session, router)
    subnets = subnets_by_id(session, links)
    own_ips = {ip for _, ip in links.values()}
    for route in unique:
        hop = ipaddress.ip_address(route["nexthop"])
        if route["nexthop"] in own_ips:
            raise errors.InvalidRoutes(routes=unique, reason="the nexthop is used by router")
        if not any(hop in ipaddress.ip_network(subnet.cidr) for subnet in subnets.values()):
            raise errors.InvalidRoutes(routes=unique, reason="the nexthop is not connected with router")
    session.execute(delete(RouterRoute).where(RouterRoute.router_id == router.id))
    for route in unique:
        session.add(RouterRoute(router_id=router.id, destination=route["destination"], nexthop=route["nexthop"]))
