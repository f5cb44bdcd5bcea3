"""Ports: a MAC and fixed IPs on one network, security groups, allowed address pairs,
extra DHCP options and the binding to a host.

Visible to their project and to the owner of their network (``_policy`` carries
``network:project_id``). A new port gets, unless ``fixed_ips`` says otherwise, one
address from the network's IPv4 subnets, one from its stateful DHCPv6 subnets and the
EUI-64 address on each SLAAC subnet (Neutron's rule); its MAC is ``fa:16:3e:xx:xx:xx``
unless given (409 MacAddressInUse if another port of the network has it). Ports stay
DOWN until a network agent reports them up (:meth:`Ports.set_status`). Agents hear
of every change after the commit (``service.agents.port_changed``/``port_deleted``).

Interface for the rest of overcast (routers, floating IPs, compute):

- ``create(ctx, items)`` takes dicts that may leave any optional key out (``network_id``
  and, for admins acting for a project, ``project_id`` are enough);
- ``create_in(session, ctx, values) -> Port`` and ``delete_in(session, port_id)`` work in
  the caller's transaction (the caller notifies the agents after its commit);
- ``port_dict(session, row)``, ``list_by_device(device_id)``, ``bind(port_id, host)``,
  ``set_status(port_id, status)``.
"""

from __future__ import annotations

import ipaddress

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from overcast.network import errors
from overcast.network.models import FloatingIP, Network, Port, PortSecurityGroup, Router, SecurityGroup
from overcast.network.service import port_values as pv
from overcast.network.service.default_groups import ensure_default
from overcast.network.service.ipam import begin_write, is_auto_address
from overcast.network.service.records import apply, bump
from overcast.network.service.retries import retrying

MAX_FIXED_IPS = 5  # Neutron's max_fixed_ips_per_port
ROUTER_OWNERS = ("network:router_interface", "network:router_interface_distributed",
                 "network:ha_router_replicated_interface", "network:router_centralized_snat")
SERVICE_OWNERS = {"network:router_interface": Router, "network:router_gateway": Router,
                  "network:router_interface_distributed": Router, "network:floatingip": FloatingIP}
STATUSES = ("ACTIVE", "DOWN", "BUILD", "ERROR")


def visible_ports(ctx):
    if ctx.is_admin:
        return True
    project = ctx.project_id or ""
    return (Port.project_id == project) | (Network.project_id == project)


