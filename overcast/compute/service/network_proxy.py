"""The network calls Nova still proxies for old clients (below microversion 2.36):
security groups and their rules, floating IPs and pools, networks; and the
floating-IP and security-group actions on servers. Each translates to the network
service's own calls and back into Nova's shapes. Nova shows only ingress rules."""

from __future__ import annotations

import ipaddress
import uuid as uuidlib

from overcast.common.errors import BadRequest, Conflict, NotFound
from overcast.compute import errors

NETWORK_FIELDS = ("bridge", "bridge_interface", "broadcast", "cidr", "cidr_v6", "created_at", "deleted",
                  "deleted_at", "dhcp_server", "dhcp_start", "dns1", "dns2", "enable_dhcp", "gateway",
                  "gateway_v6", "host", "injected", "multi_host", "netmask", "netmask_v6", "priority",
                  "project_id", "rxtx_base", "share_address", "updated_at", "vlan", "vpn_private_address",
                  "vpn_public_address", "vpn_public_port", "mtu")


class NetworkProxy:
    def __init__(self, compute):
        self.compute = compute

    @property
    def network(self):
        if self.compute.network_api.network is None:
            raise errors.ComputeUnimplemented("The network service is not running.")
        return self.compute.network_api.network

    # -- networks -------------------------------------------------------------------------

    def networks(self, ctx, tenant: bool = False) -> list[dict]:
        return [self._network(ctx, net, tenant) for net in self.network.networks.list(ctx, {})
                if not tenant or net["project_id"] == ctx.project_id or net["shared"]]

    def network_show(self, ctx, network_id: str, tenant: bool = False) -> dict:
        try:
            return self._network(ctx, self.network.networks.get(ctx, network_id), tenant)
        except NotFound:
            raise errors.ComputeNotFound("Network could not be found.") from None

    def _network(self, ctx, net: dict, tenant: bool) -> dict:
        cidr = None
        for subnet_id in net["subnets"][:1]:
            try:  # an external network's subnets are not every project's to see
                cidr = self.network.subnets.get(ctx, subnet_id)["cidr"]
            except NotFound:
                cidr = None
        if tenant:
            return {"id": net["id"], "label": net["name"], "cidr": cidr}
        return {**{name: None for name in NETWORK_FIELDS}, "id": net["id"], "label": net["name"], "cidr": cidr,
                "mtu": net["mtu"], "project_id": net["project_id"]}

    # -- security groups ----------------------------------------------------------------------

    def group(self, ctx, group: dict, names: dict | None = None) -> dict:
        names = names if names is not None else {}
        return {"id": group["id"], "name": group["name"], "description": group["description"],
                "tenant_id": group["project_id"],
                "rules": [self.rule(ctx, rule, names) for rule in group.get("security_group_rules", [])
                          if rule["direction"] == "ingress"]}

    def rule(self, ctx, rule: dict, names: dict) -> dict:
        protocol = rule.get("protocol")
        low, high = rule.get("port_range_min"), rule.get("port_range_max")
        if protocol and low is None:
            low, high = (1, 65535) if protocol.upper() in ("TCP", "UDP") else (-1, -1)
        group = {}
        if rule.get("remote_group_id"):
            remote = rule["remote_group_id"]
            if remote not in names:
                try:
                    found = self.network.security_groups.get(ctx, remote)
                    names[remote] = (found["name"], found["project_id"])
                except NotFound:
                    names[remote] = (None, None)
            group = {"name": names[remote][0], "tenant_id": names[remote][1]}
        ip_range = {} if rule.get("remote_group_id") else {"cidr": rule.get("remote_ip_prefix") or (
            "::/0" if rule.get("ethertype") == "IPv6" else "0.0.0.0/0")}
        return {"id": rule["id"], "parent_group_id": rule["security_group_id"], "ip_protocol": protocol,
                "from_port": low, "to_port": high, "group": group, "ip_range": ip_range}

    def groups(self, ctx, all_projects: bool = False) -> list[dict]:
        found = self.network.security_groups.list(ctx, {})
        if not (all_projects and ctx.is_admin):
            found = [group for group in found if group["project_id"] == ctx.project_id]
        names = {group["id"]: (group["name"], group["project_id"]) for group in found}
        return [self.group(ctx, group, names) for group in found]

    def get_group(self, ctx, group_id: str) -> dict:
        try:
            uuidlib.UUID(group_id)
        except ValueError:
            raise errors.ComputeInvalid("Security group id should be uuid") from None
        try:
            return self.network.security_groups.get(ctx, group_id)
        except (NotFound, BadRequest):
            raise errors.ComputeNotFound(f"Security group {group_id} not found.") from None

    @staticmethod
    def _check_text(name: str, value) -> str:
        if not isinstance(value, str) or not value.strip() and name == "name" or len(value) > 255:
            raise errors.ComputeInvalid(f"Security group {name} is not a string or unicode")
        return value

    def create_group(self, ctx, body: dict) -> dict:
        values = {"name": self._check_text("name", body.get("name")),
                  "description": self._check_text("description", body.get("description")),
                  "project_id": ctx.project_id}
        try:
            (group,) = self.network.security_groups.create(ctx, [values])
        except Conflict as error:  # Neutron's quota is a 409; Nova says 403
            raise errors.QuotaExceeded(f"Quota exceeded, too many security groups. {error}",
                                       over=["security_groups"]) from None
        return self.group(ctx, group)

    def update_group(self, ctx, group_id: str, body: dict) -> dict:
        self.get_group(ctx, group_id)
        values = {"name": self._check_text("name", body.get("name")),
                  "description": self._check_text("description", body.get("description"))}
        return self.group(ctx, self.network.security_groups.update(ctx, group_id, values))

    def delete_group(self, ctx, group_id: str) -> None:
        self.get_group(ctx, group_id)
        try:
            self.network.security_groups.delete(ctx, group_id)
        except Conflict as error:
            raise errors.ComputeInvalid(str(error)) from None

    def create_rule(self, ctx, body: dict) -> dict:
        parent = self.get_group(ctx, str(body.get("parent_group_id")))
        protocol = body.get("ip_protocol")
        values = {"security_group_id": parent["id"], "direction": "ingress", "project_id": parent["project_id"]}
        if protocol is not None:
            protocol = str(protocol).lower()
            if protocol not in ("tcp", "udp", "icmp") and not (protocol.isdigit() and int(protocol) <= 255):
                raise errors.ComputeInvalid(f"Invalid IP protocol {protocol}.")
            values["protocol"] = protocol
        for key, target in (("from_port", "port_range_min"), ("to_port", "port_range_max")):
            if body.get(key) is not None:
                try:
                    number = int(body[key])
                except (TypeError, ValueError):
                    raise errors.ComputeInvalid(f"Invalid port range {body.get('from_port')}:"
                                                f"{body.get('to_port')}.") from None
                if number != -1:
                    values[target] = number
        low, high = values.get("port_range_min"), values.get("port_range_max")
        if values.get("protocol") in ("tcp", "udp"):
            if low is None or high is None or not 1 <= low <= high <= 65535:
                raise errors.ComputeInvalid(f"Invalid port range {body.get('from_port')}:{body.get('to_port')}. "
                                            "Valid TCP ports should be between 1-65535")
        elif values.get("protocol") == "icmp" and any(v is not None and not 0 <= v <= 255 for v in (low, high)):
            raise errors.ComputeInvalid(f"Invalid port range {body.get('from_port')}:{body.get('to_port')}. "
                                        "For ICMP, the type:code must be valid")
        if body.get("group_id"):
            values["remote_group_id"] = self.get_group(ctx, str(body["group_id"]))["id"]
        else:
            cidr = body.get("cidr") or "0.0.0.0/0"
            try:
                values["ethertype"] = f"IPv{ipaddress.ip_network(cidr, strict=False).version}"
            except ValueError:
                raise errors.ComputeInvalid(f"Invalid cidr {cidr}.") from None
            values["remote_ip_prefix"] = cidr
        try:
            (rule,) = self.network.security_group_rules.create(ctx, [values])
        except Conflict:
            raise errors.ComputeInvalid(f"This rule already exists in group {parent['id']}") from None
        except BadRequest as error:
            raise errors.ComputeInvalid(str(error)) from None
        return self.rule(ctx, rule, {parent["id"]: (parent["name"], parent["project_id"])})

    def delete_rule(self, ctx, rule_id: str) -> None:
        try:
            self.network.security_group_rules.delete(ctx, rule_id)
        except (NotFound, BadRequest):
            raise errors.ComputeNotFound(f"Security group rule {rule_id} could not be found.") from None

    def server_groups(self, ctx, uuid: str) -> list[dict]:
        ids = {group for port in self.network.ports.list_by_device(uuid) for group in port["security_groups"]}
        return [self.group(ctx, self.network.security_groups.get(ctx, group)) for group in sorted(ids)]

    def set_server_group(self, ctx, uuid: str, name: str, add: bool) -> None:
        """Add or remove a group on every port of the server (Nova's add/removeSecurityGroup)."""
        found = [g for g in self.network.security_groups.list(ctx, {})
                 if g["project_id"] == ctx.project_id and (g["name"] == name or g["id"] == name)]
        if not found:
            raise errors.ComputeNotFound(f"Security group {name} not found for project {ctx.project_id}.")
        group_id = found[0]["id"]
        ports = self.network.ports.list_by_device(uuid)
        if not add and not any(group_id in port["security_groups"] for port in ports):
            raise errors.ComputeInvalid(f"Security group {name} not associated with the instance {uuid}")
        for port in ports:
            groups = [g for g in port["security_groups"] if g != group_id] + ([group_id] if add else [])
            self.network.ports.update(ctx, port["id"], {"security_groups": groups})

    # -- floating IPs ----------------------------------------------------------------------------

    def _pools(self, ctx) -> list[dict]:
        return [net for net in self.network.networks.list(ctx, {}) if net["router:external"]]

    def pools(self, ctx) -> list[dict]:
        return [{"name": net["name"]} for net in self._pools(ctx)]

    def floating_ip(self, ctx, fip: dict, pools: dict | None = None) -> dict:
        pools = pools if pools is not None else {net["id"]: net["name"] for net in self._pools(ctx)}
        instance = None
        if fip.get("port_id"):
            try:
                instance = self.network.ports.get(ctx, fip["port_id"]).get("device_id") or None
            except NotFound:
                instance = None
        return {"id": fip["id"], "ip": fip["floating_ip_address"], "fixed_ip": fip.get("fixed_ip_address"),
                "instance_id": instance, "pool": pools.get(fip["floating_network_id"], fip["floating_network_id"])}

    def floating_ips(self, ctx) -> list[dict]:
        pools = {net["id"]: net["name"] for net in self._pools(ctx)}
        return [self.floating_ip(ctx, fip, pools) for fip in self.network.floatingips.list(ctx, {})
                if fip["project_id"] == ctx.project_id]

    def get_floating_ip(self, ctx, fip_id: str) -> dict:
        try:
            return self.floating_ip(ctx, self.network.floatingips.get(ctx, fip_id))
        except (NotFound, BadRequest):
            raise errors.ComputeNotFound(f"Floating IP not found for ID {fip_id}") from None

    def allocate(self, ctx, pool: str | None) -> dict:
        pools = self._pools(ctx)
        chosen = [net for net in pools if pool in (None, net["name"], net["id"])]
        if not chosen:
            raise errors.ComputeNotFound("Floating IP pool not found.")
        try:
            (fip,) = self.network.floatingips.create(ctx, [{"floating_network_id": chosen[0]["id"],
                                                            "project_id": ctx.project_id}])
        except Conflict as error:
            raise errors.QuotaExceeded(f"Maximum number of floating IPs exceeded ({error})",
                                       over=["floating_ips"]) from None
        return self.floating_ip(ctx, fip)

    def release(self, ctx, fip_id: str) -> None:
        self.get_floating_ip(ctx, fip_id)
        self.network.floatingips.delete(ctx, fip_id)

    def _by_address(self, ctx, address: str) -> dict:
        for fip in self.network.floatingips.list(ctx, {}):
            if fip["floating_ip_address"] == address and (ctx.is_admin or fip["project_id"] == ctx.project_id):
                return fip
        raise errors.ComputeNotFound("floating IP not found")

    def associate(self, ctx, uuid: str, address: str, fixed: str | None) -> None:
        fip = self._by_address(ctx, address)
        ports = self.network.ports.list_by_device(uuid)
        if not ports:
            raise errors.ComputeInvalid("No nw_info cache associated with instance")
        for port in ports:
            for ip in port.get("fixed_ips", []):
                if (fixed is None and ipaddress.ip_address(ip["ip_address"]).version == 4) or ip["ip_address"] == fixed:
                    self._update_fip(ctx, fip["id"], {"port_id": port["id"], "fixed_ip_address": ip["ip_address"]})
                    return
        raise errors.ComputeInvalid("Specified fixed address not assigned to instance" if fixed
                                    else "Instance network is not ready yet")

    def disassociate(self, ctx, uuid: str, address: str) -> None:
        fip = self._by_address(ctx, address)
        ports = {port["id"] for port in self.network.ports.list_by_device(uuid)}
        if fip.get("port_id") not in ports:
            raise errors.ComputeConflict(f"Floating IP {address} is not associated with instance {uuid}.")
        self._update_fip(ctx, fip["id"], {"port_id": None})

    def _update_fip(self, ctx, fip_id: str, values: dict) -> None:
        try:
            self.network.floatingips.update(ctx, fip_id, values)
        except NotFound as error:
            raise errors.ComputeInvalid(str(error)) from None
        except Conflict as error:  # Nova answers the network service's 409 with a 400
            raise errors.ComputeInvalid(f"Error. Unable to associate floating IP: {error}") from None
