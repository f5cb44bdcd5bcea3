"""/v3/{project_id}/consistencygroups and /cgsnapshots: Cinder's pre-3.13 API, served on
generic groups as current Cinder serves it. A new consistency group is a group of
``default_cgsnapshot_type``; show, list, update and delete take groups of any type; a
cgsnapshot is a group snapshot. No microversion gates it."""

from __future__ import annotations

import asyncio

from overcast.common.api import reply
from overcast.common.errors import BadRequest
from overcast.volume import views_groups as views
from overcast.volume.api import common
from overcast.volume.service.groups import GS_SORT_KEYS, SORT_KEYS

CG, FROM_SRC, CGSNAP = "consistencygroup", "consistencygroup-from-src", "cgsnapshot"


def _body(req, key: str) -> dict:
    fields = common.body_dict(req, key)
    common.check_name(fields)
    return fields


def _type_list(value) -> list:
    """``volume_types``: "id1,id2," as cinderclient sends it (openstacksdk may send a list)."""
    if isinstance(value, str):
        return [part for part in value.rstrip(",").split(",") if part]
    return list(value) if isinstance(value, list) else [value]


async def create(req):
    req.authorize({"project_id": req.context.project_id})
    fields = _body(req, CG)
    if not fields.get("volume_types"):
        raise BadRequest(f"volume_types must be provided to create consistency group {fields.get('name')}.")
    fields = {key: fields.get(key) for key in ("name", "description", "availability_zone")} | {
        "volume_types": _type_list(fields["volume_types"])}
    row = await asyncio.to_thread(req.state.volume.groups.create, req.context, fields, True)
    return reply({CG: views.group_summary(row)}, status=202)


async def create_from_src(req):
    req.authorize({"project_id": req.context.project_id})
    fields = _body(req, FROM_SRC)
    name, snapshot_id, source_id = fields.get("name"), fields.get("cgsnapshot_id"), fields.get("source_cgid")
    if not snapshot_id and not source_id:
        raise BadRequest(f"Either 'cgsnapshot_id' or 'source_cgid' must be provided to create consistency group "
                         f"{name} from source.")
    if snapshot_id and source_id:
        raise BadRequest(f"Cannot provide both 'cgsnapshot_id' and 'source_cgid' to create consistency group {name} "
                         f"from source.")
    service = req.state.volume
    row, casts = await asyncio.to_thread(
        service.groups.create_from_source, req.context,
        {"name": name, "description": fields.get("description"), "group_snapshot_id": snapshot_id,
         "source_group_id": source_id}, True)
    await service.send_all("create_volume", casts)
    return reply({CG: views.group_summary(row)}, status=202)


def _detail(req) -> bool:
    """One handler serves a list and its ``/detail``."""
    return req.raw.url.path.rstrip("/").endswith("/detail")


def list_groups(req):
    detail = _detail(req)
    req.authorize({"project_id": req.context.project_id})
    page = common.paging(req, SORT_KEYS)
    filters = common.filters(req, ("name", "status", "availability_zone", "project_id"))
    rows = req.state.volume.groups.list(req.context, filters, page["sort"], page["limit"], page["marker"],
                                        page["offset"], common.all_projects(req))
    body = {"consistencygroups": [views.consistency_group(row) if detail else views.group_summary(row)
                                  for row in rows]}
    link = common.next_link(req, "consistencygroups/detail" if detail else "consistencygroups", rows, page["limit"])
    if link:
        body["consistencygroup_links"] = link
    return reply(body)


def show(req):
    row = req.state.volume.groups.get(req.context, req.params["group_id"])
    req.authorize({"project_id": row.project_id})
    return reply({CG: views.consistency_group(row)})


def update(req):
    """PUT /consistencygroups/{id} (and .../update): name, description, add_volumes and
    remove_volumes ("id1,id2" strings)."""
    if not req.json(required=False):
        raise BadRequest("Missing request body.")
    fields = _body(req, CG)
    service = req.state.volume.groups
    row = service.get(req.context, req.params["group_id"])
    req.authorize({"project_id": row.project_id})
    if not any(fields.get(key) for key in ("name", "description", "add_volumes", "remove_volumes")):
        raise BadRequest("Name, description, add_volumes, and remove_volumes can not be all empty in the request "
                         "body.")
    service.update(req.context, row.id, {key: fields[key] for key in
                                         ("name", "description", "add_volumes", "remove_volumes") if fields.get(key)})
    return reply(None, status=202)


async def delete(req):
    """POST /consistencygroups/{id}/delete {"consistencygroup": {"force": bool}}: force
    deletes the member volumes too. openstacksdk names the body ``consistency_group``."""
    body = req.json(required=False)
    force = False
    if body:
        key = "consistency_group" if isinstance(body, dict) and "consistency_group" in body else CG
        args = common.body_dict(req, key)
        force = args.get("force", False)
        if not isinstance(force, bool):
            text = str(force).strip().lower()
            if text not in common.TRUE + common.FALSE:
                raise BadRequest(f"Invalid value '{force}' for force.")
            force = text in common.TRUE
    service = req.state.volume
    row = await asyncio.to_thread(service.groups.get, req.context, req.params["group_id"])
    req.authorize({"project_id": row.project_id})
    casts = await asyncio.to_thread(service.groups.delete, req.context, row.id, force)
    await service.send_all("delete_volume", casts)
    return reply(None, status=202)


# -- cgsnapshots ------------------------------------------------------------------------


async def create_snapshot(req):
    fields = _body(req, CGSNAP)
    if "consistencygroup_id" not in fields:
        raise BadRequest("'consistencygroup_id' must be specified")
    service = req.state.volume
    group = await asyncio.to_thread(service.groups.get, req.context, fields["consistencygroup_id"])
    req.authorize({"project_id": group.project_id})
    row, casts = await asyncio.to_thread(service.group_snapshots.create, req.context, group.id, fields.get("name"),
                                         fields.get("description"))
    await service.send_all("create_snapshot", casts)
    return reply({CGSNAP: {"id": row.id, "name": row.name}}, status=202)


def list_snapshots(req):
    detail = _detail(req)
    req.authorize({"project_id": req.context.project_id})
    page = common.paging(req, GS_SORT_KEYS)
    filters = common.filters(req, ("name", "status", "consistencygroup_id", "project_id"))
    if "consistencygroup_id" in filters:
        filters["group_id"] = filters.pop("consistencygroup_id")
    rows = req.state.volume.group_snapshots.list(req.context, filters, page["sort"], page["limit"], page["marker"],
                                                 page["offset"], common.all_projects(req))
    return reply({"cgsnapshots": [views.cgsnapshot(row) if detail else {"id": row.id, "name": row.name}
                                  for row in rows]})


def show_snapshot(req):
    row = req.state.volume.group_snapshots.get(req.context, req.params["cgsnapshot_id"])
    req.authorize({"project_id": row.project_id})
    return reply({CGSNAP: views.cgsnapshot(row)})


async def delete_snapshot(req):
    service = req.state.volume
    row = await asyncio.to_thread(service.group_snapshots.get, req.context, req.params["cgsnapshot_id"])
    req.authorize({"project_id": row.project_id})
    casts = await asyncio.to_thread(service.group_snapshots.delete, req.context, row.id)
    await service.send_all("delete_snapshot", casts)
    return reply(None, status=202)
