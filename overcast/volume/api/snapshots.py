"""/v3/{project_id}/snapshots: create, list, show, update, delete, metadata, admin actions."""

from __future__ import annotations

import asyncio

from overcast.common.api import reply
from overcast.volume import errors, views
from overcast.volume.api import common, metadata
from overcast.volume.service.snapshots import SORT_KEYS

FILTERS = ("name", "display_name", "status", "volume_id", "metadata", "project_id")


async def create(req):
    fields = common.body_dict(req, "snapshot")
    for old, new in (("display_name", "name"), ("display_description", "description")):
        if old in fields and new not in fields:
            fields[new] = fields.pop(old)
    common.check_name(fields)
    if not isinstance(fields.get("volume_id"), str):  # Cinder looks the volume up: None is not found
        raise errors.VolumeNotFound(fields.get("volume_id"))
    force = common.boolean(fields.get("force", False), "force")
    metadata = common.check_metadata(fields.get("metadata"))
    req.authorize({"project_id": req.context.project_id})
    service = req.state.volume
    row, cast = await asyncio.to_thread(service.snapshots.create, req.context, fields["volume_id"],
                                        fields.get("name"), fields.get("description"), force, metadata)
    await service.send("create_snapshot", cast)
    return reply({"snapshot": views.snapshot(row, req.version, detail=False)}, status=202)


def _list(req, detail: bool):
    req.authorize({"project_id": req.context.project_id})
    page = common.paging(req, SORT_KEYS)
    rows = req.state.volume.snapshots.list(req.context, common.filters(req, FILTERS), page["sort"], page["limit"],
                                           page["marker"], page["offset"], common.all_projects(req))
    body = {"snapshots": [views.snapshot(row, req.version, detail) for row in rows]}
    link = common.next_link(req, "snapshots/detail" if detail else "snapshots", rows, page["limit"])
    if link:
        body["snapshots_links"] = link
    return reply(body)


def list_snapshots(req):
    return _list(req, False)


def list_detail(req):
    return _list(req, True)


def _get(req):
    row = req.state.volume.snapshots.get(req.context, req.params["snapshot_id"])
    req.authorize({"project_id": row.project_id})
    return row


def show(req):
    return reply({"snapshot": views.snapshot(_get(req), req.version)})


def update(req):
    fields = common.body_dict(req, "snapshot")
    if not fields:
        raise errors.InvalidInput("Missing required element 'snapshot' in request body.")
    common.check_name(fields, ("name", "description", "display_name", "display_description"))
    _get(req)
    row = req.state.volume.snapshots.update(req.context, req.params["snapshot_id"], fields)
    return reply({"snapshot": views.snapshot(row, req.version, detail=False)})


async def delete(req):
    row = await asyncio.to_thread(_get, req)
    service = req.state.volume
    cast = await asyncio.to_thread(service.snapshots.begin_delete, req.context, row.id)
    await service.send("delete_snapshot", cast)
    return reply(None, status=202)


async def action(req):
    body = req.json()
    if not isinstance(body, dict) or len(body) != 1:
        raise errors.InvalidInput("There should be exactly one action in the request body.")
    name, args = next(iter(body.items()))
    service = req.state.volume
    row = await asyncio.to_thread(service.snapshots.get, req.context, req.params["snapshot_id"])
    if name == "os-reset_status":
        req.authorize({"project_id": row.project_id}, "volume_extension:snapshot_admin_actions:reset_status")
        status = (args or {}).get("status") if isinstance(args, dict) else None
        if not status:
            raise errors.InvalidInput("Must specify 'status'")
        await asyncio.to_thread(service.snapshots.reset_status, req.context, row.id, status)
        return reply(None, status=202)
    if name == "os-force_delete":
        req.authorize({"project_id": row.project_id}, "volume_extension:snapshot_admin_actions:force_delete")
        cast = await asyncio.to_thread(service.snapshots.begin_delete, req.context, row.id, True)
        await service.send("delete_snapshot", cast)
        return reply(None, status=202)
    if name == "os-update_snapshot_status":  # what Nova's assisted snapshots send
        req.authorize({"project_id": row.project_id}, "volume:update_snapshot")
        args = args if isinstance(args, dict) else {}
        await asyncio.to_thread(service.snapshots.reset_status, req.context, row.id, args.get("status"),
                                args.get("progress"))
        return reply(None, status=202)
    if name == "os-unmanage":
        req.authorize({"project_id": row.project_id}, "snapshot_extension:snapshot_unmanage")
        from overcast.volume.api.manage import unmanage_snapshot

        return await unmanage_snapshot(req, service, row)
    req.authorized = True
    raise errors.InvalidInput(f"There is no such action: {name}")


_METADATA = metadata.handlers(_get, "snapshots", "Snapshot")
list_metadata, create_metadata, replace_metadata = _METADATA.list, _METADATA.create, _METADATA.replace
show_metadata_item, set_metadata_item = _METADATA.show_item, _METADATA.set_item
delete_metadata_item = _METADATA.delete_item
