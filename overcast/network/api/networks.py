"""/v2.0/networks"""

from __future__ import annotations

from overcast.network.api.attributes import (STANDARD, Attr, anything, boolean, integer, list_of, one_of,
                                             string)
from overcast.network.api.controller import Resource

ATTRS = {
    **STANDARD,
    "admin_state_up": Attr(boolean, default=True),
    "shared": Attr(boolean, default=False, policy=True),
    "router:external": Attr(boolean, default=False, policy=True),
    "is_default": Attr(boolean, default=False, policy=True),
    "mtu": Attr(integer(68, 9216, nullable=True)),
    "port_security_enabled": Attr(boolean, default=True, policy=True),
    "dns_domain": Attr(string(255), default=""),
    "availability_zone_hints": Attr(list_of(string(255)), put=False, default=[]),
    "provider:network_type": Attr(one_of("vxlan", "flat", "local", "vlan", "gre", "geneve", nullable=True),
                                  policy=True),
    "provider:physical_network": Attr(string(64, nullable=True), policy=True),
    "provider:segmentation_id": Attr(integer(1, 16777215, nullable=True), policy=True),
    "segments": Attr(anything, post=False, put=False, policy=True),
    # read-only attributes, listed so sorting and fields know them
    "status": Attr(post=False, put=False),
    "subnets": Attr(post=False, put=False),
    "availability_zones": Attr(post=False, put=False),
}

RESOURCE = Resource("network", "networks", ATTRS, "networks")
