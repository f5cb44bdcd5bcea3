"""Routers: a ``qrouter-<id>`` namespace per router, its legs, routes and NAT.

A router is a namespace with forwarding on. Each internal port is a leg ``qr-<port>``
(``Bridges.plug_leg``) holding the port's addresses on its network's bridge; the gateway
port is ``qg-<port>`` on the external network's bridge (a flat network on a mapped
physical network: ``br-ex``) holding the gateway address, the floating IPs (``/32``)
and the default route via the external subnet's gateway. Static routes go in the
namespace's main table; NAT and the forward policy are written whole by
:mod:`.router_rules`. IPv6 legs are routed, never NATed, and advertise their prefixes as
their subnets' ``ipv6_ra_mode`` says (:mod:`.router_ads`).

Sync is declarative: legs, addresses and routes that the spec no longer has go, the
tables are replaced atomically (the same text again on a repeated sync), and what is
already right is left alone. The spec is checked first (floating IPs need a gateway, and
a leg holding their fixed IP), so a bad one raises before anything changes; when a
command fails midway, a fresh router is removed again and a known one gets its last
applied spec back.

Which routers exist: ``STATE/routers/<id>`` files (the last applied spec, ``{}`` while
the router is first made), written before the namespace is made and removed after it is
gone, so another cloud's ``qrouter-`` namespaces on the same machine are never taken for
ours. Which legs a router has is read from its namespace: the inner ends
``qr-``/``qg-<port>`` name their host ends ``tap<port>``.

A floating IP new on the gateway leg (associated, or moved here from another router) is
announced with gratuitous ARP (:mod:`.garp`), so the host and the other routers on the
external network send to this leg's MAC at once.

The host and the floating IPs: when the gateway sits on a mapped bridge, that bridge gets
the external subnet's gateway address (``172.24.4.1/24`` on ``br-ex``, as DevStack does),
so this host, and only it, reaches the floating IPs. Nothing is forwarded or NATed on the
host; a bridge with a physical NIC in it is left alone (its gateway is out on the wire),
and so is an external subnet that overlaps a network the host already reaches another
way (its uplink's, say).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import logging
import os
from pathlib import Path

from overcast.network.drivers.base import NETWORK_TYPES, FloatingSpec, ForwardingSpec, RouterLeg, RouterSpec, Segment
from overcast.network.drivers.errors import NetworkDriverError, UnsupportedNetworkType

from . import garp, router_rules
from .router_ads import RouterAdvertisements
from .bridges import Bridges
from .host import Host, inner_name, router_namespace

log = logging.getLogger("overcast.network.linux")


class Routers:
    def __init__(self, host: Host, bridges: Bridges):
        self.host = host
        self.bridges = bridges
        self.ads = RouterAdvertisements(host)

    @property
    def _state_dir(self) -> Path:
        return self.host.state_dir / "routers"

    # -- the contract --------------------------------------------------------------------

    def sync(self, spec: RouterSpec) -> None:
        """Make the router's namespace match ``spec`` (see the module docstring)."""
        check(spec)
        before = self._last(spec.id)
        if before is None:
            self._record(spec.id, None)
        try:
            self._apply(spec)
        except NetworkDriverError:
            self._undo(spec.id, before)
            raise
        self._record(spec.id, spec)

    def _undo(self, router_id: str, before: RouterSpec | None) -> None:
        """After a failed sync: a fresh router goes, a known one gets its last spec back."""
        if before is None:
            self.remove(router_id)
            return
        try:
            self._apply(before)
        except NetworkDriverError:
            log.exception("router %s: putting its last state back failed too", router_id)

    def remove(self, router_id: str) -> None:
        """Remove the router's legs (their bridges if left empty), namespace and record."""
        netns = router_namespace(router_id)
        self.ads.stop(router_id)
        if netns in self.host.namespaces():
            for device in self._legs(netns):
                self.bridges.unplug_leg(device[3:])
            self.host.remove_namespace(netns)
        (self._state_dir / router_id).unlink(missing_ok=True)

    def list(self) -> list[str]:
        if not self._state_dir.is_dir():
            return []
        return sorted(name for name in os.listdir(self._state_dir) if not name.endswith(".tmp"))

    # -- making it so --------------------------------------------------------------------------

    def _record(self, router_id: str, spec: RouterSpec | None) -> None:
        """Write the router's record: its last applied spec (``{}`` while it is being made)."""
        self._state_dir.mkdir(parents=True, exist_ok=True)
        path = self._state_dir / router_id
        temp = path.with_suffix(".tmp")
        temp.write_text(json.dumps(dataclasses.asdict(spec) if spec else {}))
        os.replace(temp, path)

    def _last(self, router_id: str) -> RouterSpec | None:
        """The router's last applied spec; None for a router not made (or never made whole)."""
        try:
            return spec_from_dict(json.loads((self._state_dir / router_id).read_text()))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _apply(self, spec: RouterSpec) -> None:
        netns = router_namespace(spec.id)
        if netns not in self.host.namespaces():
            self.host.add_namespace(netns)
            # the legs (MACs of their own) skip duplicate address detection: their link-local
            # addresses, the source of router advertisements, are usable at once
            self.host.run("sysctl", "-qw", "net.ipv6.conf.default.accept_dad=0", "net.ipv6.conf.all.accept_dad=0",
                          netns=netns)
        if not spec.admin_state_up:
            self._forwarding(netns, False)
        ports = _ports(spec)
        wanted = {inner_name(kind, port_id) for port_id, (kind, _) in ports.items()}
        for device in self._legs(netns) - wanted:
            self.bridges.unplug_leg(device[3:])  # the short id names its host end too
        devices = {}
        new: dict[str, list[str]] = {}  # gateway device -> the addresses it did not hold
        for port_id, (kind, legs) in ports.items():
            devices[port_id] = self._leg(netns, port_id, kind, legs, spec, new)
        gateway_dev = devices[spec.gateway.port_id] if spec.gateway else None
        self._routes(netns, spec, gateway_dev)
        self.host.run("iptables-restore", netns=netns, input=router_rules.tables(spec, gateway_dev, devices))
        self.host.run("ip6tables-restore", netns=netns, input=router_rules.tables6())
        if spec.admin_state_up:
            self._forwarding(netns, True)
        self.ads.sync(spec, devices)
        for device, addresses in new.items():
            garp.announce(netns, device, addresses)
        if spec.gateway and spec.gateway_ip:
            self._host_gateway(spec.gateway, spec.gateway_ip)

    def _leg(self, netns: str, port_id: str, kind: str, legs: list[RouterLeg], spec: RouterSpec,
             new: dict[str, list[str]]) -> str:
        """Plug one port's leg and give it exactly its addresses; its inner device. The
        gateway leg's addresses it did not hold go in ``new``, to be announced."""
        first = legs[0]
        device = self.bridges.plug_leg(port_id, kind, netns, first.mac, first.segment)
        wanted = {_interface(leg.ip_address, leg.cidr) for leg in legs}
        if kind == "qg":
            wanted |= {f"{address}/32" for address in floating_addresses(spec)}
        have = self._addresses(device, netns)
        for address in sorted(have - wanted):
            self.host.run("ip", "addr", "del", address, "dev", device, netns=netns)
        for address in sorted(wanted - have):
            self.host.run("ip", "addr", "add", address, "dev", device, netns=netns)
        if kind == "qg":  # announced once the rules are in: neighbours learn the leg's MAC for them
            new[device] = sorted(address.split("/")[0] for address in wanted - have)
        return device

    def _legs(self, netns: str) -> set[str]:
        """The inner ends of the router's legs."""
        return {link["ifname"] for link in self.host.links(netns) if link["ifname"].startswith(("qr-", "qg-"))}

    def _addresses(self, device: str, netns: str | None) -> set[str]:
        """The global addresses of a device, as ``ip/prefix``."""
        shown = json.loads(self.host.run("ip", "-j", "addr", "show", "dev", device, netns=netns) or "[]")
        return {str(ipaddress.ip_interface(f"{info['local']}/{info['prefixlen']}"))
                for link in shown for info in link.get("addr_info", []) if info.get("scope") == "global"}

    def _routes(self, netns: str, spec: RouterSpec, gateway_dev: str | None) -> None:
        """The default route and the static routes (several next hops of one destination:
        one multipath route); other routes via a gateway go, unchanged ones are left alone."""
        wanted: dict[str, list[str]] = {}
        for route in spec.routes:
            wanted.setdefault(_network(route["destination"]), []).append(route["nexthop"])
        if gateway_dev and spec.gateway_ip:
            version = ipaddress.ip_address(spec.gateway_ip).version
            wanted[_network(f"default/{version}")] = [spec.gateway_ip]
        have: dict[str, list[str]] = {}
        for family in ("-4", "-6"):
            for route in json.loads(self.host.run("ip", "-j", family, "route", "show", netns=netns) or "[]"):
                hops = [hop["gateway"] for hop in route.get("nexthops", []) if "gateway" in hop]
                hops += [route["gateway"]] if "gateway" in route else []
                destination = _network(f"default/{family[1]}" if route["dst"] == "default" else route["dst"])
                if hops:
                    have[destination] = hops
        for destination in set(have) - set(wanted):
            via = ["via", have[destination][0]] if len(have[destination]) == 1 else []
            self.host.run("ip", "route", "del", destination, *via, netns=netns, check=False)
        for destination, hops in wanted.items():
            if sorted(have.get(destination, [])) == sorted(hops):
                continue
            if destination in ("0.0.0.0/0", "::/0"):
                onlink = [] if ipaddress.ip_address(hops[0]) in ipaddress.ip_network(
                    spec.gateway.cidr, strict=False) else ["onlink"]
                via = ["via", hops[0], "dev", gateway_dev, *onlink]
            elif len(hops) == 1:
                via = ["via", hops[0]]
            else:
                via = [word for hop in sorted(hops) for word in ("nexthop", "via", hop)]
            self.host.run("ip", "route", "replace", destination, *via, netns=netns)

    def _forwarding(self, netns: str, on: bool) -> None:
        value = "1" if on else "0"
        self.host.run("sysctl", "-qw", f"net.ipv4.ip_forward={value}", netns=netns)
        self.host.run("sysctl", "-qw", f"net.ipv6.conf.all.forwarding={value}", netns=netns, check=False)

    def _mapped_bridge(self, leg: RouterLeg) -> str | None:
        """The host's mapped bridge a leg sits on (``br-ex``), or None for a network's own."""
        segment = leg.segment
        return self.host.mappings.get(segment.physical_network or "") if segment.network_type == "flat" else None

    def _host_gateway(self, gateway: RouterLeg, gateway_ip: str) -> None:
        """Put the external subnet's gateway address on its mapped bridge (the host's way in)."""
        bridge = self._mapped_bridge(gateway)
        network = ipaddress.ip_network(gateway.cidr, strict=False)
        if not bridge or ipaddress.ip_address(gateway_ip) not in network or gateway_ip == gateway.ip_address:
            return
        address = f"{gateway_ip}/{network.prefixlen}"
        if address in self._addresses(bridge, None):
            return
        if json.loads(self.host.run("ip", "-j", "addr", "show", "to", gateway_ip) or "[]"):
            log.info("%s is already this host's on another device: not put on %s", gateway_ip, bridge)
            return
        family = f"-{network.version}"
        for route in json.loads(self.host.run("ip", "-j", family, "route", "show") or "[]"):
            if route["dst"] != "default" and route.get("dev") != bridge and \
                    ipaddress.ip_network(route["dst"], strict=False).overlaps(network):
                log.warning("the external subnet %s overlaps %s on %s (this host's own network): its gateway "
                            "address is not put on %s", network, route["dst"], route.get("dev"), bridge)
                return
        physical = [port for port in os.listdir(f"/sys/class/net/{bridge}/brif")
                    if os.path.exists(f"/sys/class/net/{port}/device")]
        if physical:
            log.info("bridge %s holds %s: the gateway %s is theirs, not put on the bridge",
                     bridge, ", ".join(physical), gateway_ip)
            return
        self.host.run("ip", "addr", "add", address, "dev", bridge)


