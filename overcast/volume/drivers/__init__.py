"""Pick a volume driver by short alias (``[volume] driver = "file"``) or dotted path.

Modules are imported only when their driver is chosen; nothing registers at import.
"""

from __future__ import annotations

from overcast.common.plugins import resolve

from .base import BackendStats, Capabilities, ImageSource, ImageWritten, VolumeDriver

#: alias -> "module:class"
DRIVERS: dict[str, str] = {
    "fake": "overcast.volume.drivers.fake:FakeVolumeDriver",
    "file": "overcast.volume.drivers.file:FileVolumeDriver",
    "rbd": "overcast.volume.drivers.rbd:RbdVolumeDriver",
}


class UnknownVolumeDriver(ValueError):
    """The configuration names a driver that is neither an alias nor an importable class."""


def make_driver(name: str, **options) -> VolumeDriver:
    """Build the driver ``name`` with ``options``; raises UnknownVolumeDriver. No I/O."""
    return resolve("volume driver", name, DRIVERS, VolumeDriver, UnknownVolumeDriver)(**options)


__all__ = ["DRIVERS", "BackendStats", "Capabilities", "ImageSource", "ImageWritten", "UnknownVolumeDriver",
           "VolumeDriver", "make_driver"]
