"""os-simple-tenant-usage as Nova's JSON: times with microseconds and no zone, floats as computed."""

from __future__ import annotations

from overcast.compute.service.usage import ProjectUsage, ServerUsage
from overcast.compute.views_servers import usage_time


def server_usage(usage: ServerUsage) -> dict:
    return {"hours": usage.hours, "flavor": usage.flavor, "instance_id": usage.instance_id, "name": usage.name,
            "tenant_id": usage.tenant_id, "memory_mb": usage.memory_mb, "local_gb": usage.local_gb,
            "vcpus": usage.vcpus, "started_at": usage_time(usage.started_at), "ended_at": usage_time(usage.ended_at),
            "state": usage.state, "uptime": usage.uptime}


def project_usage(usage: ProjectUsage, detailed: bool) -> dict:
    body = {"tenant_id": usage.tenant_id}
    if detailed:
        body["server_usages"] = [server_usage(server) for server in usage.server_usages]
    body.update(total_local_gb_usage=usage.total_local_gb_usage, total_vcpus_usage=usage.total_vcpus_usage,
                total_memory_mb_usage=usage.total_memory_mb_usage, total_hours=usage.total_hours,
                start=usage_time(usage.start), stop=usage_time(usage.stop))
    return body
