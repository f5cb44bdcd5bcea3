"""Server states as Nova keeps them: vm_state (what the server is), task_state (what is
being done to it, or None) and the API ``status`` derived from both."""

from __future__ import annotations

ACTIVE, BUILDING, PAUSED, SUSPENDED, STOPPED = "active", "building", "paused", "suspended", "stopped"
RESCUED, RESIZED, SOFT_DELETED, DELETED, ERROR = "rescued", "resized", "soft-delete", "deleted", "error"
SHELVED, SHELVED_OFFLOADED = "shelved", "shelved_offloaded"

STATUS = {
    ACTIVE: "ACTIVE", BUILDING: "BUILD", PAUSED: "PAUSED", SUSPENDED: "SUSPENDED", STOPPED: "SHUTOFF",
    RESCUED: "RESCUE", RESIZED: "VERIFY_RESIZE", SOFT_DELETED: "SOFT_DELETED", DELETED: "DELETED",
    ERROR: "ERROR", SHELVED: "SHELVED", SHELVED_OFFLOADED: "SHELVED_OFFLOADED",
}
#: task states that change the status of an active (or stopped/error) server
TASK_STATUS = {
    "rebooting": "REBOOT", "reboot_pending": "REBOOT", "reboot_started": "REBOOT",
    "rebooting_hard": "HARD_REBOOT", "reboot_pending_hard": "HARD_REBOOT", "reboot_started_hard": "HARD_REBOOT",
    "rebuilding": "REBUILD", "rebuild_block_device_mapping": "REBUILD", "rebuild_spawning": "REBUILD",
    "resize_prep": "RESIZE", "resize_migrating": "RESIZE", "resize_migrated": "RESIZE", "resize_finish": "RESIZE",
    "migrating": "MIGRATING", "updating_password": "PASSWORD",
}
REVERTING = "resize_reverting"


def status(vm_state: str, task_state: str | None) -> str:
    """The ``status`` clients see (Nova's state-to-status table)."""
    if vm_state == RESIZED and task_state == REVERTING:
        return "REVERT_RESIZE"
    if task_state in TASK_STATUS and vm_state in (ACTIVE, STOPPED, ERROR):
        if vm_state != ACTIVE and not task_state.startswith(("rebuild", "resize")):
            return STATUS[vm_state]
        return TASK_STATUS[task_state]
    return STATUS.get(vm_state, "UNKNOWN")


def vm_states_for(status_filter: str) -> tuple[list[str], list[str | None] | None]:
    """(vm_states, task_states or None) a ``?status=`` filter matches; ([], None) if unknown."""
    wanted = status_filter.upper()
    tasks = [task for task, name in TASK_STATUS.items() if name == wanted]
    if tasks:
        return [ACTIVE, STOPPED, ERROR], tasks
    if wanted == "REVERT_RESIZE":
        return [RESIZED], [REVERTING]
    return [vm for vm, name in STATUS.items() if name == wanted], None