def check(spec: RouterSpec) -> None:
    """Raise for what the driver cannot make, before anything changes."""
    for leg in [*spec.legs, *([spec.gateway] if spec.gateway else [])]:
        if leg.segment.network_type not in NETWORK_TYPES:
            raise UnsupportedNetworkType(network_type=leg.segment.network_type)
    if (spec.floating_ips or spec.port_forwardings) and spec.gateway is None:
        raise NetworkDriverError(action=f"sync router {spec.id}", reason="floating IPs need a gateway")
    networks = [ipaddress.ip_network(leg.cidr, strict=False) for leg in spec.legs]
    inside = [(f.fixed_ip, f.floating_ip) for f in spec.floating_ips]
    inside += [(f.internal_ip, f.floating_ip) for f in spec.port_forwardings]
    for address, floating_ip in inside:
        if not any(ipaddress.ip_address(address) in network for network in networks):
            raise NetworkDriverError(action=f"sync router {spec.id}",
                                     reason=f"fixed IP {address} of floating IP {floating_ip} is on no leg of the "
                                            "router")


def floating_addresses(spec: RouterSpec) -> set[str]:
    """The floating IPs the gateway leg holds: associated ones and those with port forwardings."""
    return {f.floating_ip for f in spec.floating_ips} | {f.floating_ip for f in spec.port_forwardings}


