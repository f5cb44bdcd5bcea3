"""A port's values: the dict the API shows, the defaults internal callers may leave out,
MAC addresses, allowed address pairs, extra DHCP options and binding details."""

from __future__ import annotations

import ipaddress
import random
import re

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from overcast.network import errors
from overcast.network.models import IPAllocation, Port, PortSecurityGroup, Subnet
from overcast.network.service.records import standard, tags_of

MAC_PREFIX = "fa:16:3e"  # Neutron's default base_mac
MAC_RE = re.compile(r"^([0-9a-f]{2}:){5}[0-9a-f]{2}$")
BOUND_VIF_TYPE = "bridge"  # what the Linux bridge agent plugs
BOUND_VIF_DETAILS = {"port_filter": True}
VNIC_TYPES = ("normal", "direct", "macvtap", "baremetal", "direct-physical", "virtio-forwarder", "smart-nic",
              "vdpa", "remote-managed")
# what a port dict may omit when created from inside overcast (the API fills them itself)
DEFAULTS = {"name": "", "description": "", "admin_state_up": True, "device_id": "", "device_owner": "",
            "allowed_address_pairs": [], "extra_dhcp_opts": [], "binding:host_id": "", "binding:vnic_type": "normal",
            "binding:profile": {}, "dns_name": ""}
COLUMNS = {"binding:host_id": "binding_host_id", "binding:vnic_type": "binding_vnic_type",
           "binding:profile": "binding_profile"}


def random_mac() -> str:
    return MAC_PREFIX + "".join(f":{random.randrange(256):02x}" for _ in range(3))


def normal_mac(mac) -> str:
    text = str(mac).lower().replace("-", ":")
    if not MAC_RE.match(text) or text == "00:00:00:00:00:00" or int(text[:2], 16) & 1:
        raise errors.InvalidInput(reason=f"'{mac}' is not a valid MAC address")
    return text


def vif_of(host: str) -> tuple[str, dict]:
    """binding:vif_type and vif_details: unbound until the port has a host."""
    return (BOUND_VIF_TYPE, dict(BOUND_VIF_DETAILS)) if host else ("unbound", {})


def address_pairs(pairs: list, mac: str) -> list[dict]:
    """Allowed address pairs, each with its MAC (the port's when left out)."""
    normal: list[dict] = []
    for pair in pairs:
        if not isinstance(pair, dict) or "ip_address" not in pair or set(pair) - {"ip_address", "mac_address"}:
            raise errors.InvalidInput(reason=f"Unrecognized attribute(s) in allowed address pair '{pair}'")
        try:
            text = str(pair["ip_address"])
            address = str(ipaddress.ip_network(text, strict=False)) if "/" in text \
                else str(ipaddress.ip_address(text))
        except ValueError:
            raise errors.InvalidInput(reason=f"'{pair['ip_address']}' is not a valid IP address") from None
        item = {"ip_address": address, "mac_address": normal_mac(pair.get("mac_address") or mac)}
        if item in normal:
            raise errors.DuplicateAddressPairInRequest(mac_address=item["mac_address"], ip_address=address)
        normal.append(item)
    return normal


def dhcp_options(options: list, current: list | None = None) -> list[dict]:
    """Extra DHCP options merged into ``current`` (Neutron's update rule: same name and IP
    version replaces, a null value removes)."""
    merged = [dict(option) for option in current or []]
    for option in options:
        if not isinstance(option, dict) or not option.get("opt_name") or \
                set(option) - {"opt_name", "opt_value", "ip_version"}:
            raise errors.InvalidInput(reason=f"Invalid data format for extra-dhcp-opt: {option}")
        version = int(option.get("ip_version") or 4)
        if version not in (4, 6):
            raise errors.InvalidInput(reason=f"Invalid ip_version in extra-dhcp-opt: {option}")
        name, value = str(option["opt_name"]), option.get("opt_value")
        merged = [one for one in merged if not (one["opt_name"] == name and one["ip_version"] == version)]
        if value is not None:
            merged.append({"opt_name": name, "opt_value": str(value), "ip_version": version})
    return merged


def with_defaults(values: dict) -> dict:
    """``values`` with every optional attribute an internal caller may leave out."""
    filled = {**{k: (list(v) if isinstance(v, list) else dict(v) if isinstance(v, dict) else v)
                 for k, v in DEFAULTS.items()}, **values}
    for name in ("device_id", "device_owner", "name", "description", "dns_name", "binding:host_id"):
        filled[name] = filled[name] or ""
    return filled


