"""The addresses of compute instances, as Nova's server body shows them: network name
-> fixed addresses of the instance's ports (with their MAC) followed by the floating
addresses associated with them. Read in four queries for any number of instances."""

from __future__ import annotations

import ipaddress

from sqlalchemy import select

from overcast.network.models import FloatingIP, IPAllocation, Network, Port

CHUNK = 500


def instance_addresses(db, device_ids: list[str]) -> dict[str, dict[str, list[dict]]]:
    found: dict[str, dict[str, list[dict]]] = {}
    with db.session() as session:
        for start in range(0, len(device_ids), CHUNK):
            _chunk(session, device_ids[start:start + CHUNK], found)
    return found


def _entry(address: str, mac: str, kind: str) -> dict:
    return {"version": ipaddress.ip_address(address).version, "addr": address, "OS-EXT-IPS:type": kind,
            "OS-EXT-IPS-MAC:mac_addr": mac}


def _chunk(session, ids: list[str], found: dict) -> None:
    ports = list(session.execute(select(Port.id, Port.device_id, Port.network_id, Port.mac_address)
                                 .where(Port.device_id.in_(ids)).order_by(Port.created_at)))
    if not ports:
        return
    port_ids = [port.id for port in ports]
    names = dict(session.execute(select(Network.id, Network.name)
                                 .where(Network.id.in_({port.network_id for port in ports}))).all())
    fixed: dict[str, list[str]] = {}
    for port_id, address in session.execute(select(IPAllocation.port_id, IPAllocation.ip_address)
                                            .where(IPAllocation.port_id.in_(port_ids))
                                            .order_by(IPAllocation.ip_key)):
        fixed.setdefault(port_id, []).append(address)
    floating: dict[str, list[str]] = {}
    for port_id, address in session.execute(select(FloatingIP.port_id, FloatingIP.floating_ip_address)
                                            .where(FloatingIP.port_id.in_(port_ids))):
        floating.setdefault(port_id, []).append(address)
    for port in ports:
        entries = found.setdefault(port.device_id, {}).setdefault(names.get(port.network_id, port.network_id), [])
        entries.extend(_entry(address, port.mac_address, "fixed") for address in fixed.get(port.id, []))
        entries.extend(_entry(address, port.mac_address, "floating") for address in floating.get(port.id, []))


def devices_with_address(db, pattern, version: int | None = None) -> set[str]:
    """Ids of the devices (compute instances) with a fixed address ``pattern`` matches
    (Nova's ``ip``/``ip6`` server filters: a regular expression on each address)."""
    query = (select(Port.device_id, IPAllocation.ip_address).join(IPAllocation, IPAllocation.port_id == Port.id)
             .where(Port.device_owner.like("compute:%")))
    with db.session() as session:
        return {device for device, address in session.execute(query)
                if (version is None or ipaddress.ip_address(address).version == version) and pattern.match(address)}


def instance_at(db, network_id: str, address: str) -> dict | None:
    """The compute instance holding the fixed ``address`` on ``network_id`` (what the
    metadata service asks about a guest): ``{"device_id", "port_id", "floating_ips"}``
    (the floating addresses associated with that port), or None when no port of a
    ``compute:*`` owner holds it."""
    try:
        address = str(ipaddress.ip_address(address))
    except ValueError:
        return None
    query = (select(Port.id, Port.device_id).join(IPAllocation, IPAllocation.port_id == Port.id)
             .where(IPAllocation.network_id == network_id, IPAllocation.ip_address == address,
                    Port.network_id == network_id, Port.device_owner.like("compute:%"), Port.device_id != ""))
    with db.session() as session:
        found = session.execute(query).first()
        if found is None:
            return None
        floating = list(session.scalars(select(FloatingIP.floating_ip_address)
                                        .where(FloatingIP.port_id == found.id).order_by(FloatingIP.floating_ip_address)))
    return {"device_id": found.device_id, "port_id": found.id, "floating_ips": floating}
