"""/v3/{project_id}/volumes: create, list, show, update, delete, metadata, summary."""

from __future__ import annotations

import asyncio

from overcast.common.api import reply
from overcast.volume import errors, views
from overcast.volume.api import common, metadata
from overcast.volume.service.volumes import SORT_KEYS

FILTERS = ("name", "display_name", "status", "availability_zone", "bootable", "metadata", "volume_type",
           "volume_type_id", "project_id", "name~")


def _render(req, rows, detail: bool = True, create: bool = False) -> list[dict]:
    service = req.state.volume
    if not detail:
        return [views.volume_summary(req.base_url, row) for row in rows]
    attached = service.volumes.attachments([row.id for row in rows])
    names = service.types.names(row.volume_type_id for row in rows)
    encrypted = service.types.encrypted(row.volume_type_id for row in rows)
    return [views.volume(req.base_url, row, req.version, attached[row.id], names, req.context.is_admin, create,
                         encrypted) for row in rows]


def _one(req, row, create: bool = False) -> dict:
    return _render(req, [row], create=create)[0]


async def create(req):
    body = req.json()
    if not isinstance(body, dict) or not isinstance(body.get("volume"), dict):
        raise errors.InvalidInput("Missing required element 'volume' in request body.")
    fields = dict(body["volume"])
    for old, new in (("display_name", "name"), ("display_description", "description"),
                     ("consistencygroup_id", "group_id")):
        if old in fields and new not in fields:
            fields[new] = fields.pop(old)
    common.check_name(fields)
    common.check_metadata(fields.get("metadata"))
    if "multiattach" in fields:
        fields["multiattach"] = common.boolean(fields["multiattach"], "multiattach")
    if body.get("OS-SCH-HNT:scheduler_hints") is not None and not isinstance(body["OS-SCH-HNT:scheduler_hints"],
                                                                             dict):
        raise errors.InvalidInput("scheduler hints must be an object")
    req.authorize({"project_id": req.context.project_id})
    if fields.get("imageRef") or fields.get("image_id"):
        req.authorize({"project_id": req.context.project_id}, "volume:create_from_image")
    service = req.state.volume
    row, cast = await asyncio.to_thread(service.volumes.create, req.context, fields)
    await service.send("create_volume", cast)
    return reply({"volume": await asyncio.to_thread(_one, req, row, True)}, status=202)


def _list(req, detail: bool):
    req.authorize({"project_id": req.context.project_id})
    page = common.paging(req, SORT_KEYS)
    rows = req.state.volume.volumes.list(req.context, common.filters(req, FILTERS), page["sort"], page["limit"],
                                         page["marker"], page["offset"], common.all_projects(req))
    body = {"volumes": _render(req, rows, detail)}
    link = common.next_link(req, "volumes/detail" if detail else "volumes", rows, page["limit"])
    if link:
        body["volumes_links"] = link
    if req.version.at_least("3.45") and common.boolean(req.query.get("with_count", "false"), "with_count"):
        body["count"] = len(rows)
    return reply(body)


def list_volumes(req):
    return _list(req, detail=False)


def list_detail(req):
    return _list(req, detail=True)


def _get(req):
    row = req.state.volume.volumes.get(req.context, req.params["volume_id"])
    req.authorize({"project_id": row.project_id})
    return row


def show(req):
    return reply({"volume": _one(req, _get(req))})


def update(req):
    fields = common.body_dict(req, "volume")
    if not fields:
        raise errors.InvalidInput("Missing required element 'volume' in request body.")
    common.check_name(fields, ("name", "description", "display_name", "display_description"))
    if "metadata" in fields:
        common.check_metadata(fields["metadata"])
    _get(req)
    row = req.state.volume.volumes.update(req.context, req.params["volume_id"], fields)
    return reply({"volume": _one(req, row, create=True)})


async def delete(req):
    cascade = common.boolean(req.query.get("cascade", "false"), "cascade")
    force = common.boolean(req.query.get("force", "false"), "force")
    row = await asyncio.to_thread(_get, req)
    if force:
        req.authorize({"project_id": row.project_id}, "volume:force_delete")
    service = req.state.volume
    cast = await asyncio.to_thread(service.volumes.begin_delete, req.context, row.id, cascade, force)
    await service.send("delete_volume", cast)
    return reply(None, status=202)


def summary(req):
    req.authorize({"project_id": req.context.project_id}, "volume:get_all")
    found = req.state.volume.volumes.summary(req.context, common.all_projects(req))
    if req.version.at_least("3.36"):
        found["metadata"] = {}
    return reply({"volume-summary": found})


# -- metadata -----------------------------------------------------------------------


_METADATA = metadata.handlers(_get, "volumes", "Volume")
list_metadata, create_metadata, replace_metadata = _METADATA.list, _METADATA.create, _METADATA.replace
show_metadata_item, set_metadata_item = _METADATA.show_item, _METADATA.set_item
delete_metadata_item = _METADATA.delete_item
