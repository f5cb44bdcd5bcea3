"""/v2.1/os-volumes and /v2.1/os-snapshots: Nova's proxy to block storage (below 2.36)."""

from __future__ import annotations

import asyncio

from overcast.common.api import Route, reply
from overcast.common.errors import NotFound
from overcast.compute import errors

P = "os_compute_api:os-volumes:"


def _volume_service(req):
    if not req.version.at_least("2.36") and req.state.compute.volume_attachments.volume is not None:
        return req.state.compute.volume_attachments.volume
    req.authorized = True
    raise errors.ComputeNotFound("The resource could not be found.")


def _when(moment) -> str:
    return moment.isoformat(timespec="microseconds")


def volume_view(row, attachments: list, type_name: str | None) -> dict:
    attached = [{"id": a.volume_id, "volumeId": a.volume_id, "serverId": a.instance_uuid, "device": a.mountpoint}
                for a in attachments if a.attach_status == "attached"]
    return {"id": row.id, "status": row.status, "size": row.size, "availabilityZone": row.availability_zone,
            "createdAt": _when(row.created_at), "attachments": attached or [{}], "displayName": row.name,
            "displayDescription": row.description, "volumeType": type_name, "snapshotId": row.snapshot_id,
            "metadata": dict(row.meta or {})}


def snapshot_view(row) -> dict:
    return {"id": row.id, "volumeId": row.volume_id, "status": row.status, "size": row.size,
            "createdAt": _when(row.created_at), "displayName": row.name, "displayDescription": row.description}


def _volumes(service, rows) -> list[dict]:
    attached = service.volumes.attachments([row.id for row in rows])
    names = service.types.names(row.volume_type_id for row in rows)
    return [volume_view(row, attached[row.id], names.get(row.volume_type_id)) for row in rows]


def _page(req, rows):
    limit, offset = req.query.get("limit"), req.query.get("offset", "0")
    if (limit is not None and not limit.isdigit()) or not offset.isdigit():
        raise errors.ComputeInvalid("Invalid input for query parameters limit or offset.")
    rows = rows[int(offset):]
    return rows[:int(limit)] if limit is not None else rows


def list_volumes(req):
    service = _volume_service(req)
    req.authorize({"project_id": req.context.project_id})
    rows = service.volumes.list(req.context, {}, [("created_at", "desc")], None, None)
    return reply({"volumes": _volumes(service, _page(req, rows))})


def show_volume(req):
    service = _volume_service(req)
    try:
        row = service.volumes.get(req.context, req.params["volume_id"])
    except NotFound:
        req.authorized = True
        raise errors.ComputeNotFound(f"Volume {req.params['volume_id']} could not be found.") from None
    req.authorize({"project_id": row.project_id})
    return reply({"volume": _volumes(service, [row])[0]})


async def create_volume(req):
    service = _volume_service(req)
    body = req.json()
    fields = body.get("volume") if isinstance(body, dict) else None
    if not isinstance(fields, dict):
        raise errors.ComputeInvalid("Invalid input for field/attribute volume.")
    size = fields.get("size")
    if isinstance(size, bool) or not (isinstance(size, int) or (isinstance(size, str) and size.isdigit())) \
            or int(size) < 1:
        raise errors.ComputeInvalid(f"Invalid input for field/attribute size. Value: {size}.")
    req.authorize({"project_id": req.context.project_id})
    wanted = {"size": int(size), "name": fields.get("display_name"), "description": fields.get("display_description"),
              "volume_type": fields.get("volume_type"), "metadata": fields.get("metadata") or {},
              "availability_zone": fields.get("availability_zone"), "snapshot_id": fields.get("snapshot_id")}
    try:
        row, cast = await asyncio.to_thread(service.volumes.create, req.context, wanted)
    except NotFound as failure:
        raise errors.ComputeNotFound(failure.text) from None
    await service.send("create_volume", cast)
    return reply({"volume": await asyncio.to_thread(lambda: _volumes(service, [row])[0])})


async def delete_volume(req):
    service = _volume_service(req)
    try:
        row = await asyncio.to_thread(service.volumes.get, req.context, req.params["volume_id"])
    except NotFound:
        req.authorized = True
        raise errors.ComputeNotFound(f"Volume {req.params['volume_id']} could not be found.") from None
    req.authorize({"project_id": row.project_id})
    cast = await asyncio.to_thread(service.volumes.begin_delete, req.context, row.id)
    await service.send("delete_volume", cast)
    return reply(None, status=202)


def list_snapshots(req):
    service = _volume_service(req)
    req.authorize({"project_id": req.context.project_id})
    rows = service.snapshots.list(req.context, {}, [("created_at", "desc")], None, None)
    return reply({"snapshots": [snapshot_view(row) for row in _page(req, rows)]})


def show_snapshot(req):
    service = _volume_service(req)
    try:
        row = service.snapshots.get(req.context, req.params["snapshot_id"])
    except NotFound:
        req.authorized = True
        raise errors.ComputeNotFound(f"Snapshot {req.params['snapshot_id']} could not be found.") from None
    req.authorize({"project_id": row.project_id})
    return reply({"snapshot": snapshot_view(row)})


async def create_snapshot(req):
    service = _volume_service(req)
    body = req.json()
    fields = body.get("snapshot") if isinstance(body, dict) else None
    if not isinstance(fields, dict) or not fields.get("volume_id"):
        raise errors.ComputeInvalid("Invalid input for field/attribute snapshot.")
    force = str(fields.get("force", False)).lower() in ("true", "1", "yes")
    req.authorize({"project_id": req.context.project_id})
    try:
        row, cast = await asyncio.to_thread(service.snapshots.create, req.context, fields["volume_id"],
                                            fields.get("display_name"), fields.get("display_description"), force, {})
    except NotFound as failure:
        raise errors.ComputeNotFound(failure.text) from None
    await service.send("create_snapshot", cast)
    return reply({"snapshot": snapshot_view(row)})


async def delete_snapshot(req):
    service = _volume_service(req)
    try:
        row = await asyncio.to_thread(service.snapshots.get, req.context, req.params["snapshot_id"])
    except NotFound:
        req.authorized = True
        raise errors.ComputeNotFound(f"Snapshot {req.params['snapshot_id']} could not be found.") from None
    req.authorize({"project_id": row.project_id})
    cast = await asyncio.to_thread(service.snapshots.begin_delete, req.context, row.id)
    await service.send("delete_snapshot", cast)
    return reply(None, status=202)


ROUTES = [
    Route("GET", "/v2.1/os-volumes", list_volumes, P + "list"),
    Route("GET", "/v2.1/os-volumes/detail", list_volumes, P + "detail"),
    Route("POST", "/v2.1/os-volumes", create_volume, P + "create"),
    Route("GET", "/v2.1/os-volumes/{volume_id}", show_volume, P + "show"),
    Route("DELETE", "/v2.1/os-volumes/{volume_id}", delete_volume, P + "delete"),
    Route("GET", "/v2.1/os-snapshots", list_snapshots, P + "snapshots:list"),
    Route("GET", "/v2.1/os-snapshots/detail", list_snapshots, P + "snapshots:detail"),
    Route("POST", "/v2.1/os-snapshots", create_snapshot, P + "snapshots:create"),
    Route("GET", "/v2.1/os-snapshots/{snapshot_id}", show_snapshot, P + "snapshots:show"),
    Route("DELETE", "/v2.1/os-snapshots/{snapshot_id}", delete_snapshot, P + "snapshots:delete"),
]
