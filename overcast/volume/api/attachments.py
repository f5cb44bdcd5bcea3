"""/v3/{project_id}/attachments (microversion 3.27 and later; 3.44 for os-complete)."""

from __future__ import annotations

import asyncio

from overcast.common.api import reply
from overcast.common.errors import NotFound
from overcast.volume import errors, views
from overcast.volume.api import common


def _gate(req, version: str = "3.27") -> None:
    if not req.version.at_least(version):
        req.authorized = True
        raise NotFound("The resource could not be found.")


async def create(req):
    _gate(req)
    fields = common.body_dict(req, "attachment")
    volume_id = fields.get("volume_uuid")
    if not volume_id:
        raise errors.InvalidInput("Must specify 'volume_uuid' to create an attachment.")
    instance = fields.get("instance_uuid")
    connector = fields.get("connector")
    if connector is not None and not isinstance(connector, dict):
        raise errors.InvalidInput("connector must be an object")
    mode = fields.get("mode", "rw") if req.version.at_least("3.54") else "rw"
    service = req.state.volume
    volume = await asyncio.to_thread(service.volumes.get, req.context, volume_id)
    req.authorize({"project_id": volume.project_id})
    row = await asyncio.to_thread(service.attachments.reserve, req.context, volume_id, instance, mode)
    if connector:
        row = await service.attachments.connect(req.context, row.id, connector)
    return reply({"attachment": views.attachment(row)})


def _list(req, detail: bool):
    _gate(req)
    req.authorize({"project_id": req.context.project_id})
    filters = {key: req.query.get(key) for key in ("volume_id", "instance_id", "status")}
    rows = req.state.volume.attachments.list(req.context, filters, common.all_projects(req))
    return reply({"attachments": [views.attachment(row, detail=detail) for row in rows]})


def list_attachments(req):
    return _list(req, False)


def list_detail(req):
    return _list(req, True)


def show(req):
    _gate(req)
    row = req.state.volume.attachments.get(req.context, req.params["attachment_id"])
    req.authorize({"project_id": req.context.project_id})
    return reply({"attachment": views.attachment(row)})


async def update(req):
    _gate(req)
    fields = common.body_dict(req, "attachment")
    connector = fields.get("connector")
    if not isinstance(connector, dict):
        raise errors.InvalidInput("Must specify a 'connector' to update an attachment.")
    req.authorize({"project_id": req.context.project_id})
    row = await req.state.volume.attachments.connect(req.context, req.params["attachment_id"], connector)
    return reply({"attachment": views.attachment(row)})


async def delete(req):
    _gate(req)
    req.authorize({"project_id": req.context.project_id})
    service = req.state.volume
    cast = await asyncio.to_thread(service.attachments.remove, req.context, req.params["attachment_id"])
    await service.send("terminate_connection", cast)
    return reply({"attachments": []})


def action(req):
    _gate(req, "3.44")
    body = req.json()
    if not isinstance(body, dict) or "os-complete" not in body:
        req.authorized = True
        raise errors.InvalidInput("There is no such action.")
    req.authorize({"project_id": req.context.project_id})
    req.state.volume.attachments.complete(req.context, req.params["attachment_id"])
    return reply(None, status=204)
