"""os-hosts, the API Nova deprecated for os-services and os-hypervisors (gone at 2.43).

A "host" is a hostname with services on it. The listing shows each enabled service's host
with the service's topic and zone; a host's detail is its compute node's resources and
what the instances on it take, in total and per project. The host-level switches answer as
Nova's libvirt driver makes them answer: ``status`` changes nothing lasting (Nova only
flips a scheduler trait until its next periodic sync) and echoes the state asked for;
maintenance mode and power actions are not supported (501).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from overcast.common.db import Database
from overcast.common.errors import NotFound, Unimplemented
from overcast.compute import errors
from overcast.compute.models import ComputeNode, ComputeServiceRow, Instance
from overcast.compute.service.hosts import COMPUTE, Hosts

API_BINARIES = ("nova-osapi_compute", "nova-metadata")  # never listed as hosts
UNSUPPORTED = "The requested functionality is not supported."


@dataclass
class HostUse:
    """One row of a host's detail: a total, or one project's use."""

    host: str
    project: str
    cpu: int
    memory_mb: int
    disk_gb: int


class LegacyHosts:
    def __init__(self, db: Database, hosts: Hosts):
        self.db = db
        self.hosts = hosts

    def list_hosts(self, zone: str | None = None) -> list[tuple[str, str, str]]:
        """(host, topic, zone) per enabled service, in service order; ``zone`` keeps one zone."""
        listed = []
        for state in self.hosts.list_services():
            if state.row.disabled or state.row.binary in API_BINARIES:
                continue
            if zone and state.zone != zone:
                continue
            listed.append((state.row.host, state.row.topic, state.zone))
        return listed

    def show_host(self, host: str) -> list[HostUse]:
        """(total), (used_now), (used_max), then one row per project with instances there.
        NotFound when no compute service runs on ``host``; ComputeHostNotFound without a node."""
        with self.db.session() as session:
            if self._compute_service(session, host) is None:
                raise NotFound(f"Host '{host}' is not mapped to any cell")
            node = session.scalars(select(ComputeNode).where(ComputeNode.host == host)
                                   .order_by(ComputeNode.id)).first()
            if node is None:
                raise errors.ComputeHostNotFound(host)
            instances = session.execute(
                select(Instance.project_id, Instance.vcpus, Instance.memory_mb, Instance.root_gb,
                       Instance.ephemeral_gb)
                .where(Instance.host == host, Instance.deleted.is_(False)).order_by(Instance.created_at)).all()
            used_memory = node.memory_mb_used + node.reserved_host_memory_mb  # Nova counts the reserved memory
            rows = [HostUse(host, "(total)", node.vcpus, node.memory_mb, node.local_gb),
                    HostUse(host, "(used_now)", node.vcpus_used, used_memory, node.local_gb_used)]
        used_max = HostUse(host, "(used_max)", 0, 0, 0)
        projects: dict[str, HostUse] = {}
        for project, vcpus, memory_mb, root_gb, ephemeral_gb in instances:
            for use in (used_max, projects.setdefault(project, HostUse(host, project, 0, 0, 0))):
                use.cpu += vcpus
                use.memory_mb += memory_mb
                use.disk_gb += root_gb + (ephemeral_gb or 0)
        return rows + [used_max, *projects.values()]

    def set_enabled(self, host: str, enabled: bool) -> str:
        """'enabled' or 'disabled', as Nova's compute manager answers for drivers without the
        switch; the service's own disabled flag stays as it is (os-services sets that)."""
        self._assert_compute_host(host)
        return "enabled" if enabled else "disabled"

    def set_maintenance(self, host: str, mode: bool) -> str:
        self._assert_compute_host(host)
        raise Unimplemented(UNSUPPORTED)

    def power_action(self, host: str, action: str) -> str:
        """startup, shutdown or reboot a host: no driver does this (501)."""
        self._assert_compute_host(host)
        raise Unimplemented(UNSUPPORTED)

    def _assert_compute_host(self, host: str) -> None:
        with self.db.session() as session:
            if self._compute_service(session, host) is None:
                raise errors.HostNotFound(host)

    @staticmethod
    def _compute_service(session, host: str) -> ComputeServiceRow | None:
        return session.scalars(select(ComputeServiceRow).where(ComputeServiceRow.host == host,
                                                               ComputeServiceRow.binary == COMPUTE)).first()
