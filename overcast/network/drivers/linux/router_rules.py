"""A router namespace's iptables tables, written whole (``iptables-restore``).

The namespace belongs to the router alone, so its built-in chains hold its rules
directly and every sync replaces the ``filter`` and ``nat`` tables whole, each in one
atomic step (``COMMIT``): a repeated sync writes the same text, a failed restore leaves
the old rules of the table it failed in (and the router's sync puts the rest back).

- Floating IPs (1:1 NAT): traffic to the floating address is DNATed onto the fixed IP
  (``PREROUTING``, and ``OUTPUT`` for the namespace itself); traffic from the fixed IP
  leaving by the gateway leg is SNATed to the floating address, before the router's
  general SNAT so a port with a floating IP is seen with it. A guest reaching another
  guest's floating IP from inside (hairpin) is SNATed to the router's leg address, so the
  answer comes back through the router and is un-NATed.
- Port forwardings: traffic to one protocol port of a floating IP is DNATed onto the
  internal address and port (``PREROUTING`` and ``OUTPUT``); the answers are un-NATed by
  conntrack, and the internal address goes out otherwise as any other (the router's
  SNAT). A guest reaching a forwarded port from inside goes through the hairpin SNAT.
  ``tcp``, ``udp`` and ``dccp``: iptables cannot DNAT ``udplite`` to a port, so such a
  forwarding is left out (logged).
- SNAT (``snat`` on): the internal subnets leaving by the gateway leg take the gateway
  address.
- Connections NATed by what the spec no longer has (a floating IP removed or moved, SNAT
  turned off) stop at once instead of living on in conntrack: ``FORWARD`` sends NATed
  traffic through the ``nat-check`` chain, which lets through only the connections of a
  current floating IP pair or of the current gateway address, and drops the rest.
- ``admin_state_up`` False: ``FORWARD`` drops everything (forwarding is off too).

IPv4 only: Neutron has no IPv6 NAT; IPv6 legs are routed (forwarding on). The
namespace's ``ip6tables`` hold one rule: DHCPv6 requests to the router are dropped (its
router advertisements' dnsmasq would answer them; the network's DHCP namespace does).
"""

from __future__ import annotations

import ipaddress
import logging

from overcast.network.drivers.base import ForwardingSpec, RouterSpec

log = logging.getLogger("overcast.network.linux")
#: the protocols a port forwarding can be DNATed for (iptables needs the port's protocol module)
FORWARDED = ("tcp", "udp", "dccp")


def is_v4(address: str) -> bool:
    return ipaddress.ip_interface(address).version == 4


def tables(spec: RouterSpec, gateway_dev: str | None, leg_devs: dict[str, str]) -> str:
    """The ``iptables-restore`` text for the router. ``leg_devs``: port id -> inner device."""
    nat = [*_floating(spec, gateway_dev), *_forwarding(spec, gateway_dev), *_hairpin(spec, leg_devs),
           *_snat(spec, gateway_dev)]
    forward = "ACCEPT" if spec.admin_state_up else "DROP"
    lines = ["*filter", ":INPUT ACCEPT [0:0]", f":FORWARD {forward} [0:0]", ":OUTPUT ACCEPT [0:0]",
             ":nat-check - [0:0]", *_nat_check(spec), "COMMIT",
             "*nat", ":PREROUTING ACCEPT [0:0]", ":INPUT ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]",
             ":POSTROUTING ACCEPT [0:0]", *nat, "COMMIT"]
    return "\n".join(lines) + "\n"


def tables6() -> str:
    """The ``ip6tables-restore`` text for the router (the same for every router)."""
    return "\n".join(["*filter", ":INPUT ACCEPT [0:0]", ":FORWARD ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]",
                      "-A INPUT -i qr-+ -p udp -m udp --dport 547 -j DROP", "COMMIT"]) + "\n"


