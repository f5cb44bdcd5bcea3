"""The iptables rules of one port's filter, as ``iptables-restore`` lines (no I/O here).

Each filtered port gets three chains per address family, named ``<prefix>-i<port10>``
(ingress: what may reach the guest), ``<prefix>-o<port10>`` (egress: what the guest may
send) and ``<prefix>-s<port10>`` (anti-spoofing: the guest's MAC/address pairs). A chain
RETURNs what it allows, so a packet between two filtered guests passes the sender's
egress chain, then the receiver's ingress chain, and is ACCEPTed by the driver's top
chain only after both; anything not allowed is DROPped in the chain (default deny).

The layout follows what Neutron's iptables firewall does (learned from its behaviour,
not copied): DHCP client traffic goes out before the anti-spoofing check (a client has
no address yet), a guest may not answer as a DHCP server nor send IPv6 router
advertisements, neighbour discovery passes both ways, and conntrack lets replies of
allowed connections in (ESTABLISHED/RELATED) and drops INVALID packets, unless the
filter is stateless.
"""

from __future__ import annotations

import dataclasses
import ipaddress

from overcast.network.drivers.base import FilterRule, PortFilter

#: Neutron's protocol names, as numbers (the host may have no /etc/protocols)
PROTOCOLS = {"ah": 51, "dccp": 33, "egp": 8, "esp": 50, "gre": 47, "icmp": 1, "icmpv6": 58, "igmp": 2,
             "ipip": 4, "ipv6-encap": 41, "ipv6-frag": 44, "ipv6-icmp": 58, "ipv6-nonxt": 59,
             "ipv6-opts": 60, "ipv6-route": 43, "ospf": 89, "pgm": 113, "rsvp": 46, "sctp": 132,
             "tcp": 6, "udp": 17, "udplite": 136, "vrrp": 112}
#: protocols whose rules may carry a destination port range, and the match that reads it
PORT_MATCHES = {6: "-m tcp", 17: "-m udp", 33: "-m multiport", 132: "-m multiport", 136: "-m multiport"}
#: ICMPv6 types a guest may send and receive: MLD (130-132, 143), router solicitation
#: (133, out only), router advertisement (134, in only), neighbour solicitation and advert
ND_OUT = (130, 131, 132, 133, 135, 136, 143)
ND_IN = (130, 131, 132, 134, 135, 136, 143)
RA = 134


def chain(prefix: str, kind: str, port_id: str) -> str:
    """A port chain's name: kind ``i`` (ingress), ``o`` (egress) or ``s`` (spoofing)."""
    return f"{prefix}-{kind}{port_id[:10]}"


def port_chains(prefix: str, port_id: str) -> list[str]:
    return [chain(prefix, kind, port_id) for kind in "ios"]


def protocol_number(protocol: str | None, version: int) -> int | None:
    """A rule's protocol as a number; None for any. ``icmp`` in an IPv6 rule is ICMPv6,
    as Neutron reads it."""
    if protocol in (None, "", "any"):
        return None
    number = int(protocol) if str(protocol).isdigit() else PROTOCOLS.get(str(protocol).lower())
    if number is None:
        raise ValueError(f"unknown protocol {protocol!r}")
    if version == 6 and number == 1:
        return 58
    return number


def link_local(mac: str) -> str:
    """The IPv6 link-local address a guest derives from its MAC (EUI-64)."""
    octets = [int(part, 16) for part in mac.split(":")]
    octets[0] ^= 0x02
    eui = octets[:3] + [0xFF, 0xFE] + octets[3:]
    return str(ipaddress.IPv6Address(bytes([0xFE, 0x80] + [0] * 6 + eui)))


def _version(address: str) -> int:
    return ipaddress.ip_network(address, strict=False).version


def _icmp_match(number: int, rule: FilterRule) -> str:
    if rule.port_range_min is None:
        return ""
    kind = f"{rule.port_range_min}" + (f"/{rule.port_range_max}" if rule.port_range_max is not None else "")
    return f" -m icmp --icmp-type {kind}" if number == 1 else f" -m icmp6 --icmpv6-type {kind}"


