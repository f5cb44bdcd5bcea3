"""Images and members as Glance v2 JSON."""

from __future__ import annotations

from overcast.common.times import iso_seconds as _time


def image(row) -> dict:
    body = {
        **getattr(row, "properties", {}),
        "id": row.id,
        "name": row.name,
        "status": row.status,
        "visibility": row.visibility,
        "protected": row.protected,
        "os_hidden": row.os_hidden,
        "owner": row.owner,
        "size": row.size,
        "virtual_size": row.virtual_size,
        "checksum": row.checksum,
        "os_hash_algo": row.os_hash_algo,
        "os_hash_value": row.os_hash_value,
        "disk_format": row.disk_format,
        "container_format": row.container_format,
        "min_ram": row.min_ram,
        "min_disk": row.min_disk,
        "tags": getattr(row, "tags", []),
        "created_at": _time(row.created_at),
        "updated_at": _time(row.updated_at),
        "self": f"/v2/images/{row.id}",
        "file": f"/v2/images/{row.id}/file",
        "schema": "/v2/schemas/image",
    }
    return body


def member(row) -> dict:
    return {
        "image_id": row.image_id,
        "member_id": row.member,
        "status": row.status,
        "created_at": _time(row.created_at),
        "updated_at": _time(row.updated_at),
        "schema": "/v2/schemas/member",
    }
