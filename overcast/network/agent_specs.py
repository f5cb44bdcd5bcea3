"""What the network agent reads, and how it turns Neutron's resource dicts into the
driver's specs (``drivers/base.py``).

:class:`ServiceSource` reads through the NetworkService's Python interface as an admin;
it is the one seam the split mode replaces (a bus client with the same methods, served
by the controller), so the agent itself never touches the database.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from overcast.common.api.context import RequestContext
from overcast.network.drivers import (DhcpHost, DhcpSpec, FilterRule, FloatingSpec, ForwardingSpec, PortFilter,
                                      PortSpec, RouterLeg, RouterSpec, Segment, SubnetSpec)

ADMIN = RequestContext(user_id="neutron", roles=["admin"])
DHCP_OWNER = "network:dhcp"
GATEWAY_OWNER = "network:router_gateway"
INTERFACE_OWNERS = ("network:router_interface", "network:router_interface_distributed",
                    "network:ha_router_replicated_interface")


def narrow(items: list[dict], filters: dict) -> list[dict]:
    """The items whose attributes take one of the values each filter lists."""
    return [item for item in items if all(item.get(name) in values for name, values in filters.items())]


class ServiceSource:
    """The network state an agent needs, from the service in this process. Each list
    takes filters (attribute -> accepted values) that the service narrows in SQL where
    it can; the answers hold only matching items either way."""

    def __init__(self, service):
        self.service = service

    def _list(self, resource, filters: dict) -> list[dict]:
        filters = {name: list(values) for name, values in filters.items()}
        return narrow(resource.list(ADMIN, filters), filters)

    def networks(self, **filters) -> list[dict]:
        return self._list(self.service.networks, filters)

    def subnets(self, **filters) -> list[dict]:
        return self._list(self.service.subnets, filters)

    def ports(self, **filters) -> list[dict]:
        return self._list(self.service.ports, filters)

    def port(self, port_id: str) -> dict:
        return self.service.ports.get(ADMIN, port_id)

    def security_groups(self) -> list[dict]:
        return self.service.security_groups.list(ADMIN, {})

    def routers(self, **filters) -> list[dict]:
        return self._list(self.service.routers, filters)

    def floatingips(self, **filters) -> list[dict]:
        """The floating IPs, each with its ``port_forwardings`` (as Neutron's
        expose-port-forwarding-in-fip shows them)."""
        found = self._list(self.service.floatingips, filters)
        unbound = [fip["id"] for fip in found if not fip.get("port_id")]
        forwardings = self.service.port_forwardings.of_floatingips(unbound)
        return [{**fip, "port_forwardings": forwardings.get(fip["id"], [])} for fip in found]

    def dhcp_choice(self, network_id: str, host: str) -> bool:
        """Whether the network is scheduled to this host's DHCP agent."""
        return self.service.agent_scheduler.dhcp_hosted(network_id, host)

    def l3_choice(self, router_id: str, host: str) -> bool:
        """Whether the router is scheduled to this host's L3 agent."""
        return self.service.agent_scheduler.l3_hosted(router_id, host)

    def agent_sync(self, host: str) -> dict:
        """The agent of ``host`` starts: it counts as alive, what is unscheduled is scheduled,
        and the answer holds the ids of the ``networks`` and ``routers`` it hosts."""
        return self.service.agent_scheduler.agent_sync(host)

    def tunnel_peers(self, host: str) -> list[str]:
        """The tunnel endpoints of the other hosts' live network agents."""
        return self.service.network_agents.tunnel_peers(host)

    def port_status(self, port_id: str, status: str) -> None:
        """Report a port ACTIVE (plugged, served) or DOWN (unplugged)."""
        self.service.ports.set_status(port_id, status)

    def bind_port(self, port_id: str, host: str) -> dict:
        return self.service.ports.bind(port_id, host)

    def create_port(self, values: dict) -> dict:
        return self.service.ports.create(ADMIN, [values])[0]

    def update_port(self, port_id: str, values: dict) -> dict:
        return self.service.ports.update(ADMIN, port_id, values)

    def delete_port(self, port_id: str) -> None:
        self.service.ports.delete(ADMIN, port_id)


def segment(network: dict) -> Segment:
    return Segment(network_id=network["id"], network_type=network.get("provider:network_type") or "vxlan",
                   segmentation_id=network.get("provider:segmentation_id"),
                   physical_network=network.get("provider:physical_network"), mtu=network.get("mtu") or 1500)


def port_spec(port: dict, network: dict) -> PortSpec:
    return PortSpec(id=port["id"], segment=segment(network), mac=port["mac_address"],
                    fixed_ips=list(port.get("fixed_ips") or []), device_owner=port.get("device_owner", ""),
                    device_id=port.get("device_id", ""), admin_state_up=port.get("admin_state_up", True))


def hostname(ip: str) -> str:
    return "host-" + ip.replace(".", "-").replace(":", "-")


def dhcp_hosts(port: dict) -> list[DhcpHost]:
    """The port's reservations, one per fixed IP (none for a DHCP port: it is the server)."""
    if port.get("device_owner") == DHCP_OWNER:
        return []
    return [DhcpHost(port["id"], port["mac_address"], ip["ip_address"], hostname(ip["ip_address"]))
            for ip in port.get("fixed_ips") or []]


