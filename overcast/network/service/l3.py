"""What routers and floating IPs share: the ports they own, those ports' addresses, and
the admin view their own ports are made with.

A router's gateway and interfaces, and a floating IP's address, are ports created and
deleted through the port logic (``service.ports.create_in``/``delete_in``) inside the
router's or floating IP's own transaction; IPAM hands out their addresses there.
"""

from __future__ import annotations

import dataclasses

from sqlalchemy import select

from overcast.network.models import IPAllocation, Port, Subnet

GATEWAY = "network:router_gateway"
INTERFACE = "network:router_interface"
FLOATING = "network:floatingip"
OWNERS = (GATEWAY, INTERFACE, FLOATING)


def elevated(ctx):
    """``ctx`` with the admin role: the service makes its own ports on networks the caller
    may not create ports on itself (external ones)."""
    if ctx.is_admin:
        return ctx
    return dataclasses.replace(ctx, roles=[*ctx.roles, "admin"])


def addresses(session, port_ids: list[str]) -> dict[str, list[tuple[str, str]]]:
    """port id -> [(subnet_id, ip_address)], in allocation order of the subnet's range."""
    found: dict[str, list[tuple[str, str]]] = {}
    if not port_ids:
        return found
    query = (select(IPAllocation.port_id, IPAllocation.subnet_id, IPAllocation.ip_address)
             .where(IPAllocation.port_id.in_(port_ids)).order_by(IPAllocation.ip_key))
    for port_id, subnet_id, ip in session.execute(query):
        found.setdefault(port_id, []).append((subnet_id, ip))
    return found


def interface_ports(session, router_id: str) -> list[Port]:
    return list(session.scalars(select(Port).where(Port.device_id == router_id, Port.device_owner == INTERFACE)
                                .order_by(Port.created_at)))


def interface_subnets(session, router_id: str) -> dict[str, tuple[str, str]]:
    """subnet id -> (port id, ip) of each subnet the router has an interface on."""
    ports = interface_ports(session, router_id)
    found = {}
    for port_id, pairs in addresses(session, [port.id for port in ports]).items():
        for subnet_id, ip in pairs:
            found[subnet_id] = (port_id, ip)
    return found


def subnets_by_id(session, ids) -> dict[str, Subnet]:
    ids = list(ids)
    if not ids:
        return {}
    return {row.id: row for row in session.scalars(select(Subnet).where(Subnet.id.in_(ids)))}
