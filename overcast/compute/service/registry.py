"""Hosts joining the cloud: service rows (nova-compute, nova-scheduler, nova-conductor per
host) and the compute node each agent reports. Written by the conductor, read by the
scheduler and the admin APIs."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from overcast.common.db import Database, utcnow
from overcast.compute.models import ComputeNode, ComputeServiceRow, Instance


class Registry:
    def __init__(self, db: Database, default_zone: str = "nova"):
        self.db = db
        self.default_zone = default_zone

    def register_service(self, host: str, binary: str, topic: str, zone: str | None = None) -> None:
        """Add the service on first start; a restart keeps its admin state and zone."""
        with self.db.session() as session:
            row = session.scalars(select(ComputeServiceRow).where(ComputeServiceRow.host == host,
                                                                  ComputeServiceRow.binary == binary)).first()
            if row is None:
                session.add(ComputeServiceRow(uuid=str(uuid.uuid4()), host=host, binary=binary, topic=topic,
                                              zone=zone or (self.default_zone if binary == "nova-compute"
                                                            else "internal")))
            else:
                row.updated_at = utcnow()

    def report_node(self, host: str, report: dict) -> None:
        """Store an agent's resource report (totals, hypervisor, ratios); claims stay."""
        fields = {key: report[key] for key in (
            "hypervisor_hostname", "hypervisor_type", "hypervisor_version", "host_ip", "vcpus", "memory_mb",
            "local_gb", "running_vms", "cpu_info", "cpu_allocation_ratio", "ram_allocation_ratio",
            "disk_allocation_ratio", "reserved_host_memory_mb", "capabilities") if key in report}
        with self.db.session() as session:
            node = session.scalars(select(ComputeNode).where(ComputeNode.host == host)).first()
            if node is None:
                session.add(ComputeNode(uuid=str(uuid.uuid4()), host=host, **fields))
                return
            for key, value in fields.items():
                setattr(node, key, value)
            node.updated_at = utcnow()

    def instances_on_host(self, host: str) -> list[dict]:
        with self.db.session() as session:
            rows = session.execute(
                select(Instance.uuid, Instance.vm_state, Instance.task_state, Instance.power_state)
                .where(Instance.host == host, Instance.deleted.is_(False))
            ).all()
        return [{"uuid": u, "vm_state": vm, "task_state": task, "power_state": power} for u, vm, task, power in rows]