def fixed_ips_of(session, port_ids: list[str]) -> dict[str, list[dict]]:
    found: dict[str, list] = {}
    for chunk in range(0, len(port_ids), 500):
        query = select(IPAllocation.port_id, IPAllocation.subnet_id, IPAllocation.ip_address, IPAllocation.ip_key) \
            .where(IPAllocation.port_id.in_(port_ids[chunk:chunk + 500]))
        for port_id, subnet_id, address, key in session.execute(query):
            found.setdefault(port_id, []).append((":" in address, key, subnet_id, address))
    return {port_id: [{"subnet_id": subnet_id, "ip_address": address} for _, _, subnet_id, address in sorted(rows)]
            for port_id, rows in found.items()}


def groups_of(session, port_ids: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for chunk in range(0, len(port_ids), 500):
        query = select(PortSecurityGroup.port_id, PortSecurityGroup.security_group_id).where(
            PortSecurityGroup.port_id.in_(port_ids[chunk:chunk + 500]))
        for port_id, group_id in session.execute(query):
            found.setdefault(port_id, []).append(group_id)
    return {port_id: sorted(groups) for port_id, groups in found.items()}


def port_dicts(session, rows: list[Port], owners: dict[str, str]) -> list[dict]:
    """The API dicts of ``rows``; ``owners`` maps network id -> its project (for policy)."""
    ids = [row.id for row in rows]
    ips, groups, tags = fixed_ips_of(session, ids), groups_of(session, ids), tags_of(session, ids)
    return [port_dict(row, ips.get(row.id, []), groups.get(row.id, []), tags.get(row.id, []),
                      owners.get(row.network_id, "")) for row in rows]


def port_dict(row: Port, fixed_ips: list[dict], groups: list[str], tags: list[str], network_owner: str) -> dict:
    return {**standard(row, tags), "network_id": row.network_id, "mac_address": row.mac_address,
            "admin_state_up": row.admin_state_up, "status": row.status, "device_id": row.device_id or "",
            "device_owner": row.device_owner or "", "fixed_ips": fixed_ips, "security_groups": groups,
            "port_security_enabled": row.port_security_enabled,
            "allowed_address_pairs": list(row.allowed_address_pairs or []),
            "extra_dhcp_opts": list(row.extra_dhcp_opts or []), "binding:host_id": row.binding_host_id or "",
            "binding:vnic_type": row.binding_vnic_type or "normal", "binding:profile": row.binding_profile or {},
            "binding:vif_type": row.binding_vif_type or "unbound", "binding:vif_details": row.binding_vif_details or {},
            "dns_name": row.dns_name or "", "ip_allocation": "immediate",
            "_policy": {"network:project_id": network_owner}}


def subnets_by_id(session, network_id: str) -> dict[str, Subnet]:
    return {row.id: row for row in session.scalars(select(Subnet).where(Subnet.network_id == network_id)
                                                   .order_by(Subnet.created_at, Subnet.id))}


def ports_with_addresses(wanted: list[str]):
    """A query of the port ids matching one of the ``fixed_ips=ip_address=..``/``subnet_id=..``
    filters, or None when one is something else (substrings are left to the listing, which
    applies every filter again anyway)."""
    conditions = []
    for value in wanted:
        key, _, text = value.partition("=")
        if key not in ("ip_address", "subnet_id"):
            return None
        conditions.append(getattr(IPAllocation, key) == text)
    return select(IPAllocation.port_id).where(or_(*conditions)) if conditions else None


def default_group_in(session, project: str) -> str:
    """The project's default security group, made inside ``session`` if it has none yet
    (for callers already in a transaction; ``default_groups.ensure_default`` otherwise)."""
    from overcast.network.models import DefaultSecurityGroup, SecurityGroup
    from overcast.network.service.default_groups import DESCRIPTION, default_rules
    from overcast.network.service.ipam import begin_write

    found = session.scalar(select(DefaultSecurityGroup.security_group_id)
                           .where(DefaultSecurityGroup.project_id == project))
    if found or not project:
        return found or ""
    begin_write(session)
    try:
        with session.begin_nested():
            group = SecurityGroup(project_id=project, name="default", description=DESCRIPTION)
            session.add(group)
            session.flush()
            session.add(DefaultSecurityGroup(project_id=project, security_group_id=group.id))
            session.add_all(default_rules(group))
        return group.id
    except IntegrityError:
        return session.scalar(select(DefaultSecurityGroup.security_group_id)
                              .where(DefaultSecurityGroup.project_id == project))


def check_network_owner(ctx, network, values: dict) -> None:
    """Neutron's API check: a project's port goes on its own network or a shared one; on
    another's (an external network, say) the answer is 404, as if it were not there.
    Routers and floating IPs make their ports there through ``Ports.create_in``."""
    project = values.get("project_id") or ctx.project_id or ""
    if not ctx.is_admin and not network.shared and network.project_id != project:
        raise errors.NotFound()
