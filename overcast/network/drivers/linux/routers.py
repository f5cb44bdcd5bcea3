"""Routers: a namespace per router, NAT (issue 9: being written)."""

from __future__ import annotations

from overcast.network.drivers.base import RouterSpec

from .bridges import Bridges
from .host import Host


class Routers:
    def __init__(self, host: Host, bridges: Bridges):
        self.host = host
        self.bridges = bridges

    def sync(self, spec: RouterSpec) -> None:
        raise NotImplementedError

    def remove(self, router_id: str) -> None:
        pass  # skeleton: nothing made yet

    def list(self) -> list[str]:
        return []  # skeleton: nothing made yet