def _port_match(number: int, rule: FilterRule) -> str:
    if rule.port_range_min is None and rule.port_range_max is None:
        return ""
    low = rule.port_range_min if rule.port_range_min is not None else rule.port_range_max
    high = rule.port_range_max if rule.port_range_max is not None else low
    ports = str(low) if low == high else f"{low}:{high}"
    return f" {PORT_MATCHES[number]} --dport{'s' if 'multiport' in PORT_MATCHES[number] else ''} {ports}"


def rule_lines(name: str, rule: FilterRule, version: int) -> list[str]:
    """The RETURN lines of one security group rule in chain ``name`` (none when the rule
    is of the other address family, or names only remote prefixes of the other one)."""
    if rule.ethertype != f"IPv{version}":
        return []
    match = ""
    number = protocol_number(rule.protocol, version)
    if number is not None:
        match = f" -p {number}"
        if number in (1, 58):
            match += _icmp_match(number, rule)
        elif number in PORT_MATCHES:
            match += _port_match(number, rule)
    if not rule.remote_ip_prefixes:
        return [f"-A {name}{match} -j RETURN"]
    side = "-s" if rule.direction == "ingress" else "-d"
    return [f"-A {name} {side} {prefix}{match} -j RETURN"
            for prefix in rule.remote_ip_prefixes if _version(prefix) == version]


def _types(name: str, version: int, types: tuple[int, ...], target: str, extra: str = "") -> list[str]:
    proto = "1 -m icmp --icmp-type" if version == 4 else "58 -m icmp6 --icmpv6-type"
    return [f"-A {name}{extra} -p {proto} {kind} -j {target}" for kind in types]


def spoof_lines(prefix: str, port_id: str, mac: str, port_filter: PortFilter, version: int) -> list[str]:
    """The anti-spoofing chain: RETURN for each allowed (address, MAC) pair, else DROP."""
    name = chain(prefix, "s", port_id)
    pairs = [(item["ip_address"], item.get("mac_address") or mac) for item in port_filter.allowed_addresses]
    if version == 6:
        pairs += [(link_local(pair_mac), pair_mac) for pair_mac in sorted({mac, *(m for _, m in pairs)})]
    lines = []
    for address, pair_mac in dict.fromkeys(pairs):
        if _version(address) == version:
            lines.append(f"-A {name} -s {address} -m mac --mac-source {pair_mac} -j RETURN")
    return lines + [f"-A {name} -j DROP"]


def _conntrack(name: str, stateful: bool) -> list[str]:
    if not stateful:
        return []
    return [f"-A {name} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN",
            f"-A {name} -m conntrack --ctstate INVALID -j DROP"]


def egress_lines(prefix: str, port_id: str, mac: str, port_filter: PortFilter, version: int) -> list[str]:
    name, spoof = chain(prefix, "o", port_id), chain(prefix, "s", port_id)
    if version == 4:
        lines = [f"-A {name} -s 0.0.0.0/32 -d 255.255.255.255/32 -p 17 -m udp --sport 68 --dport 67 "
                 f"-m mac --mac-source {mac} -j RETURN",
                 f"-A {name} -j {spoof}",
                 f"-A {name} -p 17 -m udp --sport 68 --dport 67 -j RETURN",
                 f"-A {name} -p 17 -m udp --sport 67 --dport 68 -j DROP"]
    else:  # before it has an address, a guest does duplicate address detection and MLD from ::
        lines = _types(name, 6, (131, 135, 143), "RETURN", f" -s ::/128 -m mac --mac-source {mac}")
        lines += [f"-A {name} -j {spoof}", *_types(name, 6, (RA,), "DROP"), *_types(name, 6, ND_OUT, "RETURN"),
                  f"-A {name} -p 17 -m udp --sport 546 --dport 547 -j RETURN",
                  f"-A {name} -p 17 -m udp --sport 547 --dport 546 -j DROP"]
    lines += _conntrack(name, port_filter.stateful)
    for rule in port_filter.rules:
        if rule.direction == "egress":
            lines += rule_lines(name, rule, version)
    return lines + [f"-A {name} -j DROP"]