def _nat_check(spec: RouterSpec) -> list[str]:
    rules = ["-A FORWARD -m conntrack --ctstate DNAT,SNAT -j nat-check"]
    for floating in sorted(spec.floating_ips, key=lambda f: f.floating_ip):
        fip, fixed = floating.floating_ip, floating.fixed_ip
        rules += [f"-A nat-check -m conntrack --ctorigdst {fip} --ctreplsrc {fixed} -j RETURN",
                  f"-A nat-check -m conntrack --ctorigsrc {fixed} --ctrepldst {fip} -j RETURN"]
    for pf in forwardings(spec):
        rules.append(f"-A nat-check -p {pf.protocol} -m conntrack --ctorigdst {pf.floating_ip} --ctreplsrc "
                     f"{pf.internal_ip} --ctorigdstport {pf.external_port} --ctreplsrcport {pf.internal_port} "
                     "-j RETURN")
    if spec.snat and spec.gateway and is_v4(spec.gateway.ip_address):
        rules.append(f"-A nat-check -m conntrack --ctrepldst {spec.gateway.ip_address} -j RETURN")
    return [*rules, "-A nat-check -j DROP"]


def _floating(spec: RouterSpec, gateway_dev: str | None) -> list[str]:
    if gateway_dev is None:
        return []
    rules = []
    for floating in sorted(spec.floating_ips, key=lambda f: f.floating_ip):
        fip, fixed = floating.floating_ip, floating.fixed_ip
        rules += [f"-A PREROUTING -d {fip}/32 -j DNAT --to-destination {fixed}",
                  f"-A OUTPUT -d {fip}/32 -j DNAT --to-destination {fixed}"]
    for floating in sorted(spec.floating_ips, key=lambda f: f.floating_ip):
        rules.append(f"-A POSTROUTING -s {floating.fixed_ip}/32 -o {gateway_dev} -j SNAT "
                     f"--to-source {floating.floating_ip}")
    return rules


def forwardings(spec: RouterSpec) -> list[ForwardingSpec]:
    """The router's port forwardings that iptables can make, in a stable order."""
    return [pf for pf in sorted(spec.port_forwardings, key=lambda f: (f.floating_ip, f.protocol, f.external_port))
            if pf.protocol in FORWARDED and is_v4(pf.floating_ip) and is_v4(pf.internal_ip)]


def _forwarding(spec: RouterSpec, gateway_dev: str | None) -> list[str]:
    if gateway_dev is None:
        return []
    for pf in set(spec.port_forwardings) - set(forwardings(spec)):
        log.warning("router %s: port forwarding %s %s:%s -> %s:%s cannot be made with iptables, left out",
                    spec.id, pf.protocol, pf.floating_ip, pf.external_port, pf.internal_ip, pf.internal_port)
    rules = []
    for pf in forwardings(spec):
        match = f"-d {pf.floating_ip}/32 -p {pf.protocol} -m {pf.protocol} --dport {pf.external_port}"
        target = f"-j DNAT --to-destination {pf.internal_ip}:{pf.internal_port}"
        rules += [f"-A PREROUTING {match} {target}", f"-A OUTPUT {match} {target}"]
    return rules


def _hairpin(spec: RouterSpec, leg_devs: dict[str, str]) -> list[str]:
    """Guest -> a floating IP DNATed back onto the same leg: source becomes the leg's address."""
    if not spec.floating_ips and not spec.port_forwardings:
        return []
    return [f"-A POSTROUTING -s {leg.cidr} -o {leg_devs[leg.port_id]} -m conntrack --ctstate DNAT "
            f"-j SNAT --to-source {leg.ip_address}"
            for leg in spec.legs if is_v4(leg.ip_address) and leg.port_id in leg_devs]


def _snat(spec: RouterSpec, gateway_dev: str | None) -> list[str]:
    if gateway_dev is None or not spec.snat or spec.gateway is None or not is_v4(spec.gateway.ip_address):
        return []
    cidrs = sorted({str(ipaddress.ip_network(leg.cidr, strict=False)) for leg in spec.legs if is_v4(leg.ip_address)})
    return [f"-A POSTROUTING -s {cidr} -o {gateway_dev} -j SNAT --to-source {spec.gateway.ip_address}"
            for cidr in cidrs]
