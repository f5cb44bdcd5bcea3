"""Errors a NetworkDriver raises, subclassing the common families.

``NetworkDriverError`` and its subclasses mean the host's plumbing failed (a command
exited non-zero, a device vanished); the agent logs them and leaves the port DOWN
rather than answering a client error.
"""

from __future__ import annotations

from overcast.common.errors import BadRequest, Conflict, NotFound, OvercastError


class NetworkDriverError(OvercastError):
    """The backend failed an operation."""

    message = "The network driver failed to {action}: {reason}"


class PlugFailed(NetworkDriverError):
    """``plug_port`` failed; by the contract nothing of the port is left on the host."""

    message = "Plugging port {port_id} failed: {reason}"


class PortNotPlugged(NotFound):
    message = "Port {port_id} is not plugged on this host."


class UnsupportedNetworkType(BadRequest):
    message = "Network type {network_type} is not supported by this network driver."


class DriverCapabilityError(Conflict):
    message = "The network driver cannot {action}."