def ingress_lines(prefix: str, port_id: str, port_filter: PortFilter, version: int) -> list[str]:
    name = chain(prefix, "i", port_id)
    if version == 4:
        lines = [f"-A {name} -p 17 -m udp --sport 67 --dport 68 -j RETURN"]
    else:
        lines = [*_types(name, 6, ND_IN, "RETURN"), f"-A {name} -p 17 -m udp --sport 547 --dport 546 -j RETURN"]
    lines += _conntrack(name, port_filter.stateful)
    for rule in port_filter.rules:
        if rule.direction == "ingress":
            lines += rule_lines(name, rule, version)
    return lines + [f"-A {name} -j DROP"]


def port_lines(prefix: str, port_filter: PortFilter, mac: str, version: int) -> list[str]:
    """All the rules of a port's three chains (the chains are declared by the caller)."""
    port_id = port_filter.port_id
    return [*ingress_lines(prefix, port_id, port_filter, version),
            *egress_lines(prefix, port_id, mac, port_filter, version),
            *spoof_lines(prefix, port_id, mac, port_filter, version)]


def mac_lines(prefix: str, port_id: str, mac: str, port_filter: PortFilter) -> list[str]:
    """The port's ``ebtables`` chain (``<prefix>-a<port10>`` in the nat table): what
    iptables never sees. ARP only for the port's IPv4 addresses with their MACs (and the
    ``0.0.0.0`` of an address probe), frames only from the port's MACs."""
    name = chain(prefix, "a", port_id)
    pairs = [(item["ip_address"], item.get("mac_address") or mac) for item in port_filter.allowed_addresses]
    pairs = [(address, pair_mac) for address, pair_mac in pairs if _version(address) == 4] + [("0.0.0.0", mac)]
    lines = [f"-A {name} -p ARP -s {pair_mac} --arp-mac-src {pair_mac} --arp-ip-src {address} -j RETURN"
             for address, pair_mac in dict.fromkeys(pairs)]
    lines.append(f"-A {name} -p ARP -j DROP")
    macs = dict.fromkeys([mac, *(pair_mac for _, pair_mac in pairs)])
    return lines + [f"-A {name} -s {pair_mac} -j RETURN" for pair_mac in macs] + [f"-A {name} -j DROP"]


def _expanded(rules: list[FilterRule]) -> dict[tuple, None]:
    """Rules as (rule without its prefixes, one prefix or None) items, so a remote group
    that gains or loses a member changes only that member's item."""
    items: dict[tuple, None] = {}
    for rule in rules:
        bare = dataclasses.replace(rule, remote_ip_prefixes=())
        for prefix in rule.remote_ip_prefixes or (None,):
            items[(bare, prefix)] = None
    return items


def conntrack_deletions(old: list[FilterRule], new: list[FilterRule], addresses: list[str],
                        zone: int) -> list[list[str]]:
    """``conntrack -D`` commands that end the tracked connections of what ``new`` no
    longer allows of ``old``, as Neutron does: without them, a connection a removed rule
    let in would go on as ESTABLISHED. Each is narrowed to one of the port's addresses,
    its conntrack zone and what the rule names (protocol, a single port, the remote
    prefix); whatever else one catches that is still allowed is simply tracked again."""
    commands = []
    kept = _expanded(new)
    for rule, remote in (item for item in _expanded(old) if item not in kept):
        version = 6 if rule.ethertype == "IPv6" else 4
        if remote and _version(remote) != version:
            continue
        number = protocol_number(rule.protocol, version)
        match = ["-p", str(number)] if number is not None else []
        if number in PORT_MATCHES and rule.port_range_min is not None and rule.port_range_min == rule.port_range_max:
            match += ["--dport", str(rule.port_range_min)]
        ours, theirs = ("-d", "-s") if rule.direction == "ingress" else ("-s", "-d")
        for address in addresses:
            if _version(address) == version and "/" not in address:
                commands.append(["conntrack", "-D", "-f", f"ipv{version}", "-w", str(zone), *match,
                                 ours, address, *([theirs, remote] if remote else [])])
    return commands
