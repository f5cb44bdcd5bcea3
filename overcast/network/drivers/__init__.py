"""Pick a network driver by short alias (``[network] driver = "fake"``) or dotted path.

Modules are imported only when their driver is chosen; nothing registers at import.
"""

from __future__ import annotations

from overcast.common.plugins import resolve

from .base import (Capabilities, DhcpHost, DhcpSpec, FilterRule, FloatingSpec, ForwardingSpec, NetworkDriver,
                   PortFilter, PortSpec, Reservations, RouterLeg, RouterSpec, Segment, SubnetSpec)

#: alias -> "module:class"
DRIVERS: dict[str, str] = {
    "fake": "overcast.network.drivers.fake:FakeNetworkDriver",
    "linux": "overcast.network.drivers.linux:LinuxNetworkDriver",
}


class UnknownNetworkDriver(ValueError):
    """The configuration names a driver that is neither an alias nor an importable class."""


def resolve_driver(name: str) -> type[NetworkDriver]:
    return resolve("network driver", name, DRIVERS, NetworkDriver, UnknownNetworkDriver)


def make_driver(name: str, **options) -> NetworkDriver:
    """Build the driver ``name`` with ``options``; raises UnknownNetworkDriver. No I/O."""
    return resolve_driver(name)(**options)


__all__ = ["DRIVERS", "Capabilities", "DhcpHost", "DhcpSpec", "FilterRule", "FloatingSpec", "ForwardingSpec",
           "NetworkDriver", "PortFilter", "PortSpec", "RouterLeg", "RouterSpec", "Segment", "SubnetSpec",
           "UnknownNetworkDriver", "make_driver", "resolve_driver"]
