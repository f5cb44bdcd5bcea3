"""Group types, groups, group snapshots, user messages and clusters -> Cinder's JSON."""

from __future__ import annotations

from overcast.common.api.microversions import Microversion
from overcast.volume.views import when


def group_type(row, is_admin: bool) -> dict:
    body = {"id": row.id, "name": row.name, "description": row.description, "is_public": row.is_public}
    if is_admin:
        body["group_specs"] = dict(row.group_specs or {})
    return body


def group_summary(row) -> dict:
    return {"id": row.id, "name": row.name}


def group(row, version: Microversion, volume_ids: list[str] | None = None) -> dict:
    body = {"id": row.id, "status": row.status, "availability_zone": row.availability_zone,
            "created_at": when(row.created_at), "name": row.name, "description": row.description,
            "group_type": row.group_type_id, "volume_types": list(row.volume_type_ids or [])}
    if version.at_least("3.14"):
        body["group_snapshot_id"] = row.group_snapshot_id
        body["source_group_id"] = row.source_group_id
    if version.at_least("3.25") and volume_ids is not None:
        body["volumes"] = volume_ids
    if version.at_least("3.38"):
        body["replication_status"] = "disabled"
    if version.at_least("3.58"):
        body["project_id"] = row.project_id
    return body


def consistency_group(row) -> dict:
    """A group as the consistency group API shows it (Cinder's ``consistencygroup`` view)."""
    return {"id": row.id, "status": row.status, "availability_zone": row.availability_zone,
            "created_at": when(row.created_at), "name": row.name, "description": row.description,
            "volume_types": list(row.volume_type_ids or [])}


def cgsnapshot(row) -> dict:
    """A group snapshot as the cgsnapshot API shows it."""
    return {"id": row.id, "consistencygroup_id": row.group_id, "status": row.status,
            "created_at": when(row.created_at), "name": row.name, "description": row.description}


def group_snapshot_summary(row) -> dict:
    return {"id": row.id, "name": row.name, "group_type_id": row.group_type_id}


def group_snapshot(row, version: Microversion) -> dict:
    body = {"id": row.id, "group_id": row.group_id, "group_type_id": row.group_type_id, "status": row.status,
            "created_at": when(row.created_at), "name": row.name, "description": row.description}
    if version.at_least("3.58"):
        body["project_id"] = row.project_id
    return body


def message(base: str, row, text: str) -> dict:
    body = {"id": row.id, "event_id": row.event_id, "user_message": text, "message_level": row.message_level,
            "created_at": when(row.created_at), "guaranteed_until": when(row.expires_at),
            "request_id": row.request_id,
            "links": [{"rel": "self", "href": f"{base}/v3/{row.project_id}/messages/{row.id}"},
                      {"rel": "bookmark", "href": f"{base}/{row.project_id}/messages/{row.id}"}]}
    if row.resource_type:
        body["resource_type"] = row.resource_type
    if row.resource_uuid:
        body["resource_uuid"] = row.resource_uuid
    return body


def cluster(row: dict, detail: bool, replication: bool) -> dict:
    """Cinder's cluster view: name, binary, state, status; with ``detail`` the members'
    counts and times; with ``replication`` (3.26) its replication fields."""
    body = {"name": row["name"], "binary": row["binary"], "state": "up" if row["is_up"] else "down",
            "status": "disabled" if row["disabled"] else "enabled"}
    if replication:
        body["replication_status"] = "disabled"
    if detail:
        body.update(num_hosts=row["num_hosts"], num_down_hosts=row["num_down_hosts"],
                    last_heartbeat=when(row["last_heartbeat"]), created_at=when(row["created_at"]),
                    updated_at=when(row["updated_at"]), disabled_reason=row["disabled_reason"])
        if replication:
            body.update(frozen=False, active_backend_id=None)
    return body
