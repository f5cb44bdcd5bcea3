"""The rules a subnet's addresses must follow, as Neutron checks them: the gateway, the
allocation pools (defaults, bounds, overlaps), DNS servers, host routes and the IPv6
address modes. Pure functions on ``ipaddress`` objects; they raise network errors."""

from __future__ import annotations

import ipaddress

from overcast.network import errors

MAX_DNS_NAMESERVERS = 5  # Neutron's max_dns_nameservers default
MAX_HOST_ROUTES = 20  # Neutron's max_subnet_host_routes default
IPV6_MODES = ("slaac", "dhcpv6-stateful", "dhcpv6-stateless")

Net = ipaddress.IPv4Network | ipaddress.IPv6Network


def host_bounds(network: Net) -> tuple[int, int]:
    """The first and last address a port may have: not the network address, nor the IPv4
    broadcast address (single-address and point-to-point subnets keep all)."""
    first, last = int(network.network_address), int(network.broadcast_address)
    if network.num_addresses <= 2:
        return first, last
    return first + 1, last - (1 if network.version == 4 else 0)


def default_gateway(network: Net) -> str | None:
    """The first host address, Neutron's default gateway."""
    if network.num_addresses <= 2:
        return None
    return str(network.network_address + 1)


def check_gateway(network: Net, gateway: str | None) -> None:
    """400 unless the gateway is a host address inside the subnet."""
    if gateway is None:
        return
    ip = ipaddress.ip_address(gateway)
    if ip.version != network.version:
        raise errors.InvalidInput(reason="Gateway IP version inconsistent with subnet IP version")
    first, last = host_bounds(network)
    if ip not in network or not first <= int(ip) <= last:
        raise errors.InvalidInput(reason="Gateway is not valid on subnet")


def _text(number: int, version: int) -> str:
    return str(ipaddress.IPv4Address(number) if version == 4 else ipaddress.IPv6Address(number))


def default_pools(network: Net, gateway: str | None) -> list[dict]:
    """The subnet's host addresses less the gateway, as one or two pools."""
    first, last = host_bounds(network)
    if network.num_addresses == 2 or first > last:
        return []
    ranges = [(first, last)]
    if gateway is not None:
        gw = int(ipaddress.ip_address(gateway))
        ranges = [(start, end) for start, end in ((first, gw - 1), (gw + 1, last)) if start <= end] \
            if first <= gw <= last else ranges
    return [{"start": _text(start, network.version), "end": _text(end, network.version)} for start, end in ranges]


def _pool_text(pool: dict) -> str:
    return f"{pool.get('start')}-{pool.get('end')}"


def check_pools(network: Net, pools: list, gateway: str | None) -> list[dict]:
    """The pools, normalized; 400 for a malformed or out-of-subnet pool, 409 for overlapping
    pools or a pool holding the gateway (Neutron's codes)."""
    first, last = host_bounds(network)
    ranges = []
    for pool in pools:
        if not isinstance(pool, dict) or set(pool) != {"start", "end"}:
            raise errors.InvalidAllocationPool(pool=pool)
        try:
            start, end = ipaddress.ip_address(pool["start"]), ipaddress.ip_address(pool["end"])
        except (ValueError, TypeError):
            raise errors.InvalidAllocationPool(pool=pool) from None
        if start.version != network.version or end.version != network.version:
            raise errors.InvalidAllocationPool(pool=pool)
        if int(start) < first or int(end) > last:
            raise errors.OutOfBoundsAllocationPool(pool=_pool_text(pool), subnet_cidr=str(network))
        if end < start:
            raise errors.InvalidAllocationPool(pool=pool)
        ranges.append((int(start), int(end)))
    ranges.sort()
    for (start_a, end_a), (start_b, end_b) in zip(ranges, ranges[1:]):
        if start_b <= end_a:
            raise errors.OverlappingAllocationPools(
                pool_1=f"{_text(start_a, network.version)}-{_text(end_a, network.version)}",
                pool_2=f"{_text(start_b, network.version)}-{_text(end_b, network.version)}", subnet_cidr=str(network))
    normal = [{"start": _text(start, network.version), "end": _text(end, network.version)} for start, end in ranges]
    check_gateway_outside(normal, gateway)
    return normal


def check_gateway_outside(pools: list[dict], gateway: str | None) -> None:
    if gateway is None:
        return
    gw = int(ipaddress.ip_address(gateway))
    for pool in pools:
        if int(ipaddress.ip_address(pool["start"])) <= gw <= int(ipaddress.ip_address(pool["end"])):
            raise errors.GatewayConflictWithAllocationPools(ip_address=gateway, pool=_pool_text(pool))


def check_nameservers(subnet_id: str, servers: list, version: int) -> list[str]:
    if len(servers) > MAX_DNS_NAMESERVERS:
        raise errors.DNSNameServersExhausted(subnet_id=subnet_id, quota=MAX_DNS_NAMESERVERS)
    seen: list[str] = []
    for server in servers:
        try:
            address = str(ipaddress.ip_address(server))
        except (ValueError, TypeError):
            raise errors.InvalidInput(reason=f"'{server}' is not a valid nameserver. '{server}' is not a valid "
                                             "IP address") from None
        if address in seen:
            raise errors.InvalidInput(reason=f"Duplicate nameserver '{server}'")
        seen.append(address)
    return list(servers)


def check_routes(subnet_id: str, routes: list, version: int) -> list[dict]:
    if len(routes) > MAX_HOST_ROUTES:
        raise errors.HostRoutesExhausted(subnet_id=subnet_id, quota=MAX_HOST_ROUTES)
    normal: list[dict] = []
    for route in routes:
        if not isinstance(route, dict) or set(route) != {"destination", "nexthop"}:
            raise errors.InvalidInput(reason=f"Invalid data format for hostroute: '{route}'")
        try:
            destination = ipaddress.ip_network(route["destination"], strict=False)
            nexthop = ipaddress.ip_address(route["nexthop"])
        except (ValueError, TypeError):
            raise errors.InvalidInput(reason=f"Invalid data format for hostroute: '{route}'") from None
        if destination.version != version or nexthop.version != version:
            raise errors.InvalidInput(reason=f"Host route {route} IP version inconsistent with subnet IP version")
        item = {"destination": str(destination), "nexthop": str(nexthop)}
        if item in normal:
            raise errors.InvalidInput(reason=f"Duplicate hostroute '{route}'")
        normal.append(item)
    return normal


def check_ipv6_modes(version: int, ra_mode: str | None, address_mode: str | None, enable_dhcp: bool,
                     network: Net) -> None:
    if ra_mode is None and address_mode is None:
        return
    if version != 6:
        raise errors.InvalidInput(reason="ipv6_ra_mode or ipv6_address_mode cannot be set when ip_version is 4")
    if not enable_dhcp:
        raise errors.InvalidInput(reason="Cannot disable enable_dhcp with ipv6 attributes set")
    if ra_mode is not None and address_mode is not None and ra_mode != address_mode:
        raise errors.InvalidInput(reason=f"ipv6_ra_mode set to '{ra_mode}' with ipv6_address_mode set to "
                                         f"'{address_mode}' is not valid. If both attributes are set, they must be "
                                         "the same value")
    if address_mode in ("slaac", "dhcpv6-stateless") and network.prefixlen != 64:
        raise errors.InvalidInput(reason=f"Invalid CIDR {network} for IPv6 address mode. OpenStack uses the EUI-64 "
                                         "address format, which requires the prefix to be /64")
