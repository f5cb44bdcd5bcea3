"""/v2.0/security-group-rules (rules are created and deleted, never updated)."""

from __future__ import annotations

from overcast.network.api.attributes import REQUIRED, Attr, one_of, string, uuid_value
from overcast.network.api.controller import Resource
from overcast.network.service.rule_checks import convert_ethertype, convert_port, convert_prefix, convert_protocol

ATTRS = {
    "security_group_id": Attr(uuid_value(), put=False, default=REQUIRED),
    "direction": Attr(one_of("ingress", "egress"), put=False, default=REQUIRED),
    "ethertype": Attr(convert_ethertype, put=False, default="IPv4"),
    "protocol": Attr(convert_protocol, put=False, default=None),
    "port_range_min": Attr(convert_port, put=False, default=None),
    "port_range_max": Attr(convert_port, put=False, default=None),
    "remote_ip_prefix": Attr(convert_prefix, put=False, default=None),
    "remote_group_id": Attr(string(255, nullable=True), put=False, default=None),  # unknown ids: 404
    "description": Attr(string(255), put=False, default=""),
}

RESOURCE = Resource("security_group_rule", "security_group_rules", ATTRS, "security_group_rules",
                    path="/v2.0/security-group-rules")
