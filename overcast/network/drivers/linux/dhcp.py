"""DHCP: a namespace and a dnsmasq per network (issue 9: being written)."""

from __future__ import annotations

from overcast.network.drivers.base import DhcpSpec

from .bridges import Bridges
from .host import Host


class Dhcp:
    def __init__(self, host: Host, bridges: Bridges):
        self.host = host
        self.bridges = bridges

    def sync(self, spec: DhcpSpec) -> None:
        raise NotImplementedError

    def remove(self, network_id: str) -> None:
        pass  # skeleton: nothing made yet

    def list(self) -> list[str]:
        return []  # skeleton: nothing made yet
