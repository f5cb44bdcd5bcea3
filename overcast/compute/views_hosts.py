"""Services, hypervisors, aggregates and availability zones as Nova's JSON, per microversion.

Times are written as Nova's serializer writes naive UTC datetimes: 2026-11-22T05:31:39.000000.
"""

from __future__ import annotations

import json

from overcast.common.times import iso

# the fields 2.88 removed from hypervisor details (and whose sums statistics gave)
RESOURCE_FIELDS = ("vcpus", "memory_mb", "local_gb", "vcpus_used", "memory_mb_used", "local_gb_used", "free_ram_mb",
                   "free_disk_gb", "current_workload", "running_vms", "disk_available_least")


def nova_time(moment) -> str | None:
    return None if moment is None else iso(moment)[:-1]


def service(state, version) -> dict:
    row = state.row
    body = {
        "id": row.uuid if version.at_least("2.53") else row.id,
        "binary": row.binary,
        "host": row.host,
        "zone": state.zone,
        "status": "disabled" if row.disabled else "enabled",
        "state": "up" if state.up else "down",
        "updated_at": nova_time(state.updated_at),
        "disabled_reason": row.disabled_reason,
    }
    if version.at_least("2.11"):
        body["forced_down"] = row.forced_down
    return body


def hypervisor(state, version, detail: bool) -> dict:
    node, service_row = state.node, state.service.row
    uuids = version.at_least("2.53")
    body = {
        "id": node.uuid if uuids else node.id,
        "hypervisor_hostname": node.hypervisor_hostname,
        "state": "up" if state.service.up else "down",
        "status": "disabled" if service_row.disabled else "enabled",
    }
    if detail:
        body.update(hypervisor_type=node.hypervisor_type, hypervisor_version=node.hypervisor_version,
                    host_ip=node.host_ip)
        body["service"] = {"id": service_row.uuid if uuids else service_row.id, "host": node.host,
                           "disabled_reason": service_row.disabled_reason}
        if version.at_least("2.88"):
            body["uptime"] = state.uptime
        else:
            resources = {**state.usage, "current_workload": state.workload, "running_vms": state.instances}
            body.update({key: resources[key] for key in RESOURCE_FIELDS})
            cpu_info = node.cpu_info or {}
            body["cpu_info"] = cpu_info if version.at_least("2.28") else json.dumps(cpu_info)
    if state.servers:
        body["servers"] = [{"name": name, "uuid": uuid} for name, uuid in state.servers]
    elif state.servers is not None and version.at_least("2.75"):
        body["servers"] = []
    return body


def aggregate(view, version, created: bool = False) -> dict:
    body = {
        "id": view.id,
        "name": view.name,
        "availability_zone": view.availability_zone,
        "created_at": nova_time(view.created_at),
        "updated_at": nova_time(view.updated_at),
        "deleted_at": None,
        "deleted": False,
    }
    if not created:  # a create answers without hosts and metadata, as Nova always has
        body.update(hosts=view.hosts, metadata=view.metadata)
    if version.at_least("2.41"):
        body["uuid"] = view.uuid
    return body


def zones(available: list[str], unavailable: list[str], services=None) -> list[dict]:
    """The zone list; with ``services`` (the detail view) each available zone names its
    hosts and their enabled services, and the internal zone is shown."""
    hosts: dict[str, dict] = {}
    for state in services or []:
        if state.row.disabled:
            continue
        hosts.setdefault(state.zone, {}).setdefault(state.row.host, {})[state.row.binary] = {
            "available": state.up, "active": True, "updated_at": nova_time(state.updated_at)}
    listed = [{"zoneName": zone, "zoneState": {"available": True}, "hosts": hosts.get(zone, {}) if services else None}
              for zone in available]
    listed += [{"zoneName": zone, "zoneState": {"available": False}, "hosts": None} for zone in unavailable]
    if services is None:
        listed = [entry for entry in listed if entry["zoneName"] != "internal"]
    return listed
