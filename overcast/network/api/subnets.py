"""/v2.0/subnets"""

from __future__ import annotations

import ipaddress

from overcast.network.api.attributes import (REQUIRED, STANDARD, Attr, boolean, integer, invalid, ip_address,
                                             one_of, uuid_value)
from overcast.network.api.controller import Resource

IPV6_MODES = ("slaac", "dhcpv6-stateful", "dhcpv6-stateless")


def ip_version(name, value):
    number = integer()(name, value)
    if number not in (4, 6):
        raise invalid(name, f"{number} is not in [4, 6]")
    return number


def subnet_cidr(name, value):
    """A CIDR as Neutron wants it: network address, no host bits set."""
    try:
        if not isinstance(value, str) or "/" not in value:
            raise ValueError
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise invalid(name, f"'{value}' is not a valid IP subnet") from None
    if ipaddress.ip_address(value.split("/")[0]) != network.network_address:
        raise invalid(name, f"'{value}' isn't a recognized IP subnet cidr, '{network}' is recommended")
    return str(network)


def dict_list(name, value):
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise invalid(name, f"'{value}' is not a list of dictionaries")
    return value


def pool_list(name, value):
    """Allocation pools; null asks for the default ones, [] for none."""
    return None if value is None else dict_list(name, value)


def nameservers(name, value):
    if value is None:
        return []
    if not isinstance(value, list):
        raise invalid(name, f"'{value}' is not a list")
    for item in value:
        ip_address()(name, item)
    return value


ATTRS = {
    **STANDARD,
    "network_id": Attr(uuid_value(), put=False, default=REQUIRED),
    "ip_version": Attr(ip_version, put=False, default=REQUIRED),
    "cidr": Attr(subnet_cidr, put=False),
    "prefixlen": Attr(integer(0, 128), put=False),
    "subnetpool_id": Attr(uuid_value(nullable=True), put=False),
    "use_default_subnetpool": Attr(boolean, put=False),
    "gateway_ip": Attr(ip_address(nullable=True)),
    "allocation_pools": Attr(pool_list),
    "dns_nameservers": Attr(nameservers, default=[]),
    "host_routes": Attr(dict_list, default=[]),
    "enable_dhcp": Attr(boolean, default=True),
    "ipv6_ra_mode": Attr(one_of(*IPV6_MODES, nullable=True), put=False),
    "ipv6_address_mode": Attr(one_of(*IPV6_MODES, nullable=True), put=False),
    "segment_id": Attr(uuid_value(nullable=True), policy=True),
}

RESOURCE = Resource("subnet", "subnets", ATTRS, "subnets")
