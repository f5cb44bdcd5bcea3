"""Server actions, the database side: check vm_state/task_state and the lock, move the
server into its task state with a guarded UPDATE (409 when a racing request got there
first), record the instance action, and name the agent operation to cast."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update

from overcast.common.db import utcnow
from overcast.compute import errors, states
from overcast.compute.models import ComputeNode, Instance, InstanceAction

A, B, S, P, U = states.ACTIVE, states.BUILDING, states.STOPPED, states.PAUSED, states.SUSPENDED
E, R, RZ = states.ERROR, states.RESCUED, states.RESIZED
SH, SHO = states.SHELVED, states.SHELVED_OFFLOADED


@dataclass(frozen=True)
class Transition:
    """An action: the vm_states it may start from, the task_state it sets, the agent
    operation it casts (None: the API does it all) and the instance-action name."""

    vm_states: tuple[str, ...]
    task_state: str | None
    op: str | None
    action: str
    task_states: tuple = (None,)
    needs_host: bool = True
    capability: str | None = None  # the driver flag (drivers.base.Capabilities) the host must have


TRANSITIONS = {
    "stop": Transition((A, E), "powering-off", "stop_instance", "stop"),
    "start": Transition((S,), "powering-on", "start_instance", "start"),
    "reboot_soft": Transition((A,), "rebooting", "reboot_instance", "reboot",
                              (None, "rebooting")),
    "reboot_hard": Transition((A, S, P, U, E), "rebooting_hard", "reboot_instance", "reboot",
                              (None, "rebooting", "reboot_pending", "reboot_started", "rebooting_hard",
                               "reboot_pending_hard", "reboot_started_hard")),
    "pause": Transition((A,), "pausing", "pause_instance", "pause", capability="supports_pause"),
    "unpause": Transition((P,), "unpausing", "unpause_instance", "unpause", capability="supports_pause"),
    "suspend": Transition((A,), "suspending", "suspend_instance", "suspend", capability="supports_suspend"),
    "resume": Transition((U,), "resuming", "resume_instance", "resume", capability="supports_suspend"),
    "rebuild": Transition((A, S, E), "rebuilding", "rebuild_instance", "rebuild"),
    "resize": Transition((A, S), "resize_prep", "resize_instance", "resize", capability="supports_resize"),
    "migrate": Transition((A, S), "resize_prep", "migrate_instance", "migrate", capability="supports_migrate"),
    "resize_move": Transition((A, S), "resize_prep", "migrate_instance", "resize", capability="supports_migrate"),
    "live_migrate": Transition((A, P), "migrating", "live_migrate_instance", "live-migration",
                               capability="supports_live_migration"),
    "confirm_resize": Transition((RZ,), None, "confirm_resize", "confirmResize", capability="supports_resize"),
    "revert_resize": Transition((RZ,), "resize_reverting", "revert_resize", "revertResize",
                                capability="supports_resize"),
    "create_image": Transition((A, S, P, U), "image_snapshot", "snapshot_instance", "createImage",
                               capability="supports_snapshot"),
    "shelve": Transition((A, S, P, U), "shelving", "shelve_instance", "shelve", capability="supports_shelve"),
    "shelve_offload": Transition((SH,), "shelving_offloading", "shelve_offload_instance", "shelveOffload"),
    "unshelve": Transition((SH, SHO), "unshelving", None, "unshelve", needs_host=False),
    "rescue": Transition((A, S, E), "rescuing", "rescue_instance", "rescue", capability="supports_rescue"),
    "unrescue": Transition((R,), "unrescuing", "unrescue_instance", "unrescue", capability="supports_rescue"),
}


class ServerActions:
    def __init__(self, compute):
        self.compute = compute
        self.db = compute.db

    def check_lock(self, ctx, row: Instance) -> None:
        """A locked server takes actions only from admins (Nova's check_instance_lock)."""
        if row.locked and not ctx.is_admin:
            raise errors.InstanceLocked(row.uuid)

    def begin(self, ctx, uuid: str, name: str, values: dict | None = None, force: bool = False) -> Instance:
        """Start transition ``name`` on the server; the row as it is now. 409 when its state
        does not allow it, or when another request changed it first."""
        move = TRANSITIONS[name]
        with self.db.session() as session:
            row = self.compute.servers.get(ctx, uuid, session)
            if not force:
                self.check_lock(ctx, row)
            if row.vm_state not in move.vm_states:
                raise errors.InstanceInvalidState(uuid, move.action, "vm_state", row.vm_state)
            if row.task_state not in move.task_states:
                raise errors.InstanceInvalidState(uuid, move.action, "task_state", row.task_state)
            if move.needs_host and not row.host:
                raise errors.InstanceInvalidState(uuid, move.action, "vm_state", row.vm_state)
            if move.capability and not self.host_can(session, row.host, move.capability):
                raise errors.ComputeConflict(f"Cannot '{move.action}' instance {uuid}: the hypervisor of host "
                                             f"{row.host} does not support it.")
            now = utcnow()
            guard = Instance.task_state.is_(None) if row.task_state is None else Instance.task_state == row.task_state
            changes = {"task_state": move.task_state, "updated_at": now, **(values or {})}
            done = session.execute(
                update(Instance).where(Instance.uuid == uuid, Instance.vm_state == row.vm_state, guard,
                                       Instance.deleted.is_(False))
                .values(**changes).execution_options(synchronize_session=False)
            )
            if done.rowcount != 1:
                raise errors.ComputeConflict(f"Conflict updating instance {uuid}. Expected: {row.task_state}.")
            self.record(session, ctx, uuid, move.action, now)
            for key, value in changes.items():
                setattr(row, key, value)
            return row

    @staticmethod
    def host_can(session, host: str | None, capability: str) -> bool:
        """Whether the host's driver reported ``capability`` (hosts that never said: yes)."""
        reported = session.scalar(select(ComputeNode.capabilities).where(ComputeNode.host == host))
        return bool((reported or {}).get(capability, True))

    def record(self, session, ctx, uuid: str, action: str, now=None) -> None:
        session.add(InstanceAction(instance_uuid=uuid, action=action, request_id=ctx.request_id,
                                   user_id=ctx.user_id, project_id=ctx.project_id, start_time=now or utcnow()))

    def lock(self, ctx, uuid: str, reason: str | None) -> None:
        with self.db.session() as session:
            row = self.compute.servers.get(ctx, uuid, session)
            row.locked, row.locked_reason = True, reason
            row.locked_by = "owner" if row.project_id == ctx.project_id else "admin"
            row.updated_at = utcnow()
            self.record(session, ctx, uuid, "lock")

    def unlock(self, ctx, uuid: str, may_override: bool) -> None:
        """The one who locked unlocks; an admin lock needs ``may_override`` (admins)."""
        with self.db.session() as session:
            row = self.compute.servers.get(ctx, uuid, session)
            if row.locked and row.locked_by == "admin" and not may_override:
                raise errors.ComputeForbidden("Policy doesn't allow os_compute_api:os-lock-server:unlock:unlock_override"
                                              " to be performed.")
            row.locked, row.locked_by, row.locked_reason = False, None, None
            row.updated_at = utcnow()
            self.record(session, ctx, uuid, "unlock")

    def begin_delete(self, ctx, uuid: str) -> Instance | None:
        """Move the server to task 'deleting'; None if a delete is already under way."""
        with self.db.session() as session:
            row = self.compute.servers.get(ctx, uuid, session)
            self.check_lock(ctx, row)
            if row.task_state == "deleting":
                return None
            row.task_state, row.updated_at = "deleting", utcnow()
            self.record(session, ctx, uuid, "delete")
            return row

    def set_security_groups(self, ctx, uuid: str, add: str | None = None, remove: str | None = None) -> None:
        """The server's security group names, and the group itself on each of its ports.
        Without a network service the only group a project has is ``default``."""
        networked = self.compute.network_api.enabled
        if networked:
            self.compute.servers.get(ctx, uuid)
            self.compute.network_proxy.set_server_group(ctx, uuid, add or remove, add is not None)
        with self.db.session() as session:
            row = self.compute.servers.get(ctx, uuid, session)
            names = list(row.security_groups or [])
            if remove is not None:
                if remove not in names and not networked:
                    raise errors.ComputeNotFound(f"Security group {remove} not associated with the instance {uuid}")
                names = [name for name in names if name != remove]
                action = "removeSecurityGroup"
            else:
                if add != "default" and add not in names and not networked:
                    raise errors.ComputeNotFound(f"Security group {add} not found for project {ctx.project_id}.")
                names = list(dict.fromkeys(names + [add]))
                action = "addSecurityGroup"
            row.security_groups, row.updated_at = names, utcnow()
            self.record(session, ctx, uuid, action)

    def reset_state(self, ctx, uuid: str, vm_state: str) -> None:
        with self.db.session() as session:
            row = self.compute.servers.get(ctx, uuid, session)
            row.vm_state, row.task_state, row.updated_at = vm_state, None, utcnow()
            self.record(session, ctx, uuid, "resetState")
