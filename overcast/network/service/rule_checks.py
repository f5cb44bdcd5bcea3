"""What makes a security group rule valid, and when two rules are the same, as Neutron
decides it: protocols by name or number (0-255), ports only for the port protocols
(min <= max, never 0), ICMP type and code 0-255, ethertypes matching the remote prefix
and the protocol (IPv6-only protocols refuse IPv4), and a key that compares rules
whatever spelling of a protocol or of "anywhere" they use."""

from __future__ import annotations

import ipaddress

from overcast.network import errors

# IANA protocol numbers of the names Neutron accepts
PROTOCOLS = {"ah": 51, "dccp": 33, "egp": 8, "esp": 50, "gre": 47, "hopopt": 0, "icmp": 1, "igmp": 2, "ip": 0,
             "ipip": 4, "ipv6-encap": 41, "ipv6-frag": 44, "ipv6-icmp": 58, "icmpv6": 58, "ipv6-nonxt": 59,
             "ipv6-opts": 60, "ipv6-route": 43, "ospf": 89, "pgm": 113, "rsvp": 46, "sctp": 132, "tcp": 6,
             "udp": 17, "udplite": 136, "vrrp": 112}
NAMES = {number: name for name, number in PROTOCOLS.items() if name not in ("ip", "icmpv6")}
ANY = ("any",)
PORT_PROTOCOLS = ("tcp", "udp", "dccp", "sctp", "udplite")
PORT_NUMBERS = tuple(PROTOCOLS[name] for name in PORT_PROTOCOLS)
ICMP_NUMBERS = (1, 58)
IPV6_ONLY = ("ipv6-encap", "ipv6-frag", "ipv6-icmp", "icmpv6", "ipv6-nonxt", "ipv6-opts", "ipv6-route",
             *(str(PROTOCOLS[name]) for name in ("ipv6-encap", "ipv6-frag", "ipv6-icmp", "ipv6-nonxt", "ipv6-opts",
                                                 "ipv6-route")))
ETHERTYPES = ("IPv4", "IPv6")


def convert_protocol(name, value):
    """An API value as Neutron stores it: None for any, a lower-case name, or a number as a string."""
    if value is None or (isinstance(value, str) and value.lower() in ANY):
        return None
    supported = [None, *PROTOCOLS]
    if isinstance(value, bool):
        raise errors.SecurityGroupRuleInvalidProtocol(protocol=value, values=supported)
    try:
        number = int(value)
    except (TypeError, ValueError):
        if isinstance(value, str) and value.lower() in PROTOCOLS:
            return value.lower()
        raise errors.SecurityGroupRuleInvalidProtocol(protocol=value, values=supported) from None
    if isinstance(value, float) or not 0 <= number <= 255:
        raise errors.SecurityGroupRuleInvalidProtocol(protocol=value, values=supported)
    return str(number)


def convert_port(name, value):
    """A port (or ICMP type/code) value: None or an integer 0-65535."""
    if value is None:
        return None
    try:
        if isinstance(value, (bool, float)):
            raise ValueError
        number = int(value)
    except (TypeError, ValueError):
        raise errors.SecurityGroupInvalidPortValue(port=value) from None
    if not 0 <= number <= 65535:
        raise errors.SecurityGroupInvalidPortValue(port=value)
    return number


def convert_ethertype(name, value):
    if isinstance(value, str):
        for known in ETHERTYPES:
            if known.lower() == value.lower():
                return known
    raise errors.HTTPBadRequest(f"Invalid input for {name}. Reason: '{value}' is not in {list(ETHERTYPES)}.")


def convert_prefix(name, value):
    """A remote prefix with its mask always written out (10.0.0.1 -> 10.0.0.1/32)."""
    if value is None or value == "":
        return None
    try:
        if not isinstance(value, str):
            raise ValueError
        return str(ipaddress.ip_interface(value))
    except ValueError:
        raise errors.InvalidCIDR(input=value) from None


def number(protocol: str | None) -> int | None:
    if protocol is None:
        return None
    return PROTOCOLS[protocol] if protocol in PROTOCOLS else int(protocol)


def canonical(rule: dict) -> None:
    """IPv6 rules say ICMP as 'ipv6-icmp' (and 58), as Neutron rewrites legacy spellings."""
    if rule.get("ethertype") == "IPv6":
        if rule.get("protocol") in ("icmp", "icmpv6"):
            rule["protocol"] = "ipv6-icmp"
        elif rule.get("protocol") == "1":
            rule["protocol"] = "58"


def check_ports(rule: dict) -> None:
    low, high, protocol = rule.get("port_range_min"), rule.get("port_range_max"), rule.get("protocol")
    if low is None and high is None:
        return
    if not protocol:
        raise errors.SecurityGroupProtocolRequiredWithPorts()
    proto = number(protocol)
    if proto in PORT_NUMBERS:
        if low == 0 or high == 0:
            raise errors.SecurityGroupInvalidPortValue(port=0)
        if low is None or high is None or low > high:
            raise errors.SecurityGroupInvalidPortRange()
    elif proto in ICMP_NUMBERS:
        for attr, field, value in (("port_range_min", "type", low), ("port_range_max", "code", high)):
            if value is not None and not 0 <= value <= 255:
                raise errors.SecurityGroupInvalidIcmpValue(field=field, attr=attr, value=value)
        if low is None and high is not None:
            raise errors.SecurityGroupMissingIcmpType(value=high)
    else:
        raise errors.SecurityGroupInvalidProtocolForPort(
            protocol=proto, valid_port_protocols=", ".join(name.upper() for name in PORT_PROTOCOLS))


def check_prefix(rule: dict) -> None:
    prefix = rule.get("remote_ip_prefix")
    if prefix and rule["ethertype"] != f"IPv{ipaddress.ip_interface(prefix).version}":
        raise errors.SecurityGroupRuleParameterConflict(ethertype=rule["ethertype"], cidr=prefix)


def check_ethertype(rule: dict) -> None:
    if rule.get("protocol") in IPV6_ONLY and rule["ethertype"] == "IPv4":
        raise errors.SecurityGroupEthertypeConflictWithProtocol(ethertype=rule["ethertype"],
                                                                protocol=rule["protocol"])


def validate(rule: dict) -> None:
    """Neutron's checks of one new rule, in its order (existence checks are the caller's)."""
    canonical(rule)
    check_ports(rule)
    check_prefix(rule)
    check_ethertype(rule)
    if rule.get("remote_ip_prefix") and rule.get("remote_group_id"):
        raise errors.SecurityGroupRemoteGroupAndRemoteIpPrefix()


def key(rule: dict) -> tuple:
    """What makes two rules the same: protocol by number, 'anywhere' prefixes as none."""
    prefix = rule.get("remote_ip_prefix")
    if prefix in ("0.0.0.0/0", "::/0"):
        prefix = None
    protocol = rule.get("protocol")
    if protocol is not None:
        protocol = str(number(protocol))
    return (rule.get("security_group_id"), rule.get("direction"), rule.get("ethertype"), protocol,
            rule.get("port_range_min"), rule.get("port_range_max"), rule.get("remote_group_id"), prefix,
            rule.get("remote_address_group_id"))