def spec_from_dict(data: dict) -> RouterSpec | None:
    """A RouterSpec back from its ``dataclasses.asdict`` form (None for ``{}``)."""
    if not data:
        return None

    def leg(item: dict | None) -> RouterLeg | None:
        return RouterLeg(**{**item, "segment": Segment(**item["segment"])}) if item else None

    return RouterSpec(**{**data, "legs": [leg(item) for item in data["legs"]], "gateway": leg(data["gateway"]),
                         "floating_ips": [FloatingSpec(**item) for item in data["floating_ips"]],
                         "port_forwardings": [ForwardingSpec(**item) for item in data.get("port_forwardings", [])]})


def _ports(spec: RouterSpec) -> dict[str, tuple[str, list[RouterLeg]]]:
    """Port id -> (kind, its legs): a port with several fixed IPs is one device."""
    ports: dict[str, tuple[str, list[RouterLeg]]] = {}
    for leg in spec.legs:
        ports.setdefault(leg.port_id, ("qr", []))[1].append(leg)
    if spec.gateway:
        ports[spec.gateway.port_id] = ("qg", [spec.gateway])
    return ports


def _interface(address: str, cidr: str) -> str:
    """``10.0.0.1`` in ``10.0.0.0/24`` -> ``10.0.0.1/24``."""
    return f"{ipaddress.ip_address(address)}/{ipaddress.ip_network(cidr, strict=False).prefixlen}"


def _network(destination: str) -> str:
    """A route's destination as a network (``default/4`` -> ``0.0.0.0/0``; a host -> ``/32``)."""
    if destination.startswith("default/"):
        return "0.0.0.0/0" if destination.endswith("/4") else "::/0"
    return str(ipaddress.ip_network(destination, strict=False))
