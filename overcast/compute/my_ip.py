"""``compute.my_ip``: the address other hosts reach this compute host on (Nova's
``my_ip``): where a live migration over tcp listens, ``host_ip`` in os-hypervisors and
``dest_host`` in os-migrations.

Unset, it is 127.0.0.1 when the bus is in memory or on a loopback address (the
all-in-one: nothing else reaches this host), else the local address the kernel picks to
reach the bus host (a UDP socket ``connect``, which sends nothing): the interface the
other hosts share with this one. Nova defaults to the address of the default route's
interface; the bus host is a closer guess of the network the hosts share.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

LOOPBACK = "127.0.0.1"


def my_ip(configured: str, bus_url: str) -> str:
    if configured:
        return configured
    parts = urlsplit(bus_url)
    if parts.scheme == "memory" or not parts.hostname:
        return LOOPBACK
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 5672, type=socket.SOCK_DGRAM)
    except OSError:
        return LOOPBACK
    for family, _, _, _, address in infos:
        if ipaddress.ip_address(address[0]).is_loopback:
            return LOOPBACK
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as probe:
                probe.connect(address)
                return probe.getsockname()[0]
        except OSError:
            continue
    return LOOPBACK
