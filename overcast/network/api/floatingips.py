"""/v2.0/floatingips"""

from __future__ import annotations

from overcast.network.api.attributes import REQUIRED, Attr, ip_address, string, uuid_value
from overcast.network.api.controller import Resource

ATTRS = {
    "description": Attr(string(255), default=""),
    "floating_network_id": Attr(uuid_value(), put=False, default=REQUIRED),
    "floating_ip_address": Attr(ip_address(nullable=True), put=False, policy=True),
    "subnet_id": Attr(uuid_value(nullable=True), put=False),
    "port_id": Attr(uuid_value(nullable=True), default=None),
    "fixed_ip_address": Attr(ip_address(nullable=True)),
    "router_id": Attr(post=False, put=False),
    "status": Attr(post=False, put=False),
}

RESOURCE = Resource("floatingip", "floatingips", ATTRS, "floatingips")
