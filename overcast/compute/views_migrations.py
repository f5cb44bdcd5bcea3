"""Migrations as Nova's JSON: os-migrations items and /servers/{id}/migrations items.

Nova's ``old_instance_type_id``/``new_instance_type_id`` are its flavors' internal integer
ids, which overcast's flavors do not have: an integer flavor id stands in, else null.
"""

from __future__ import annotations

from overcast.compute.service.migrations import LIVE_IN_PROGRESS
from overcast.compute.views_hosts import nova_time

HOST_FIELDS = ("dest_compute", "dest_host", "dest_node", "source_compute", "source_node")


def _flavor_id(flavor: dict | None) -> int | None:
    flavorid = str((flavor or {}).get("flavorid", ""))
    return int(flavorid) if flavorid.isdigit() and int(flavorid) < 1 << 31 else None


def _hosts(row, with_hosts: bool) -> dict:
    return {name: getattr(row, name) if with_hosts else None for name in HOST_FIELDS}


def migration(row, version, base: str, with_hosts: bool = True) -> dict:
    """One os-migrations item; ``base`` is .../v2.1 (for a live migration's links)."""
    body = {
        "created_at": nova_time(row.created_at),
        **_hosts(row, with_hosts),
        "id": row.id,
        "instance_uuid": row.instance_uuid,
        "new_instance_type_id": _flavor_id(row.new_flavor),
        "old_instance_type_id": _flavor_id(row.old_flavor),
        "status": row.status,
        "updated_at": nova_time(row.updated_at),
    }
    if version.at_least("2.23"):
        body["migration_type"] = row.migration_type
        if row.migration_type == "live-migration" and row.status in LIVE_IN_PROGRESS:
            path = f"servers/{row.instance_uuid}/migrations/{row.id}"
            root = base.rsplit("/v2.1", 1)[0]
            body["links"] = [{"rel": "self", "href": f"{base}/{path}"}, {"rel": "bookmark", "href": f"{root}/{path}"}]
    if version.at_least("2.59"):
        body["uuid"] = row.uuid
    if version.at_least("2.80"):
        body.update(user_id=row.user_id, project_id=row.project_id)
    return body


def server_migration(row, version, with_hosts: bool = True) -> dict:
    """One /servers/{id}/migrations item (a live migration with its progress counters)."""
    body = {
        "created_at": nova_time(row.created_at),
        **_hosts(row, with_hosts),
        "disk_processed_bytes": row.disk_processed,
        "disk_remaining_bytes": row.disk_remaining,
        "disk_total_bytes": row.disk_total,
        "id": row.id,
        "memory_processed_bytes": row.memory_processed,
        "memory_remaining_bytes": row.memory_remaining,
        "memory_total_bytes": row.memory_total,
        "server_uuid": row.instance_uuid,
        "status": row.status,
        "updated_at": nova_time(row.updated_at),
    }
    if version.at_least("2.59"):
        body["uuid"] = row.uuid
    if version.at_least("2.80"):
        body.update(user_id=row.user_id, project_id=row.project_id)
    return body
