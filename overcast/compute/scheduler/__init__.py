"""The scheduler: pick a host for an instance and claim its resources there.

Hosts are the compute nodes the agents registered, with their nova-compute service row
(enabled, zone, forced down) and heartbeat (up). Filters drop hosts that cannot take the
instance, weighers order the rest, and the best one is *claimed*: an allocation row plus
a guarded UPDATE of the node's ``*_used`` that only succeeds while the resources still
fit. A lost race moves on to the next host, so concurrent boots never oversubscribe one.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from sqlalchemy import delete, select, update

from overcast.common.db import Database, utcnow
from overcast.common.heartbeats import DOWN_AFTER, ServiceRecord
from overcast.compute.models import Allocation, ComputeNode, ComputeServiceRow
from overcast.compute.scheduler.filters import DEFAULT_FILTERS
from overcast.compute.scheduler.weighers import DEFAULT_WEIGHERS, weigh

COMPUTE_BINARY = "nova-compute"


class NoValidHost(Exception):
    def __init__(self, reason: str = ""):
        super().__init__("No valid host was found. " + reason)


@dataclass
class GroupSpec:
    """A server group as the scheduler needs it: the policy and its members' hosts (one
    entry per member, so a host with two members appears twice)."""

    policy: str
    hosts: list[str] = field(default_factory=list)
    max_server_per_host: int = 1


@dataclass
class RequestSpec:
    consumer: str  # the instance uuid (or a resize's id) the claim belongs to
    vcpus: int
    memory_mb: int
    disk_gb: int
    availability_zone: str | None = None
    force_host: str | None = None
    ignore_hosts: set[str] = field(default_factory=set)
    group: GroupSpec | None = None
    same_host: set[str] | None = None  # hosts of the same_host hint's instances (None: no hint)
    different_host: set[str] = field(default_factory=set)  # hosts of the different_host hint's instances


@dataclass
class HostState:
    node_id: int
    host: str
    node: str
    zone: str
    enabled: bool
    up: bool
    free_vcpus: float
    free_ram_mb: float
    free_disk_gb: float


def _free(node: ComputeNode) -> tuple[float, float, float]:
    return (node.vcpus * node.cpu_allocation_ratio - node.vcpus_used,
            (node.memory_mb - node.reserved_host_memory_mb) * node.ram_allocation_ratio - node.memory_mb_used,
            node.local_gb * node.disk_allocation_ratio - node.local_gb_used)


class Scheduler:
    def __init__(self, db: Database, filters=None, weighers=None):
        self.db = db
        self.filters = filters or DEFAULT_FILTERS
        self.weighers = weighers or DEFAULT_WEIGHERS

    def host_states(self, now: datetime.datetime | None = None) -> list[HostState]:
        now = now or utcnow()
        with self.db.session() as session:
            rows = session.execute(
                select(ComputeNode, ComputeServiceRow, ServiceRecord.last_seen)
                .join(ComputeServiceRow, (ComputeServiceRow.host == ComputeNode.host)
                      & (ComputeServiceRow.binary == COMPUTE_BINARY))
                .outerjoin(ServiceRecord, (ServiceRecord.host == ComputeNode.host)
                           & (ServiceRecord.binary == COMPUTE_BINARY))
            ).all()
        states = []
        for node, service, last_seen in rows:
            up = (last_seen is not None and (now - last_seen).total_seconds() < DOWN_AFTER
                  and not service.forced_down)
            states.append(HostState(node.id, node.host, node.hypervisor_hostname, service.zone,
                                    not service.disabled, up, *_free(node)))
        return states

    def select(self, spec: RequestSpec) -> list[HostState]:
        """Hosts that pass every filter, best first."""
        hosts = [h for h in self.host_states() if all(check(h, spec) for check in self.filters)]
        return weigh(hosts, spec, self.weighers)

    def schedule(self, spec: RequestSpec) -> HostState:
        """Claim the best host for ``spec``; NoValidHost when none can take it."""
        for host in self.select(spec):
            if self.claim(host.node_id, spec):
                return host
        raise NoValidHost()

    def claim(self, node_id: int, spec: RequestSpec, note: str | None = None) -> bool:
        """Atomically take ``spec``'s resources on the node; False if they no longer fit."""
        node = ComputeNode
        with self.db.session() as session:
            result = session.execute(
                update(node)
                .where(node.id == node_id,
                       node.vcpus_used + spec.vcpus <= node.vcpus * node.cpu_allocation_ratio,
                       node.memory_mb_used + spec.memory_mb
                       <= (node.memory_mb - node.reserved_host_memory_mb) * node.ram_allocation_ratio,
                       node.local_gb_used + spec.disk_gb <= node.local_gb * node.disk_allocation_ratio)
                .values(vcpus_used=node.vcpus_used + spec.vcpus, memory_mb_used=node.memory_mb_used + spec.memory_mb,
                        local_gb_used=node.local_gb_used + spec.disk_gb)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:
                return False
            session.add(Allocation(consumer=spec.consumer, node_id=node_id, vcpus=spec.vcpus,
                                   memory_mb=spec.memory_mb, disk_gb=spec.disk_gb, note=note))
        return True

    def release(self, consumer: str) -> None:
        """Give back everything ``consumer`` holds. Safe to repeat and to race: only the
        call that deletes an allocation row gives its resources back."""
        with self.db.session() as session:
            held = session.scalars(select(Allocation).where(Allocation.consumer == consumer)).all()
            for alloc in held:
                gone = session.execute(delete(Allocation).where(Allocation.consumer == consumer,
                                                                Allocation.node_id == alloc.node_id))
                if gone.rowcount != 1:
                    continue
                node = ComputeNode
                session.execute(
                    update(node).where(node.id == alloc.node_id)
                    .values(vcpus_used=node.vcpus_used - alloc.vcpus, memory_mb_used=node.memory_mb_used - alloc.memory_mb,
                            local_gb_used=node.local_gb_used - alloc.disk_gb)
                    .execution_options(synchronize_session=False)
                )

    def move(self, source: str, target: str) -> None:
        """Hand ``source``'s allocations to ``target`` (a resize's old claim, renamed)."""
        with self.db.session() as session:
            session.execute(update(Allocation).where(Allocation.consumer == source).values(consumer=target)
                            .execution_options(synchronize_session=False))


__all__ = ["COMPUTE_BINARY", "GroupSpec", "HostState", "NoValidHost", "RequestSpec", "Scheduler"]
