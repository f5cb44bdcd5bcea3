"""Hosts as the admin APIs see them: services (os-services), hypervisors (os-hypervisors)
and the availability zones the services are in.

The rows come from the registry (a controller's nova-scheduler and nova-conductor, each
agent's nova-compute and its node). A service is up while its heartbeat is younger than
``DOWN_AFTER`` and no admin forced it down; ``updated_at`` is its last heartbeat. A
compute service's zone is ``compute_services.zone`` (aggregates keep it in sync); every
other service is in the ``internal`` zone, as in Nova.
"""

from __future__ import annotations

import datetime
import os
import socket
from dataclasses import dataclass, field

from sqlalchemy import delete, func, select

from overcast.common.config import Config
from overcast.common.db import Database, utcnow
from overcast.common.heartbeats import DOWN_AFTER, ServiceRecord
from overcast.compute import errors
from overcast.compute.models import AggregateHost, ComputeNode, ComputeServiceRow, Instance

COMPUTE = "nova-compute"
INTERNAL_ZONE = "internal"


@dataclass
class ServiceState:
    row: ComputeServiceRow
    up: bool
    updated_at: datetime.datetime | None  # the last heartbeat
    zone: str


@dataclass
class NodeState:
    node: ComputeNode
    service: ServiceState
    instances: int = 0  # non-deleted instances on the host (Nova's running_vms)
    workload: int = 0  # those with a task in progress (Nova's current_workload)
    servers: list[tuple[str, str]] | None = None  # (name, uuid), when asked for
    uptime: str | None = None
    usage: dict = field(default_factory=dict)


def _key(value: str, by_uuid: bool):
    """A path id as the column compares it: the uuid string, or an integer id (None when
    it is not one a database could hold, which then matches nothing)."""
    if by_uuid:
        return value
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if -(1 << 63) <= number < (1 << 63) else None


def _usage(node: ComputeNode) -> dict:
    """Nova's resource view of a node: used memory includes the host's reserved memory."""
    memory_used = node.memory_mb_used + node.reserved_host_memory_mb
    return {"vcpus": node.vcpus, "memory_mb": node.memory_mb, "local_gb": node.local_gb,
            "vcpus_used": node.vcpus_used, "memory_mb_used": memory_used, "local_gb_used": node.local_gb_used,
            "free_ram_mb": node.memory_mb - memory_used, "free_disk_gb": node.local_gb - node.local_gb_used,
            "disk_available_least": node.local_gb - node.local_gb_used}


def local_uptime() -> str:
    """This machine's uptime in the form of uptime(1), which Nova's libvirt driver returns."""
    with open("/proc/uptime") as handle:
        seconds = int(float(handle.read().split()[0]))
    days, rest = divmod(seconds, 86400)
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    now = datetime.datetime.now().strftime("%H:%M:%S")
    return f" {now} up {days} days, {rest // 3600}:{rest % 3600 // 60:02d},  load average: {load}"


