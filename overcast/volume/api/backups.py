"""/v3/{project_id}/backups: volume backups kept in the object store."""

from __future__ import annotations

import asyncio

from overcast.common.api import reply
from overcast.volume import errors, views
from overcast.volume.api import common


def _summary(req, row) -> dict:
    body = {"id": row.id, "name": row.name, "links": views.links(req.base_url, row.project_id, "backups", row.id)}
    if req.version.at_least("3.43"):
        body["metadata"] = dict(row.meta or {})
    return body


def _detail(req, row, parents: set[str]) -> dict:
    """``parents``: the ids (of those shown) that an incremental backup builds on."""
    body = {**_summary(req, row), "status": row.status, "description": row.description, "size": row.size,
            "object_count": row.object_count, "container": row.container,
            "availability_zone": row.availability_zone, "created_at": views.when(row.created_at),
            "updated_at": views.when(row.updated_at), "volume_id": row.volume_id, "snapshot_id": row.snapshot_id,
            "fail_reason": row.fail_reason, "is_incremental": row.parent_id is not None,
            "has_dependent_backups": row.id in parents,
            "data_timestamp": views.when(row.data_timestamp)}
    if req.version.at_least("3.18"):
        body["os-backup-project-attr:project_id"] = row.project_id
    if req.version.at_least("3.56"):
        body["user_id"] = row.user_id
    if req.version.at_least("3.64"):
        body["encryption_key_id"] = row.encryption_key_id
    return body


async def create(req):
    fields = common.body_dict(req, "backup")
    if not isinstance(fields.get("volume_id"), str):
        raise errors.InvalidInput("Incorrect request body format: volume_id is required.")
    common.check_name(fields)
    incremental = common.boolean(fields.get("incremental", False), "incremental")
    if "metadata" in fields:
        common.check_metadata(fields["metadata"])
    force = common.boolean(fields.get("force", False), "force")
    req.authorize({"project_id": req.context.project_id})
    service = req.state.volume
    row, cast = await asyncio.to_thread(service.backups.create, req.context, fields["volume_id"], fields, force,
                                        incremental)
    await service.send("create_backup", cast)
    return reply({"backup": _summary(req, row)}, status=202)


def _list(req, detail: bool):
    req.authorize({"project_id": req.context.project_id})
    filters = {key: req.query.get(key) for key in ("name", "status", "volume_id")}
    rows = req.state.volume.backups.list(req.context, filters, common.all_projects(req))
    if not detail:
        return reply({"backups": [_summary(req, row) for row in rows]})
    parents = req.state.volume.backups.dependents([row.id for row in rows])
    return reply({"backups": [_detail(req, row, parents) for row in rows]})


def list_backups(req):
    return _list(req, False)


def list_detail(req):
    return _list(req, True)


def _get(req):
    row = req.state.volume.backups.get(req.context, req.params["backup_id"])
    req.authorize({"project_id": row.project_id})
    return row


def show(req):
    row = _get(req)
    return reply({"backup": _detail(req, row, req.state.volume.backups.dependents([row.id]))})


def update(req):
    if not req.version.at_least("3.9"):
        req.authorized = True
        raise errors.NotFound("The resource could not be found.")
    fields = common.body_dict(req, "backup")
    common.check_name(fields)
    _get(req)
    row = req.state.volume.backups.update(req.context, req.params["backup_id"], fields)
    return reply({"backup": _summary(req, row)})


async def delete(req):
    row = await asyncio.to_thread(_get, req)
    force = common.boolean(req.query.get("force", "false"), "force")
    service = req.state.volume
    cast = await asyncio.to_thread(service.backups.begin_delete, req.context, row.id, force)
    await service.send("delete_backup", cast)
    return reply(None, status=202)


async def restore(req):
    body = req.json()
    fields = body.get("restore") if isinstance(body, dict) else None
    if not isinstance(fields, dict):
        raise errors.InvalidInput("Incorrect request body format")
    row = await asyncio.to_thread(_get, req)
    service = req.state.volume
    answer, cast = await asyncio.to_thread(service.backups.restore, req.context, row.id, fields.get("volume_id"),
                                           fields.get("name"))
    await service.send("restore_backup", cast)
    return reply({"restore": answer}, status=202)


async def action(req):
    body = req.json()
    if not isinstance(body, dict) or len(body) != 1:
        raise errors.InvalidInput("There should be exactly one action in the request body.")
    name, args = next(iter(body.items()))
    service = req.state.volume
    row = await asyncio.to_thread(service.backups.get, req.context, req.params["backup_id"])
    if name == "os-reset_status":
        req.authorize({"project_id": row.project_id}, "volume_extension:backup_admin_actions:reset_status")
        status = args.get("status") if isinstance(args, dict) else None
        await asyncio.to_thread(service.backups.reset_status, req.context, row.id, status)
        return reply(None, status=202)
    if name == "os-force_delete":
        req.authorize({"project_id": row.project_id}, "volume_extension:backup_admin_actions:force_delete")
        cast = await asyncio.to_thread(service.backups.begin_delete, req.context, row.id, True)
        await service.send("delete_backup", cast)
        return reply(None, status=202)
    req.authorized = True
    raise errors.InvalidInput(f"There is no such action: {name}")


def export_record(req):
    row = _get(req)
    return reply({"backup-record": req.state.volume.backups.export_record(req.context, row.id)})


def import_record(req):
    req.authorize()
    fields = common.body_dict(req, "backup-record")
    row = req.state.volume.backups.import_record(req.context, fields.get("backup_service"), fields.get("backup_url"))
    return reply({"backup": _summary(req, row)}, status=201)
