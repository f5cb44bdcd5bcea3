"""Pick a hypervisor driver by short alias (``[compute] driver = "qemu"``) or dotted path.

Modules are imported only when their driver is chosen; nothing registers at import.
Built-in and third-party drivers go through the same table (:data:`DRIVERS`), and a
dotted path (``"package.module:Class"``) names any other HypervisorDriver subclass.
"""

from __future__ import annotations

from overcast.common.plugins import resolve

from .base import Capabilities, HostResources, HypervisorDriver, ImageRef, InstanceInfo, InstanceSpec, SnapshotInfo

#: alias -> "module:class"
DRIVERS: dict[str, str] = {
    "fake": "overcast.compute.drivers.fake:FakeHypervisor",
    "qemu": "overcast.compute.drivers.qemu:QemuHypervisor",
}


class UnknownHypervisorDriver(ValueError):
    """The configuration names a driver that is neither an alias nor an importable class."""


def resolve_driver(name: str) -> type[HypervisorDriver]:
    """The HypervisorDriver class for an alias (``"fake"``) or a ``"module:Class"`` /
    ``"module.Class"`` path. Raises UnknownHypervisorDriver, suggesting the closest alias."""
    return resolve("hypervisor driver", name, DRIVERS, HypervisorDriver, UnknownHypervisorDriver)


def make_driver(name: str, **options) -> HypervisorDriver:
    """Build the driver ``name``; ``options`` go to its constructor (e.g.
    ``fail_spawn_on={"<uuid>"}`` for the fake). Raises UnknownHypervisorDriver (a
    ValueError) for an unknown alias. Does no I/O: the host is touched in ``init_host``."""
    return resolve_driver(name)(**options)


__all__ = ["DRIVERS", "Capabilities", "HostResources", "HypervisorDriver", "ImageRef", "InstanceInfo",
           "InstanceSpec", "SnapshotInfo", "UnknownHypervisorDriver", "make_driver", "resolve_driver"]
