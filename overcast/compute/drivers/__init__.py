"""Pick a hypervisor driver by short alias (``[compute] driver = "qemu"``) or dotted path.

Modules are imported only when their driver is chosen; nothing registers at import.
Built-in and third-party drivers go through the same table (:data:`DRIVERS`), and a
dotted path (``"package.module:Class"``) names any other HypervisorDriver subclass.
"""

from __future__ import annotations

import difflib
import importlib

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
    path = DRIVERS.get(name.lower())
    if path is None and ("." in name or ":" in name):
        path = name if ":" in name else ":".join(name.rsplit(".", 1))
    if path is None:
        close = difflib.get_close_matches(name.lower(), DRIVERS, n=1, cutoff=0.5)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        known = ", ".join(sorted(DRIVERS))
        raise UnknownHypervisorDriver(f"unknown hypervisor driver {name!r}.{hint} Known drivers: {known}.")
    module, _, attr = path.partition(":")
    try:
        cls = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as error:
        raise UnknownHypervisorDriver(f"cannot load hypervisor driver {name!r}: {error}") from error
    if not (isinstance(cls, type) and issubclass(cls, HypervisorDriver)):
        raise UnknownHypervisorDriver(f"{name!r} is not a HypervisorDriver class")
    return cls


def make_driver(name: str, **options) -> HypervisorDriver:
    """Build the driver ``name``; ``options`` go to its constructor (e.g.
    ``fail_spawn_on={"<uuid>"}`` for the fake). Raises UnknownHypervisorDriver (a
    ValueError) for an unknown alias. Does no I/O: the host is touched in ``init_host``."""
    return resolve_driver(name)(**options)


__all__ = ["DRIVERS", "Capabilities", "HostResources", "HypervisorDriver", "ImageRef", "InstanceInfo",
           "InstanceSpec", "SnapshotInfo", "UnknownHypervisorDriver", "make_driver", "resolve_driver"]