class Hosts:
    def __init__(self, db: Database, config: Config):
        self.db = db
        self.local_host = config.compute.host or socket.gethostname()

    # -- services ----------------------------------------------------------------------

    def _states(self, session, rows: list[ComputeServiceRow]) -> list[ServiceState]:
        now = utcnow()
        beats = {(binary, host): seen for binary, host, seen in session.execute(
            select(ServiceRecord.binary, ServiceRecord.host, ServiceRecord.last_seen))}
        states = []
        for row in rows:
            seen = beats.get((row.binary, row.host))
            up = seen is not None and (now - seen).total_seconds() < DOWN_AFTER and not row.forced_down
            states.append(ServiceState(row, up, seen, row.zone if row.binary == COMPUTE else INTERNAL_ZONE))
        return states

    def list_services(self, host: str | None = None, binary: str | None = None) -> list[ServiceState]:
        query = select(ComputeServiceRow).order_by(ComputeServiceRow.id)
        if host:
            query = query.where(ComputeServiceRow.host == host)
        if binary:
            query = query.where(ComputeServiceRow.binary == binary)
        with self.db.session() as session:
            return self._states(session, list(session.scalars(query)))

    def _service(self, session, service_id: str, by_uuid: bool) -> ComputeServiceRow | None:
        column = ComputeServiceRow.uuid if by_uuid else ComputeServiceRow.id
        return session.scalars(select(ComputeServiceRow).where(column == _key(service_id, by_uuid))).first()

    def update_service(self, uuid: str, status: str | None = None, disabled_reason: str | None = None,
                       forced_down: bool | None = None) -> ServiceState:
        """The 2.53 update: ``status`` enabled/disabled (a reason only with disabled) and/or
        ``forced_down``. ServiceNotFound; ComputeInvalid for a non-compute service or no change."""
        with self.db.session() as session:
            row = self._service(session, uuid, by_uuid=True)
            if row is None:
                raise errors.ServiceNotFound(uuid)
            if row.binary != COMPUTE:
                raise errors.ComputeInvalid(f"Updating a {row.binary} service is not supported. Only nova-compute "
                                            "services can be updated.")
            if status == "enabled" and disabled_reason:
                raise errors.ComputeInvalid("Specifying 'disabled_reason' with status 'enabled' is invalid.")
            if status is None and forced_down is None:
                raise errors.ComputeInvalid("No updates were requested. Fields 'status' or 'forced_down' should "
                                            "be specified.")
            if status is not None:
                row.disabled = status == "disabled"
                row.disabled_reason = disabled_reason if row.disabled else None
            if forced_down is not None:
                row.forced_down = forced_down
            row.updated_at = utcnow()
            session.flush()
            return self._states(session, [row])[0]

    def set_service(self, host: str, binary: str, **values) -> None:
        """The pre-2.53 update by host and binary (``disabled``, ``disabled_reason``, ``forced_down``)."""
        if binary != COMPUTE:
            raise errors.ComputeInvalid(f"Updating a {binary} service is not supported. Only nova-compute services "
                                        "can be updated.")
        with self.db.session() as session:
            row = session.scalars(select(ComputeServiceRow).where(ComputeServiceRow.host == host,
                                                                  ComputeServiceRow.binary == binary)).first()
            if row is None:
                raise errors.HostBinaryNotFound(host, binary)
            for name, value in values.items():
                setattr(row, name, value)
            row.updated_at = utcnow()

    def delete_service(self, service_id: str, by_uuid: bool) -> None:
        """Remove a service; a compute service also leaves its aggregates and takes its node
        (and the claims on it) along. ServiceNotFound; ComputeConflict while instances are on it."""
        with self.db.session() as session:
            row = self._service(session, service_id, by_uuid)
            if row is None:
                raise errors.ServiceNotFound(service_id, "Service {service_id} not found.")
            if row.binary == COMPUTE:
                if self._instance_count(session, row.host):
                    raise errors.ComputeConflict("Unable to delete compute service that is hosting instances. "
                                                 "Migrate or delete the instances first.")
                session.execute(delete(AggregateHost).where(AggregateHost.host == row.host))
                session.execute(delete(ComputeNode).where(ComputeNode.host == row.host))
            session.execute(delete(ServiceRecord).where(ServiceRecord.binary == row.binary,
                                                        ServiceRecord.host == row.host))
            session.delete(row)

    @staticmethod
    def _instance_count(session, host: str) -> int:
        return session.scalar(select(func.count()).select_from(Instance)
                              .where(Instance.host == host, Instance.deleted.is_(False)))

    def availability_zones(self) -> tuple[list[str], list[str], list[ServiceState]]:
        """(zones with an enabled service, zones with only disabled ones, every service)."""
        services = self.list_services()
        available = {s.zone for s in services if not s.row.disabled}
        unavailable = {s.zone for s in services if s.row.disabled} - available
        return sorted(available), sorted(unavailable), services

    # -- hypervisors -------------------------------------------------------------------

    def list_nodes(self, limit: int | None = None, marker: str | None = None, by_uuid: bool = False,
                   pattern: str | None = None, with_servers: bool = False, detail: bool = False) -> list[NodeState]:
        """Nodes with their compute service, in id order. ``pattern`` keeps hypervisor hostnames
        containing it (SQL LIKE, as Nova) and raises NotFound when none does; an unknown
        ``marker`` (a node id, or uuid with ``by_uuid``) is ComputeInvalid."""
        query = select(ComputeNode).order_by(ComputeNode.id)
        if pattern is not None:
            query = query.where(ComputeNode.hypervisor_hostname.like(f"%{pattern}%"))
        with self.db.session() as session:
            if marker is not None:
                column = ComputeNode.uuid if by_uuid else ComputeNode.id
                start = session.scalar(select(ComputeNode.id).where(column == _key(marker, by_uuid)))
                if start is None:
                    raise errors.ComputeInvalid(f"marker [{marker}] not found")
                query = query.where(ComputeNode.id > start)
            if limit is not None:
                query = query.limit(limit)
            nodes = list(session.scalars(query))
            if pattern is not None and not nodes:
                raise errors.NotFound(f"No hypervisor matching '{pattern}' could be found.")
            return self._node_states(session, nodes, with_servers, detail)

    def get_node(self, node_id: str, by_uuid: bool, with_servers: bool = False) -> NodeState:
        column = ComputeNode.uuid if by_uuid else ComputeNode.id
        with self.db.session() as session:
            node = session.scalars(select(ComputeNode).where(column == _key(node_id, by_uuid))).first()
            states = self._node_states(session, [node] if node else [], with_servers, detail=True)
            if not states:
                raise errors.HypervisorNotFound(node_id)
            return states[0]

    def _node_states(self, session, nodes: list[ComputeNode], with_servers: bool, detail: bool) -> list[NodeState]:
        hosts = [node.host for node in nodes]
        rows = session.scalars(select(ComputeServiceRow).where(ComputeServiceRow.host.in_(hosts),
                                                               ComputeServiceRow.binary == COMPUTE)).all()
        services = {state.row.host: state for state in self._states(session, list(rows))}
        counts = {host: (total, busy) for host, total, busy in session.execute(
            select(Instance.host, func.count(), func.count(Instance.task_state))
            .where(Instance.host.in_(hosts), Instance.deleted.is_(False)).group_by(Instance.host))}
        servers: dict[str, list] = {}
        if with_servers:
            for host, name, uuid in session.execute(
                    select(Instance.host, Instance.display_name, Instance.uuid)
                    .where(Instance.host.in_(hosts), Instance.deleted.is_(False)).order_by(Instance.created_at)):
                servers.setdefault(host, []).append((name, uuid))
        states = []
        for node in nodes:
            if node.host not in services:  # a node whose service was deleted is not listed (Nova)
                continue
            total, busy = counts.get(node.host, (0, 0))
            states.append(NodeState(node, services[node.host], total, busy,
                                    servers.get(node.host, []) if with_servers else None,
                                    self.uptime(node.host) if detail else None, _usage(node)))
        return states

    def uptime(self, host: str) -> str | None:
        """The host's uptime(1) line; only this machine's is known (None for other hosts)."""
        if host != self.local_host:
            return None
        try:
            return local_uptime()
        except OSError:
            return None

    def statistics(self) -> dict:
        """Sums over the nodes of enabled compute services (Nova's compute_node_statistics)."""
        keys = ("vcpus", "memory_mb", "local_gb", "vcpus_used", "memory_mb_used", "local_gb_used", "free_ram_mb",
                "free_disk_gb", "disk_available_least")
        totals = dict.fromkeys(("count", *keys, "current_workload", "running_vms"), 0)
        for state in self.list_nodes():
            if state.service.row.disabled:
                continue
            totals["count"] += 1
            for key in keys:
                totals[key] += state.usage[key]
            totals["current_workload"] += state.workload
            totals["running_vms"] += state.instances
        return totals
