"""Bridges, taps and veth legs (issue 9: being written)."""

from __future__ import annotations

from overcast.network.drivers.base import PortSpec, Segment

from .host import Host


class Bridges:
    def __init__(self, host: Host):
        self.host = host

    def init(self) -> None:
        """Make the mapped physical bridges (``br-ex``) if missing."""
        raise NotImplementedError

    def bridge_for(self, segment: Segment) -> str:
        """The bridge of a segment, made (and up) if missing; UnsupportedNetworkType."""
        raise NotImplementedError

    def plug(self, port: PortSpec) -> dict:
        """A guest's tap on its network's bridge; its VIF."""
        raise NotImplementedError

    def unplug(self, port_id: str) -> None:
        raise NotImplementedError

    def list(self) -> list[str]:
        raise NotImplementedError

    def vif(self, port_id: str) -> dict | None:
        raise NotImplementedError

    def plug_leg(self, port_id: str, kind: str, netns: str, mac: str, segment: Segment) -> str:
        """A veth pair for a namespace's port: ``tap<port>`` on the segment's bridge,
        ``<kind>-<port>`` (kind ns, qr or qg) inside ``netns`` with ``mac``, both up, MTU of
        the segment. Idempotent. Returns the inner device's name."""
        raise NotImplementedError

    def unplug_leg(self, port_id: str) -> None:
        """Remove a leg (both ends; a bridge left empty goes too). Not there: no-op."""
        raise NotImplementedError
