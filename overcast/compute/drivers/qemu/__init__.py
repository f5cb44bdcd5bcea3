"""The QEMU hypervisor driver (see ``driver.py``)."""

from .driver import QemuHypervisor

__all__ = ["QemuHypervisor"]
