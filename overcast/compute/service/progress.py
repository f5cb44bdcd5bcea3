"""What the conductor writes when scheduling and the agents report back: the host an
instance landed on, its new states, instance-action events and faults."""

from __future__ import annotations

import datetime

from sqlalchemy import select, update

from overcast.common.db import utcnow
from overcast.compute import states
from overcast.compute.models import Instance, InstanceAction, InstanceActionEvent, InstanceFault

TIME_FIELDS = ("launched_at", "terminated_at")


def _time(value):
    return datetime.datetime.fromisoformat(value) if isinstance(value, str) else value


class Progress:
    def __init__(self, compute):
        self.compute = compute
        self.db = compute.db

    def place(self, uuid: str, host: str, node: str, zone: str, task_state: str = "scheduling",
              event: dict | None = None) -> Instance | None:
        """Record the host the scheduler claimed (and the scheduling ``event``); None if the
        server was deleted meanwhile (the caller then gives the claim back)."""
        with self.db.session() as session:
            done = session.execute(
                update(Instance).where(Instance.uuid == uuid, Instance.deleted.is_(False),
                                       Instance.task_state == task_state)
                .values(host=host, node=node, availability_zone=zone, updated_at=utcnow(),
                        task_state="spawning" if task_state == "scheduling" else task_state)
                .execution_options(synchronize_session=False)
            )
            if done.rowcount != 1:
                return None
            if event:
                self.add_event(session, uuid, event)
            row = session.get(Instance, uuid)
            row.meta = self.compute.servers.load_extras(session, [row])[0].meta
            return row

    def apply(self, uuid: str, values: dict, expected_task_state=None, event: dict | None = None,
              fault: dict | None = None, check_task: bool = True, record_action: str | None = None) -> Instance | None:
        """Write an agent's report. With ``check_task`` the states change only while the
        server is still in ``expected_task_state`` (a delete that came later wins); the
        event and fault are kept either way. ``record_action`` names an instance action the
        agent started on its own (the power-state sync's ``stop``): recorded, under the
        event's request id, only if the states changed. Returns the row, or None if
        nothing changed."""
        values = {k: (_time(v) if k in TIME_FIELDS else v) for k, v in values.items()}
        with self.db.session() as session:
            query = update(Instance).where(Instance.uuid == uuid, Instance.deleted.is_(False))
            if check_task:
                query = query.where(Instance.task_state.is_(None) if expected_task_state is None
                                    else Instance.task_state == expected_task_state)
            done = session.execute(query.values(**values, updated_at=utcnow())
                                   .execution_options(synchronize_session=False))
            if record_action and event:
                if done.rowcount != 1:
                    return None
                row = session.get(Instance, uuid)
                session.add(InstanceAction(instance_uuid=uuid, action=record_action, request_id=event["request_id"],
                                           user_id=row.user_id, project_id=row.project_id, start_time=utcnow()))
                session.flush()
            if event:
                self.add_event(session, uuid, event)
            if fault:
                session.add(InstanceFault(instance_uuid=uuid, code=fault.get("code", 500), message=fault["message"][:255],
                                          details=fault.get("details"), host=fault.get("host")))
            return session.get(Instance, uuid) if done.rowcount == 1 else None

    def add_event(self, session, uuid: str, event: dict) -> None:
        action = session.scalars(
            select(InstanceAction).where(InstanceAction.instance_uuid == uuid,
                                         InstanceAction.request_id == event["request_id"])
            .order_by(InstanceAction.id.desc())
        ).first()
        if action is None:
            return
        finish = _time(event.get("finish"))
        session.add(InstanceActionEvent(action_id=action.id, event=event["name"], host=event.get("host"),
                                        result=event.get("result"), traceback=event.get("traceback"),
                                        details=event.get("details"),
                                        start_time=_time(event.get("start")) or utcnow(), finish_time=finish))
        action.updated_at = finish or utcnow()
        if event.get("result") == "Error":
            action.message = "Error"

    def fail_build(self, uuid: str, message: str, request_id: str, details: str = "", host: str | None = None) -> None:
        """A boot that cannot go on: ERROR with a fault, the claim given back."""
        now = utcnow().isoformat()
        self.apply(uuid, {"vm_state": states.ERROR, "task_state": None}, check_task=False,
                   event={"name": "conductor_schedule_and_build_instances" if host is None
                          else "compute__do_build_and_run_instance", "request_id": request_id,
                          "start": now, "finish": now, "result": "Error", "traceback": details, "host": host},
                   fault={"code": 500, "message": message, "details": details, "host": host})
        self.compute.scheduler.release(uuid)
