"""/v2.0/ports. Besides the attribute rules of the generic controller, a port checks
Neutron's ``create_port:fixed_ips:ip_address`` (and ``update_``) rule when a fixed IP
names its address."""

from __future__ import annotations

from overcast.network.api.attributes import (REQUIRED, STANDARD, Attr, boolean, dict_value, list_of, one_of,
                                             string, uuid_value)
from overcast.network.api.controller import Resource, guarded, target
from overcast.network.api.subnets import dict_list
from overcast.network.errors import PolicyNotAuthorized
from overcast.network.service.port_values import VNIC_TYPES


def nullable_dict(name, value):
    return {} if value is None else dict_value(name, value)


ATTRS = {
    **STANDARD,
    "network_id": Attr(uuid_value(), put=False, default=REQUIRED),
    "admin_state_up": Attr(boolean, default=True),
    "mac_address": Attr(string(32), policy=True),
    "fixed_ips": Attr(dict_list),
    "device_id": Attr(string(255, nullable=True), default=""),
    "device_owner": Attr(string(255, nullable=True), default="", policy=True),
    "security_groups": Attr(list_of(uuid_value())),
    "port_security_enabled": Attr(boolean, policy=True),
    "allowed_address_pairs": Attr(dict_list, policy=True),
    "extra_dhcp_opts": Attr(dict_list),
    "dns_name": Attr(string(255, nullable=True)),
    "binding:host_id": Attr(string(255, nullable=True), policy=True),
    "binding:vnic_type": Attr(one_of(*VNIC_TYPES), policy=True),
    "binding:profile": Attr(nullable_dict, policy=True),
    "binding:vif_type": Attr(post=False, put=False, policy=True),
    "binding:vif_details": Attr(post=False, put=False, policy=True),
    "status": Attr(post=False, put=False),
}


class PortResource(Resource):
    def check_attributes(self, req, action: str, values: dict, base: dict, update: bool) -> None:
        super().check_attributes(req, action, values, base, update)
        rule = f"{action}_port:fixed_ips:ip_address"
        asked = [ip for ip in values.get("fixed_ips") or [] if isinstance(ip, dict) and ip.get("ip_address")]
        if asked and guarded(req, rule) and not req.allowed(target({**base, **values}), rule):
            raise PolicyNotAuthorized(rule=rule)


RESOURCE = PortResource("port", "ports", ATTRS, "ports")
