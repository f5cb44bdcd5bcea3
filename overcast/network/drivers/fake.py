"""FakeNetworkDriver: the NetworkDriver contract in memory, instant and deterministic.

It documents the semantics real drivers follow (``drivers/base.py``) by keeping the
books a real host would: one bridge per network with the taps on it (removed with its
last user), a MAC is unique on its bridge, DHCP reservations only inside DHCP-enabled
subnets, router namespaces whose floating IPs must reach a leg through a gateway, port
filters only on plugged ports, metadata proxies. :meth:`allows` answers, from a port's
filter, whether a packet would pass, so tests can check what a rule set means.

Failure injection: ``fail_plug_on`` (port ids whose plug fails, leaving nothing) and
``fail_router_on`` (router ids whose sync fails, leaving the router as it was).
"""

from __future__ import annotations

import copy
import ipaddress

from .base import (NETWORK_TYPES, Capabilities, DhcpSpec, NetworkDriver, PortFilter, PortSpec, RouterSpec, Segment,
                   address_within)
from .errors import NetworkDriverError, PlugFailed, PortNotPlugged, UnsupportedNetworkType


class _Served(dict):
    """A network's DHCP as the fake serves it: ``spec``, ``server`` (its addresses) and
    ``hosts`` (MAC -> the addresses it gets in the served subnets), the last worked out
    when first read: a sync of 10,000 reservations costs no more than one of ten."""

    def __missing__(self, key: str):
        if key != "hosts":
            raise KeyError(key)
        hosts: dict[str, list[str]] = {}
        for host in self["spec"].hosts:
            if address_within(host.ip_address, self["cidrs"]):
                hosts.setdefault(host.mac, []).append(host.ip_address)
        self["hosts"] = hosts
        return hosts


def bridge_name(network_id: str) -> str:
    return "brq" + network_id[:11]  # Linux allows 15 characters, as Neutron's names


def tap_name(port_id: str) -> str:
    return "tap" + port_id[:11]


