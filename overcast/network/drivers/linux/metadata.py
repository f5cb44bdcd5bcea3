"""The metadata proxy in each DHCP namespace (issue 9: being written)."""

from __future__ import annotations

from .host import Host


class MetadataProxies:
    def __init__(self, host: Host, secret: str):
        self.host = host
        self.secret = secret

    def serve(self, network_id: str, upstream: str) -> None:
        raise NotImplementedError

    def stop(self, network_id: str) -> None:
        pass  # skeleton: nothing made yet

    def list(self) -> list[str]:
        return []  # skeleton: nothing made yet
