"""Errors a HypervisorDriver raises, subclassing the common families.

The compute service lets most of them through unchanged (the status is right already);
``HypervisorError`` and its subclasses mean the backend failed and become the instance's
fault (500) rather than a client error.
"""

from __future__ import annotations

from overcast.common.errors import BadRequest, Conflict, NotFound, OvercastError, Unimplemented


class HypervisorError(OvercastError):
    """The backend failed an operation (process died, QMP error, disk full)."""

    message = "The hypervisor failed to complete the operation on instance {uuid}: {reason}"


class InstanceBuildFailed(HypervisorError):
    """``spawn`` failed; by the contract nothing of the instance is left on the host."""

    message = "Build of instance {uuid} failed: {reason}"


class InstanceRebootFailed(HypervisorError):
    message = "Reboot of instance {uuid} failed: {reason}"


class MigrationCancelled(HypervisorError):
    """``live_migration`` stopped because ``live_migration_abort`` asked it to; the guest
    runs on the source as before."""

    message = "Live migration of instance {uuid} was cancelled."


class InstanceNotFound(NotFound):
    message = "Instance {uuid} could not be found."


class InstanceExists(Conflict):
    message = "Instance {uuid} already exists on this host."


class InstanceInvalidState(Conflict):
    """The guest is in a power state the operation cannot start from (pause a stopped
    guest, resume one that was never suspended)."""

    message = "Instance {uuid} in power state {state}. Cannot {action} while the instance is in this state."


class DeviceBusy(Conflict):
    """The device name, volume or port is already attached to the instance."""

    message = "Device {device} is already attached to instance {uuid}."


class ResizeError(BadRequest):
    message = "Resize of instance {uuid} failed: {reason}"


class DriverCapabilityError(Unimplemented):
    """The driver does not have the capability. The service checks
    ``driver.capabilities`` first and answers 400/409 itself, so reaching this is a bug
    in the caller; it still maps to a clean 501."""

    message = "The {driver} hypervisor driver does not support {capability}."


__all__ = ["DeviceBusy", "DriverCapabilityError", "HypervisorError", "InstanceBuildFailed", "InstanceExists",
           "InstanceInvalidState", "InstanceNotFound", "InstanceRebootFailed", "MigrationCancelled", "ResizeError"]