class FakeNetworkDriver(NetworkDriver):
    capabilities = Capabilities.all()

    def __init__(self, fail_plug_on: set[str] | None = None, fail_router_on: set[str] | None = None,
                 local_ip: str = ""):
        self.host = ""
        self.local_ip = local_ip  # the tunnel endpoint it pretends to have ("": none)
        self.fail_plug_on = set(fail_plug_on or ())
        self.fail_router_on = set(fail_router_on or ())
        self.bridges: dict[str, dict] = {}  # network id -> {"name", "segment", "taps": set of port ids}
        self.ports: dict[str, dict] = {}  # port id -> {"spec", "vif"}
        self.filters: dict[str, PortFilter] = {}
        self.dhcp: dict[str, dict] = {}  # network id -> {"spec", "hosts": {mac: [ips]}, "server": [ips]}
        self.routers: dict[str, RouterSpec] = {}
        self.metadata: dict[str, str] = {}  # network id -> upstream
        self.calls: list[str] = []  # method names in order, for tests of the agent

    def init_host(self, host: str) -> None:
        self.host = host
        self.calls.append("init_host")

    def report(self) -> dict:
        return {"devices": len(self.ports), "networks": len(self.dhcp), "routers": len(self.routers),
                "bridge_mappings": {}, "interface_mappings": {"public": "fake0"}, "tunnel_types": ["vxlan"],
                **({"tunneling_ip": self.local_ip} if self.local_ip else {})}

    # -- tunnels ----------------------------------------------------------------------

    def tunnel_endpoint(self) -> str | None:
        return self.local_ip or None

    def set_tunnel_peers(self, peers: list[str]) -> None:
        self.calls.append("set_tunnel_peers")
        super().set_tunnel_peers(peers)

    # -- bridges ----------------------------------------------------------------------

    def _bridge(self, segment: Segment) -> dict:
        if segment.network_type not in NETWORK_TYPES:
            raise UnsupportedNetworkType(network_type=segment.network_type)
        bridge = self.bridges.get(segment.network_id)
        if bridge is None:
            bridge = self.bridges[segment.network_id] = {"name": bridge_name(segment.network_id),
                                                         "segment": segment, "users": set()}
        return bridge

    def _release(self, network_id: str, user: str) -> None:
        bridge = self.bridges.get(network_id)
        if bridge is not None:
            bridge["users"].discard(user)
            if not bridge["users"]:
                del self.bridges[network_id]

    # -- ports --------------------------------------------------------------------------

    def plug_port(self, port: PortSpec) -> dict:
        self.calls.append("plug_port")
        created = port.segment.network_id not in self.bridges
        bridge = self._bridge(port.segment)
        try:
            if port.id in self.fail_plug_on:
                raise PlugFailed(port_id=port.id, reason="injected failure")
            for other, plugged in self.ports.items():
                if (other != port.id and plugged["spec"].segment.network_id == port.segment.network_id
                        and plugged["spec"].mac == port.mac):
                    raise PlugFailed(port_id=port.id, reason=f"MAC {port.mac} is already on {bridge['name']}")
        except PlugFailed:
            if created:
                del self.bridges[port.segment.network_id]
            raise
        old = self.ports.get(port.id)
        if old is not None and old["spec"].segment.network_id != port.segment.network_id:
            self._release(old["spec"].segment.network_id, f"port:{port.id}")
        vif = {"id": port.id, "mac": port.mac, "devname": tap_name(port.id), "bridge": bridge["name"],
               "mtu": port.segment.mtu}
        bridge["users"].add(f"port:{port.id}")
        self.ports[port.id] = {"spec": port, "vif": vif}
        return dict(vif)

    def unplug_port(self, port_id: str) -> None:
        self.calls.append("unplug_port")
        plugged = self.ports.pop(port_id, None)
        self.filters.pop(port_id, None)
        if plugged is not None:
            self._release(plugged["spec"].segment.network_id, f"port:{port_id}")

    def list_ports(self) -> list[str]:
        return sorted(self.ports)

    def vif(self, port_id: str) -> dict | None:
        plugged = self.ports.get(port_id)
        return dict(plugged["vif"]) if plugged else None

    # -- security groups --------------------------------------------------------------------

    def set_port_filter(self, port_filter: PortFilter) -> None:
        self.calls.append("set_port_filter")
        if port_filter.port_id not in self.ports:
            raise PortNotPlugged(port_id=port_filter.port_id)
        self.filters[port_filter.port_id] = copy.deepcopy(port_filter)

    def allows(self, port_id: str, direction: str, remote_ip: str, protocol: str | None = None,
               port: int | None = None) -> bool:
        """Whether the port's filter lets this packet through (``port`` is the ICMP type for ICMP)."""
        port_filter = self.filters.get(port_id)
        if port_filter is None:  # not plugged, or plugged without a filter yet: fail closed
            return False
        if not port_filter.port_security_enabled:
            return True
        address = ipaddress.ip_address(remote_ip)
        ethertype = f"IPv{address.version}"
        numbers = {"tcp": "6", "udp": "17", "icmp": "1", "ipv6-icmp": "58"}
        for rule in port_filter.rules:
            if rule.direction != direction or rule.ethertype != ethertype:
                continue
            if rule.protocol is not None and numbers.get(rule.protocol, rule.protocol) != numbers.get(protocol,
                                                                                                       protocol):
                continue
            if rule.port_range_min is not None and (port is None or port < rule.port_range_min):
                continue
            if rule.port_range_max is not None and rule.protocol not in ("icmp", "ipv6-icmp", "1", "58") \
                    and (port is None or port > rule.port_range_max):
                continue
            if rule.remote_ip_prefixes and not any(address in ipaddress.ip_network(prefix, strict=False)
                                                   for prefix in rule.remote_ip_prefixes):
                continue
            return True
        return False

    # -- DHCP ---------------------------------------------------------------------------------

    def sync_dhcp(self, spec: DhcpSpec) -> None:
        self.calls.append("sync_dhcp")
        network_id = spec.segment.network_id
        cidrs = tuple(s.cidr for s in spec.subnets if s.enable_dhcp)
        if not cidrs or spec.dhcp_port is None:
            self.remove_dhcp(network_id)
            return
        self._bridge(spec.segment)["users"].add("dhcp")
        server = [ip["ip_address"] for ip in spec.dhcp_port.fixed_ips]
        self.dhcp[network_id] = _Served(spec=spec, server=server, cidrs=cidrs)

    def remove_dhcp(self, network_id: str) -> None:
        self.calls.append("remove_dhcp")
        if self.dhcp.pop(network_id, None) is not None:
            self._release(network_id, "dhcp")

    def list_dhcp(self) -> list[str]:
        return sorted(self.dhcp)

    # -- routers ----------------------------------------------------------------------------------

    def sync_router(self, spec: RouterSpec) -> None:
        self.calls.append("sync_router")
        if spec.id in self.fail_router_on:
            raise NetworkDriverError(action=f"sync router {spec.id}", reason="injected failure")
        if (spec.floating_ips or spec.port_forwardings) and spec.gateway is None:
            raise NetworkDriverError(action=f"sync router {spec.id}", reason="floating IPs need a gateway")
        legs = [ipaddress.ip_network(leg.cidr, strict=False) for leg in spec.legs]
        inside = [f.fixed_ip for f in spec.floating_ips] + [f.internal_ip for f in spec.port_forwardings]
        for address in inside:
            if not any(ipaddress.ip_address(address) in net for net in legs):
                raise NetworkDriverError(action=f"sync router {spec.id}", reason=f"fixed IP {address} is on no leg")
        for segment in [leg.segment for leg in spec.legs] + ([spec.gateway.segment] if spec.gateway else []):
            if segment.network_type not in NETWORK_TYPES:
                raise UnsupportedNetworkType(network_type=segment.network_type)
        self._drop_router_bridges(spec.id)
        for leg in [*spec.legs, *([spec.gateway] if spec.gateway else [])]:
            self._bridge(leg.segment)["users"].add(f"router:{spec.id}")
        self.routers[spec.id] = copy.deepcopy(spec)

    def _drop_router_bridges(self, router_id: str) -> None:
        for network_id in list(self.bridges):
            self._release(network_id, f"router:{router_id}")

    def remove_router(self, router_id: str) -> None:
        self.calls.append("remove_router")
        if self.routers.pop(router_id, None) is not None:
            self._drop_router_bridges(router_id)

    def list_routers(self) -> list[str]:
        return sorted(self.routers)

    def nat(self, router_id: str) -> dict[str, str]:
        """The router's 1:1 NAT table: floating IP -> fixed IP (empty while it is down)."""
        spec = self.routers.get(router_id)
        return {f.floating_ip: f.fixed_ip for f in spec.floating_ips} if spec and spec.admin_state_up else {}

    def forwards(self, router_id: str) -> bool:
        spec = self.routers.get(router_id)
        return bool(spec and spec.admin_state_up)

    # -- metadata ------------------------------------------------------------------------------------

    def serve_metadata(self, network_id: str, upstream: str) -> None:
        self.calls.append("serve_metadata")
        if not upstream.startswith(("http://", "https://")):
            raise NetworkDriverError(action="serve metadata", reason=f"upstream {upstream!r} is not an http URL")
        self.metadata[network_id] = upstream

    def stop_metadata(self, network_id: str) -> None:
        self.calls.append("stop_metadata")
        self.metadata.pop(network_id, None)

    def list_metadata(self) -> list[str]:
        return sorted(self.metadata)
