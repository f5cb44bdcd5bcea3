"""Volume, snapshot, type and attachment records -> Cinder's JSON, per microversion."""

from __future__ import annotations

from overcast.common.api.microversions import Microversion


def when(moment) -> str | None:
    """Cinder's timestamps: 2026-11-22T02:30:03.000000 (UTC, no zone suffix)."""
    return moment.isoformat(timespec="microseconds") if moment is not None else None


def links(base: str, project_id: str, kind: str, ident: str) -> list[dict]:
    return [{"rel": "self", "href": f"{base}/v3/{project_id}/{kind}/{ident}"},
            {"rel": "bookmark", "href": f"{base}/{project_id}/{kind}/{ident}"}]


def attachment_summary(row) -> dict:
    return {"server_id": row.instance_uuid, "attachment_id": row.id, "attached_at": when(row.attached_at),
            "host_name": row.attached_host, "volume_id": row.volume_id, "device": row.mountpoint,
            "id": row.volume_id}


VISIBLE_ADMIN_METADATA = ("readonly", "attached_mode")


def metadata(row) -> dict:
    """A volume's metadata as Cinder shows it: the user's keys, then the admin metadata
    users may see (``readonly`` once the flag was set) over them."""
    admin = {k: v for k, v in (row.admin_meta or {}).items() if k in VISIBLE_ADMIN_METADATA}
    return {**(row.meta or {}), **admin}


def volume_summary(base: str, row) -> dict:
    return {"id": row.id, "name": row.name, "links": links(base, row.project_id, "volumes", row.id)}


def volume(base: str, row, version: Microversion, attachments: list, type_names: dict, is_admin: bool,
           create: bool = False, encrypted: frozenset = frozenset()) -> dict:
    """The detail view; ``create`` is the shorter one create and update answer with (no
    extension attributes, no image metadata), as Cinder's."""
    body = {
        "id": row.id, "name": row.name, "description": row.description, "status": row.status, "size": row.size,
        "availability_zone": row.availability_zone, "created_at": when(row.created_at),
        "updated_at": when(row.updated_at),
        "attachments": [attachment_summary(a) for a in attachments if a.attach_status == "attached"],
        "links": links(base, row.project_id, "volumes", row.id), "metadata": metadata(row),
        "volume_type": type_names.get(row.volume_type_id), "snapshot_id": row.snapshot_id,
        "source_volid": row.source_volid, "user_id": row.user_id, "bootable": "true" if row.bootable else "false",
        "encrypted": row.volume_type_id in encrypted, "replication_status": None, "consistencygroup_id": None, "multiattach": row.multiattach,
        "migration_status": row.migration_status,
    }
    if not create:
        body["os-vol-tenant-attr:tenant_id"] = row.project_id
    if row.image_metadata and not create:
        body["volume_image_metadata"] = dict(row.image_metadata)
    if is_admin and not create:
        body["os-vol-host-attr:host"] = row.host
        body["os-vol-mig-status-attr:migstat"] = row.migration_status
        body["os-vol-mig-status-attr:name_id"] = None
    if version.at_least("3.13"):
        body["group_id"] = row.group_id
    if version.at_least("3.21"):
        body["provider_id"] = None
    if version.at_least("3.48"):
        body["service_uuid"] = None
        body["shared_targets"] = False
    if version.at_least("3.61") and is_admin:
        body["cluster_name"] = row.cluster_name
    if version.at_least("3.63"):
        body["volume_type_id"] = row.volume_type_id
    if version.at_least("3.64"):
        body["encryption_key_id"] = row.encryption_key_id
    if version.at_least("3.65"):
        body["consumes_quota"] = True
    return body


def snapshot(row, version: Microversion, detail: bool = True) -> dict:
    body = {"id": row.id, "name": row.name, "description": row.description, "status": row.status,
            "size": row.size, "volume_id": row.volume_id, "metadata": dict(row.meta or {}),
            "created_at": when(row.created_at), "updated_at": when(row.updated_at)}
    if detail:
        body["os-extended-snapshot-attributes:progress"] = row.progress
        body["os-extended-snapshot-attributes:project_id"] = row.project_id
    if version.at_least("3.14"):
        body["group_snapshot_id"] = row.group_snapshot_id
    if version.at_least("3.41"):
        body["user_id"] = row.user_id
    if version.at_least("3.65"):
        body["consumes_quota"] = True
    return body


def volume_type(row, is_admin: bool, kind: str = "show") -> dict:
    """``kind``: show (and list), create or update; each answer has its own field set."""
    body = {"id": row.id, "name": row.name, "description": row.description, "is_public": row.is_public,
            "extra_specs": dict(row.extra_specs or {}) if is_admin else {}}
    if kind in ("show", "create"):
        body["os-volume-type-access:is_public"] = row.is_public
    if kind == "show" and is_admin:
        body["qos_specs_id"] = row.qos_specs_id
    return body


def attachment(row, volume_status: str | None = None, detail: bool = True) -> dict:
    body = {"id": row.id, "status": row.attach_status, "instance": row.instance_uuid, "volume_id": row.volume_id}
    if detail:
        body.update({"attached_at": when(row.attached_at), "detached_at": None, "attach_mode": row.attach_mode,
                     "connection_info": row.connection_info or {}})
    return body
