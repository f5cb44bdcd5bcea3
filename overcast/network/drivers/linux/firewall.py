"""Security groups as iptables rules on bridge ports (issue 9: being written)."""

from __future__ import annotations

from overcast.network.drivers.base import PortFilter

from .host import Host


class Firewall:
    def __init__(self, host: Host):
        self.host = host

    def init(self) -> None:
        pass  # skeleton: nothing made yet

    def set(self, port_filter: PortFilter, vif: dict | None) -> None:
        """Raises PortNotPlugged when ``vif`` is None."""
        raise NotImplementedError

    def remove(self, port_id: str) -> None:
        pass  # skeleton: nothing made yet