class Ports:
    model = Port

    def __init__(self, service):
        self.service = service
        self.db = service.db
        self.ipam = service.ipam

    # reading
    def port_dict(self, session, row: Port) -> dict:
        """The API dict of one port row, read in ``session``."""
        owner = session.scalar(select(Network.project_id).where(Network.id == row.network_id)) or ""
        return pv.port_dicts(session, [row], {row.network_id: owner})[0]

    def _dicts(self, session, rows: list[Port]) -> list[dict]:
        network_ids = sorted({row.network_id for row in rows})
        query = select(Network.id, Network.project_id).where(Network.id.in_(network_ids))
        owners = dict(session.execute(query).all()) if network_ids else {}
        return pv.port_dicts(session, rows, owners)

    def find_row(self, session, ctx, port_id: str) -> Port:
        row = session.scalars(select(Port).join(Network, Network.id == Port.network_id)
                              .where(Port.id == port_id, visible_ports(ctx))).first()
        if row is None:
            raise errors.PortNotFound(id=port_id)
        return row

    def get(self, ctx, port_id: str) -> dict:
        with self.db.session() as session:
            return self._dicts(session, [self.find_row(session, ctx, port_id)])[0]

    def list(self, ctx, filters: dict) -> list[dict]:
        query = select(Port).join(Network, Network.id == Port.network_id).where(visible_ports(ctx))
        for name in ("id", "name", "network_id", "device_id", "device_owner", "mac_address", "status"):
            if name in filters:
                query = query.where(getattr(Port, name).in_(filters[name]))
        narrowed = pv.ports_with_addresses(filters.get("fixed_ips") or [])
        if narrowed is not None:
            query = query.where(Port.id.in_(narrowed))
        if "project_id" in filters or "tenant_id" in filters:
            query = query.where(Port.project_id.in_(filters.get("project_id", []) + filters.get("tenant_id", [])))
        with self.db.session() as session:
            return self._dicts(session, list(session.scalars(query.order_by(Port.created_at, Port.id))))

    def list_by_device(self, device_id: str) -> list[dict]:
        """Every port of ``device_id`` (a server, router or DHCP agent), any project."""
        with self.db.session() as session:
            rows = list(session.scalars(select(Port).where(Port.device_id == device_id)
                                        .order_by(Port.created_at, Port.id)))
            return self._dicts(session, rows)

    def policy_extra(self, ctx, values: dict) -> dict:
        """Policy-target fields of a port about to be created: its network's owner and sharing."""
        with self.db.session() as session:
            network = self.service.networks.find_row(session, ctx, values.get("network_id") or "")
            return {"network:project_id": network.project_id, "shared": network.shared}

    # creating
    def create(self, ctx, items: list[dict]) -> list[dict]:
        """Create ports (all or none). Items may leave out any optional attribute."""
        defaults = {}
        for values in items:  # the default security group commits on its own, first
            project = values.get("project_id") or ctx.project_id or ""
            if self._wants_default_group(values) and project not in defaults:
                defaults[project] = ensure_default(self.db, project)
        def work() -> list[dict]:
            with self.db.session() as session:
                for values in items:  # 404 on another project's unshared (say external) network
                    network = self.service.networks.find_row(session, ctx, values.get("network_id") or "")
                    pv.check_network_owner(ctx, network, values)
                rows = [self.create_in(session, ctx, values, defaults) for values in items]
                for project_id in {row.project_id for row in rows}:
                    self.service.quotas.check(session, project_id, "port")
                return self._dicts(session, rows)

        result = retrying(work)
        self.service.agent_scheduler.schedule_networks(  # as Neutron schedules on port_create_end
            port["network_id"] for port in result if port.get("device_owner") != "network:dhcp")
        for port in result:
            self.service.agents.port_changed(port)
        return result

    @staticmethod
    def _wants_default_group(values: dict) -> bool:
        return values.get("security_groups") is None and values.get("port_security_enabled") is not False \
            and not (values.get("device_owner") or "").startswith("network:")

    def create_in(self, session, ctx, values: dict, default_groups: dict | None = None) -> Port:
        """Insert a port (and its addresses and groups) in the caller's ``session``; return the row.

        ``values`` as for :meth:`create`. The caller commits, checks quotas if it wants
        and tells the agents (``service.agents.port_changed(port_dict)``) after commit."""
        values = pv.with_defaults(values)
        network = self.service.networks.find_row(session, ctx, values.get("network_id") or "")
        project = values["project_id"] if values.get("project_id") is not None else ctx.project_id or ""  # "": L3
        security = values.get("port_security_enabled")
        security = network.port_security_enabled if security is None else security
        row = Port(network_id=network.id, project_id=project, port_security_enabled=security, status="DOWN")
        apply(row, {name: values[name] for name in ("name", "description", "admin_state_up", "device_id",
                                                    "device_owner", "dns_name", "binding:host_id",
                                                    "binding:vnic_type", "binding:profile")}, pv.COLUMNS)
        row.binding_vif_type, row.binding_vif_details = pv.vif_of(row.binding_host_id)
        self._insert_with_mac(session, row, values.get("mac_address"))
        self._allocate(session, row, values.get("fixed_ips"), fresh=True)
        groups = values.get("security_groups")
        if groups is None:
            groups = [] if not self._wants_default_group(values) else \
                [(default_groups or {}).get(project) or pv.default_group_in(session, project)]
        self._check_security(security, groups, values.get("allowed_address_pairs"))
        self._set_groups(session, ctx, row, [group for group in groups if group], fresh=True)
        row.allowed_address_pairs = pv.address_pairs(values.get("allowed_address_pairs") or [], row.mac_address)
        row.extra_dhcp_opts = pv.dhcp_options(values.get("extra_dhcp_opts") or [])
        session.flush()
        return row

    def _insert_with_mac(self, session, row: Port, mac: str | None) -> None:
        begin_write(session)
        if mac:
            row.mac_address = pv.normal_mac(mac)
            if session.scalar(select(Port.id).where(Port.network_id == row.network_id,
                                                    Port.mac_address == row.mac_address)):
                raise errors.MacAddressInUse(network_id=row.network_id, mac=row.mac_address)
        for _ in range(16):
            if not mac:
                row.mac_address = pv.random_mac()
            try:
                with session.begin_nested():
                    session.add(row)
                return
            except IntegrityError:
                if mac:
                    raise errors.MacAddressInUse(network_id=row.network_id, mac=row.mac_address) from None
        raise errors.MacAddressInUse(network_id=row.network_id, mac=row.mac_address)

    # addresses
    def _allocate(self, session, row: Port, fixed_ips, fresh: bool) -> None:
        """Allocate ``fixed_ips`` (None: Neutron's defaults) to the port ``row``."""
        subnets = pv.subnets_by_id(session, row.network_id)
        router_port = row.device_owner in ROUTER_OWNERS
        wanted = self._requested(row, subnets, fixed_ips, router_port) if fixed_ips is not None else None
        if wanted is None:
            v4 = [s for s in subnets.values() if s.ip_version == 4]
            stateful = [s for s in subnets.values() if s.ip_version == 6 and not is_auto_address(s)]
            for group in (v4, stateful):
                self._one_of(session, row, group)
            wanted = []
        configured = {subnet.id for subnet, _ in wanted}
        if not router_port and fresh:
            wanted += [(s, None) for s in subnets.values() if is_auto_address(s) and s.id not in configured]
        for subnet, address in wanted:
            self.ipam.allocate(session, subnet, row.id, address, row.mac_address)

    def _one_of(self, session, row: Port, subnets: list) -> None:
        """One address from the first of ``subnets`` with room (Neutron's default for a version)."""
        for index, subnet in enumerate(subnets):
            try:
                self.ipam.allocate(session, subnet, row.id, None, row.mac_address)
                return
            except errors.IpAddressGenerationFailure:
                if index == len(subnets) - 1:
                    raise

    def _requested(self, row: Port, subnets: dict, fixed_ips, router_port: bool) -> list:
        if not isinstance(fixed_ips, list):
            raise errors.InvalidInput(reason=f"Invalid data format for fixed IP: '{fixed_ips}'")
        if len(fixed_ips) > MAX_FIXED_IPS:
            raise errors.InvalidInput(reason="Exceeded maximum amount of fixed ips per port.")
        wanted = []
        for entry in fixed_ips:
            if not isinstance(entry, dict) or set(entry) - {"subnet_id", "ip_address"} or not entry:
                raise errors.InvalidInput(reason=f"Invalid data format for fixed IP: '{entry}'")
            subnet_id, address = entry.get("subnet_id"), entry.get("ip_address")
            if address is not None:
                try:
                    address = str(ipaddress.ip_address(address))
                except ValueError:
                    raise errors.InvalidInput(reason=f"'{address}' is not a valid IP address") from None
            if subnet_id:
                subnet = subnets.get(subnet_id)
                if subnet is None:
                    raise errors.InvalidInput(reason=f"Failed to create port on network {row.network_id}, because "
                                                     f"fixed_ips included invalid subnet {subnet_id}")
            elif address:
                subnet = next((s for s in subnets.values()
                               if ipaddress.ip_address(address) in ipaddress.ip_network(s.cidr)), None)
                if subnet is None:
                    raise errors.InvalidIpForNetwork(ip_address=address)
            else:
                raise errors.InvalidInput(reason="IP allocation requires subnet_id or ip_address")
            if address and is_auto_address(subnet) and not router_port:
                raise errors.InvalidInput(reason=f"IPv6 address {address} cannot be directly assigned to a port on "
                                                 f"subnet {subnet.id} as the subnet is configured for automatic "
                                                 "addresses")
            wanted.append((subnet, address))
        return wanted

    # security groups
    @staticmethod
    def _check_security(enabled: bool, groups: list, pairs) -> None:
        if not enabled and groups:
            raise errors.PortSecurityAndIPRequiredForSecurityGroups()
        if not enabled and pairs:
            raise errors.AddressPairAndPortSecurityRequired()

    def _set_groups(self, session, ctx, row: Port, groups: list[str], fresh: bool = False) -> None:
        groups = list(dict.fromkeys(groups))
        if groups:
            query = select(SecurityGroup.id).where(SecurityGroup.id.in_(groups))
            if not ctx.is_admin:
                query = query.where(SecurityGroup.project_id.in_([row.project_id, ctx.project_id or ""]))
            found = set(session.scalars(query))
            for group in groups:
                if group not in found:
                    raise errors.SecurityGroupNotFound(id=group)
        if not fresh:  # (a DELETE of nothing takes MariaDB gap locks racing creates deadlock on)
            session.query(PortSecurityGroup).filter(PortSecurityGroup.port_id == row.id).delete()
        session.add_all(PortSecurityGroup(port_id=row.id, security_group_id=group) for group in groups)

    # changing
    def update(self, ctx, port_id: str, values: dict) -> dict:
        def work() -> tuple[dict, list[str]]:
            with self.db.session() as session:
                row = self.find_row(session, ctx, port_id)
                before = pv.groups_of(session, [row.id]).get(row.id, [])
                self.update_in(session, ctx, row, dict(values))
                session.flush()
                return self._dicts(session, [row])[0], before

        result, old_groups = retrying(work)
        self.service.agents.port_changed(result)
        if set(old_groups) != set(result["security_groups"]):
            self.service.agents.security_groups_changed(sorted(set(old_groups) | set(result["security_groups"])))
        return result

    def update_in(self, session, ctx, row: Port, values: dict) -> None:
        """Apply ``values`` to the port ``row`` in the caller's session."""
        if "mac_address" in values:
            mac = pv.normal_mac(values.pop("mac_address"))
            if mac != row.mac_address:
                if session.scalar(select(Port.id).where(Port.network_id == row.network_id, Port.mac_address == mac)):
                    raise errors.MacAddressInUse(network_id=row.network_id, mac=mac)
                row.mac_address = mac
        if "device_owner" in values:
            row.device_owner = values.pop("device_owner") or ""
        if "fixed_ips" in values:
            self._change_ips(session, row, values.pop("fixed_ips"))
        security = values.pop("port_security_enabled", row.port_security_enabled)
        groups = values.pop("security_groups", None)
        current = pv.groups_of(session, [row.id]).get(row.id, [])
        effective = current if groups is None else groups
        pairs = values.pop("allowed_address_pairs", None)
        if not security and effective:
            raise errors.PortSecurityAndIPRequiredForSecurityGroups() if groups else \
                errors.PortSecurityPortHasSecurityGroup()
        if not security and (pairs if pairs is not None else row.allowed_address_pairs):
            raise errors.AddressPairAndPortSecurityRequired()
        row.port_security_enabled = security
        if groups is not None:
            self._set_groups(session, ctx, row, groups or [])
        if pairs is not None:
            row.allowed_address_pairs = pv.address_pairs(pairs or [], row.mac_address)
        if "extra_dhcp_opts" in values:
            row.extra_dhcp_opts = pv.dhcp_options(values.pop("extra_dhcp_opts") or [], row.extra_dhcp_opts)
        if "binding:vnic_type" in values and values["binding:vnic_type"] not in pv.VNIC_TYPES:
            raise errors.InvalidInput(reason=f"Invalid vnic_type '{values['binding:vnic_type']}'")
        for name in ("name", "description", "device_id", "dns_name", "binding:host_id"):
            if name in values and values[name] is None:
                values[name] = ""
        if "binding:profile" in values and values["binding:profile"] is None:
            values["binding:profile"] = {}
        apply(row, values, pv.COLUMNS)
        row.binding_vif_type, row.binding_vif_details = pv.vif_of(row.binding_host_id or "")
        bump(row)

    def _change_ips(self, session, row: Port, fixed_ips) -> None:
        """Keep the addresses still asked for, release the others, allocate the new ones."""
        subnets = pv.subnets_by_id(session, row.network_id)
        wanted = self._requested(row, subnets, fixed_ips, row.device_owner in ROUTER_OWNERS)
        current = pv.fixed_ips_of(session, [row.id]).get(row.id, [])
        keep, add = [], []
        for subnet, address in wanted:
            match = next((ip for ip in current if ip not in keep and ip["subnet_id"] == subnet.id
                          and (address is None or ip["ip_address"] == address)), None)
            if match is not None:
                keep.append(match)
            else:
                add.append((subnet, address))
        router_port = row.device_owner in ROUTER_OWNERS
        for ip in current:
            subnet = subnets.get(ip["subnet_id"])
            if ip in keep or (subnet is not None and is_auto_address(subnet) and not router_port):
                continue  # SLAAC addresses stay with a port until its subnet goes (Neutron's rule)
            self.ipam.release_address(session, ip["subnet_id"], ip["ip_address"])
        session.flush()
        for subnet, address in add:
            self.ipam.allocate(session, subnet, row.id, address, row.mac_address)

    # deleting
    def delete(self, ctx, port_id: str) -> None:
        with self.db.session() as session:
            row = self.find_row(session, ctx, port_id)
            owner_model = SERVICE_OWNERS.get(row.device_owner or "")
            if owner_model is not None and row.device_id and session.get(owner_model, row.device_id) is not None:
                raise errors.ServicePortInUse(port_id=port_id, reason=f"has device owner {row.device_owner}")
            routers = self.service.floatingips.port_deleted_in(session, port_id)
            port = self.delete_in(session, port_id)
        self.service.agents.port_deleted(port)
        for router_id in routers:
            self.service.agents.router_changed(router_id)

    def delete_in(self, session, port_id: str) -> dict | None:
        """Delete the port, its addresses and group links in the caller's ``session``.

        Returns the port's dict as it was (None if there was no such port), for the
        caller to pass to ``service.agents.port_deleted`` after its commit."""
        row = session.get(Port, port_id)
        if row is None:
            return None
        port = self.port_dict(session, row)
        self.ipam.release(session, port_id)
        session.query(PortSecurityGroup).filter(PortSecurityGroup.port_id == port_id).delete()
        session.delete(row)
        session.flush()
        return port

    # the agent side
    def bind(self, port_id: str, host: str) -> dict:
        """Bind the port to ``host``: binding:host_id, vif_type and vif_details; its dict."""
        with self.db.session() as session:
            row = session.get(Port, port_id)
            if row is None:
                raise errors.PortNotFound(id=port_id)
            row.binding_host_id = host or ""
            row.binding_vif_type, row.binding_vif_details = pv.vif_of(row.binding_host_id)
            bump(row)
            session.flush()
            port = self.port_dict(session, row)
        self.service.agents.port_changed(port)
        return port

    def set_status(self, port_id: str, status: str) -> None:
        """Record what an agent reports (ACTIVE once plugged, DOWN when gone); quietly
        ignores ports deleted meanwhile."""
        if status not in STATUSES:
            raise errors.InvalidInput(reason=f"Invalid port status '{status}'")
        with self.db.session() as session:
            row = session.get(Port, port_id)
            if row is not None and row.status != status:
                row.status = status
                bump(row)