def dhcp_spec(network: dict, subnets: list[dict], ports: list[dict], hosts: Sequence[DhcpHost],
              device_id: str | None = None) -> DhcpSpec:
    """The network's DHCP with the reservations ``hosts`` (the agent keeps them per port),
    answered from the DHCP port among ``ports`` of ``device_id`` (None: any)."""
    mine = [subnet for subnet in subnets if subnet["network_id"] == network["id"]]
    on_network = [port for port in ports if port["network_id"] == network["id"]]
    server = next((port for port in on_network if port.get("device_owner") == DHCP_OWNER
                   and (device_id is None or port.get("device_id") == device_id)), None)
    return DhcpSpec(segment=segment(network), hosts=hosts, dhcp_port=port_spec(server, network) if server else None,
                    dns_domain=network.get("dns_domain") or "openstacklocal",
                    subnets=[SubnetSpec(id=s["id"], cidr=s["cidr"], ip_version=s.get("ip_version", 4),
                                        gateway_ip=s.get("gateway_ip"), enable_dhcp=s.get("enable_dhcp", True),
                                        dns_nameservers=list(s.get("dns_nameservers") or []),
                                        host_routes=list(s.get("host_routes") or []),
                                        allocation_pools=list(s.get("allocation_pools") or [])) for s in mine])


def dhcp_subnets(network: dict, subnets: list[dict]) -> list[str]:
    """Ids of the network's DHCP-enabled subnets."""
    return [s["id"] for s in subnets if s["network_id"] == network["id"] and s.get("enable_dhcp", True)]


def serves_dhcp(network: dict, subnets: list[dict]) -> bool:
    return bool(dhcp_subnets(network, subnets))


def _legs(port: dict, networks: dict, subnets: dict) -> list[RouterLeg]:
    network = networks.get(port["network_id"])
    if network is None:
        return []
    return [RouterLeg(port_id=port["id"], mac=port["mac_address"], segment=segment(network),
                      subnet_id=ip["subnet_id"], ip_address=ip["ip_address"], cidr=subnets[ip["subnet_id"]]["cidr"],
                      ipv6_ra_mode=subnets[ip["subnet_id"]].get("ipv6_ra_mode"))
            for ip in port.get("fixed_ips") or [] if ip.get("subnet_id") in subnets]


def router_spec(router: dict, ports: list[dict], networks: list[dict], subnets: list[dict],
                floatingips: list[dict]) -> RouterSpec:
    by_network = {network["id"]: network for network in networks}
    by_subnet = {subnet["id"]: subnet for subnet in subnets}
    own = [port for port in ports if port.get("device_id") == router["id"]]
    legs = [leg for port in own if port.get("device_owner") in INTERFACE_OWNERS
            for leg in _legs(port, by_network, by_subnet)]
    gateway_legs = [leg for port in own if port.get("device_owner") == GATEWAY_OWNER
                    for leg in _legs(port, by_network, by_subnet)]
    gateway = gateway_legs[0] if gateway_legs else None
    info = router.get("external_gateway_info") or {}
    mine = [f for f in floatingips if f.get("router_id") == router["id"]]
    floating = [FloatingSpec(f["floating_ip_address"], f["fixed_ip_address"], f["port_id"]) for f in mine
                if f.get("port_id") and f.get("fixed_ip_address")]
    forwardings = [ForwardingSpec(f["floating_ip_address"], pf["protocol"], pf["external_port"],
                                  pf["internal_ip_address"], pf["internal_port"])
                   for f in mine if not f.get("port_id") for pf in f.get("port_forwardings") or []]
    return RouterSpec(id=router["id"], legs=legs, gateway=gateway, snat=bool(info.get("enable_snat", True)),
                      gateway_ip=by_subnet[gateway.subnet_id].get("gateway_ip") if gateway else None,
                      routes=list(router.get("routes") or []), floating_ips=floating if gateway else [],
                      port_forwardings=forwardings if gateway else [],
                      admin_state_up=router.get("admin_state_up", True))


def group_members(ports: list[dict]) -> dict[str, list[str]]:
    """Security group id -> the IPs (fixed IPs and allowed pairs) of its ports."""
    members: dict[str, list[str]] = {}
    for port in ports:
        addresses = [ip["ip_address"] for ip in port.get("fixed_ips") or []]
        addresses += [pair["ip_address"] for pair in port.get("allowed_address_pairs") or []]
        for group_id in port.get("security_groups") or []:
            members.setdefault(group_id, []).extend(addresses)
    return members


def _version(address: str) -> int:
    return ipaddress.ip_network(address, strict=False).version


def port_filter(port: dict, groups: dict[str, dict], members: dict[str, list[str]]) -> PortFilter:
    """The port's filter: its groups' rules with remote groups turned into addresses."""
    rules: list[FilterRule] = []
    stateful = True
    for group_id in port.get("security_groups") or []:
        group = groups.get(group_id)
        if group is None:
            continue
        stateful = stateful and group.get("stateful", True)
        for rule in group.get("security_group_rules") or []:
            version = 6 if rule["ethertype"] == "IPv6" else 4
            if rule.get("remote_group_id"):
                prefixes = tuple(sorted({ip for ip in members.get(rule["remote_group_id"], [])
                                         if _version(ip) == version}))
                if not prefixes:
                    continue  # a remote group without members matches nobody
            elif rule.get("remote_ip_prefix"):
                prefixes = (rule["remote_ip_prefix"],)
            else:
                prefixes = ()
            rules.append(FilterRule(rule["direction"], rule["ethertype"], rule.get("protocol"),
                                    rule.get("port_range_min"), rule.get("port_range_max"), prefixes))
    allowed = [{"ip_address": ip["ip_address"], "mac_address": port["mac_address"]}
               for ip in port.get("fixed_ips") or []]
    allowed += [{"ip_address": pair["ip_address"], "mac_address": pair.get("mac_address") or port["mac_address"]}
                for pair in port.get("allowed_address_pairs") or []]
    return PortFilter(port_id=port["id"], rules=rules, stateful=stateful, allowed_addresses=allowed,
                      port_security_enabled=port.get("port_security_enabled", True))
