"""Guest power states as the hypervisor reports them, with Nova's numbers.

These are what ``HypervisorDriver.get_info`` returns and what Nova's API shows as
``OS-EXT-STS:power_state``; the numbers are part of the wire format, so never renumber.
(Nova's 2 BLOCKED and 5 SHUTOFF are retired and not used.)
"""

from __future__ import annotations

NOSTATE = 0
RUNNING = 1
PAUSED = 3
SHUTDOWN = 4
CRASHED = 6
SUSPENDED = 7

#: number -> Nova's name for it (``get_diagnostics`` and logs use these)
NAMES: dict[int, str] = {
    NOSTATE: "pending",
    RUNNING: "running",
    PAUSED: "paused",
    SHUTDOWN: "shutdown",
    CRASHED: "crashed",
    SUSPENDED: "suspended",
}

ALL = frozenset(NAMES)


def name(state: int) -> str:
    """Nova's name for a power state number; ValueError for a number that is not one."""
    try:
        return NAMES[state]
    except KeyError:
        raise ValueError(f"not a power state: {state!r}") from None
