"""Usage per project over a period (os-simple-tenant-usage), computed from the instance rows.

An instance counts when it ran during the period: launched before the period ends and not
terminated before it starts, deleted or not. Its hours are the overlap of
[launched_at, terminated_at or the end] with the period; vcpus, memory and disk come from
the flavor copy the row keeps, so a flavor deleted since does not change old usage. The
period never reaches past now. Instances go in (project, uuid) order, so a ``limit`` and
a ``marker`` (an instance uuid) page through them, as Nova pages them.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from sqlalchemy import and_, or_, select

from overcast.common.db import Database, utcnow
from overcast.compute import errors
from overcast.compute.models import Instance


@dataclass
class ServerUsage:
    instance_id: str
    name: str
    tenant_id: str
    flavor: str
    vcpus: int
    memory_mb: int
    local_gb: int
    hours: float
    started_at: datetime.datetime
    ended_at: datetime.datetime | None
    state: str  # the vm_state, or "terminated" once it ended
    uptime: int  # seconds from launch to the end, or to now while it runs


@dataclass
class ProjectUsage:
    tenant_id: str
    start: datetime.datetime
    stop: datetime.datetime
    total_hours: float = 0
    total_vcpus_usage: float = 0
    total_memory_mb_usage: float = 0
    total_local_gb_usage: float = 0
    server_usages: list[ServerUsage] = field(default_factory=list)


def hours_in(launched: datetime.datetime | None, terminated: datetime.datetime | None,
             start: datetime.datetime, stop: datetime.datetime) -> float:
    """Hours of [launched, terminated] inside [start, stop]; 0 when it never launched or ran outside."""
    if launched is None or launched > stop or (terminated is not None and terminated < start):
        return 0
    end = min(stop, terminated) if terminated is not None else stop
    return (end - max(launched, start)).total_seconds() / 3600.0


class Usage:
    def __init__(self, db: Database):
        self.db = db

    def instances(self, start: datetime.datetime, stop: datetime.datetime, project_id: str | None = None,
                  limit: int | None = None, marker: str | None = None) -> list[Instance]:
        """Instances that ran during [start, stop], deleted ones too, in (project, uuid) order.

        Raises ComputeInvalid when ``marker`` names no instance at all.
        """
        query = select(Instance).where(or_(Instance.terminated_at.is_(None), Instance.terminated_at > start),
                                       Instance.launched_at < stop)
        if project_id is not None:
            query = query.where(Instance.project_id == project_id)
        with self.db.session() as session:
            if marker is not None:
                anchor = session.get(Instance, marker)
                if anchor is None:
                    raise errors.ComputeInvalid(f"Marker {marker} could not be found.")
                query = query.where(or_(Instance.project_id > anchor.project_id,
                                        and_(Instance.project_id == anchor.project_id, Instance.uuid > anchor.uuid)))
            query = query.order_by(Instance.project_id, Instance.uuid)
            if limit is not None:
                query = query.limit(limit)
            return list(session.scalars(query))

    def report(self, start: datetime.datetime, stop: datetime.datetime, project_id: str | None = None,
               limit: int | None = None, marker: str | None = None) -> tuple[list[ProjectUsage], list[ServerUsage]]:
        """Per-project totals over the period (stop capped at now), and every server's usage in order.

        ``start`` and ``stop`` are naive UTC; ComputeInvalid unless start < stop.
        """
        if not start < stop:
            raise errors.ComputeInvalid("Invalid start time. The start time cannot occur after the end time.")
        now = utcnow()
        stop = min(stop, now)
        projects: dict[str, ProjectUsage] = {}
        servers = []
        for row in self.instances(start, stop, project_id, limit, marker):
            server = _server_usage(row, start, stop, now)
            total = projects.setdefault(server.tenant_id, ProjectUsage(server.tenant_id, start, stop))
            total.total_hours += server.hours
            total.total_vcpus_usage += server.vcpus * server.hours
            total.total_memory_mb_usage += server.memory_mb * server.hours
            total.total_local_gb_usage += server.local_gb * server.hours
            total.server_usages.append(server)
            servers.append(server)
        return list(projects.values()), servers


def _server_usage(row: Instance, start, stop, now) -> ServerUsage:
    flavor = row.flavor or {}
    ended = row.terminated_at
    reference = ended if ended is not None else now
    return ServerUsage(
        instance_id=row.uuid, name=row.display_name, tenant_id=row.project_id, flavor=flavor.get("name", ""),
        vcpus=flavor.get("vcpus", row.vcpus), memory_mb=flavor.get("memory_mb", row.memory_mb),
        local_gb=flavor.get("root_gb", row.root_gb) + flavor.get("ephemeral_gb", row.ephemeral_gb or 0),
        hours=hours_in(row.launched_at, ended, start, stop), started_at=row.launched_at, ended_at=ended,
        state="terminated" if ended is not None else row.vm_state,
        uptime=int((reference - row.launched_at).total_seconds()),
    )
