"""/v3/{project_id}/groups (3.13+) and /group_snapshots (3.14+)."""

from __future__ import annotations

import asyncio

from overcast.common.api import reply
from overcast.volume import errors
from overcast.volume.api import common
from overcast.volume.service.groups import GS_SORT_KEYS, SORT_KEYS
from overcast.volume import views_groups as views

GROUPS, SNAPSHOTS = "3.13", "3.14"


def _not_cg(req, type_id: str, what: str = "group") -> None:
    """Groups of ``default_cgsnapshot_type`` belong to the consistency group API (400 here)."""
    req.state.volume.group_types.check_not_cgsnapshot_type(type_id, what)


def _without_cgs(req, rows: list) -> list:
    """List answers leave them out, as Cinder's do."""
    reserved = req.state.volume.group_types.cgsnapshot_type_id()
    return [row for row in rows if row.group_type_id != reserved]


def _fields(req, key: str) -> dict:
    fields = common.body_dict(req, key)
    common.check_name(fields)
    return fields


async def create(req):
    common.gate(req, GROUPS)
    req.authorize({"project_id": req.context.project_id})
    fields = _fields(req, "group")
    row = await asyncio.to_thread(req.state.volume.groups.create, req.context, fields)
    return reply({"group": views.group_summary(row)}, status=202)


def _list(req, detail: bool):
    common.gate(req, GROUPS)
    req.authorize({"project_id": req.context.project_id})
    page = common.paging(req, SORT_KEYS)
    filters = common.filters(req, ("name", "status", "availability_zone", "group_type_id", "project_id"))
    service = req.state.volume.groups
    rows = _without_cgs(req, service.list(req.context, filters, page["sort"], page["limit"], page["marker"],
                                          page["offset"], common.all_projects(req)))
    if not detail:
        return reply({"groups": [views.group_summary(row) for row in rows]})
    members = service.volume_ids(r.id for r in rows) if _with_volumes(req) else {}
    return reply({"groups": [views.group(row, req.version, members.get(row.id)) for row in rows]})


def _with_volumes(req) -> bool:
    return common.boolean(req.query.get("list_volume", "false"), "list_volume")


def list_groups(req):
    return _list(req, detail=False)


def list_detail(req):
    return _list(req, detail=True)


def show(req):
    common.gate(req, GROUPS)
    service = req.state.volume.groups
    row = service.get(req.context, req.params["group_id"])
    req.authorize({"project_id": row.project_id})
    _not_cg(req, row.group_type_id)
    members = service.volume_ids([row.id]) if _with_volumes(req) else {}
    return reply({"group": views.group(row, req.version, members.get(row.id))})


def update(req):
    common.gate(req, GROUPS)
    fields = _fields(req, "group")
    if not any(k in fields for k in ("name", "description", "add_volumes", "remove_volumes")):
        raise errors.InvalidInput("Name, description, add_volumes, and remove_volumes can not be all empty in the "
                                  "request body.")
    service = req.state.volume.groups
    row = service.get(req.context, req.params["group_id"])
    req.authorize({"project_id": row.project_id})
    _not_cg(req, row.group_type_id)
    service.update(req.context, row.id, fields)
    return reply(None, status=202)


async def action(req):
    """POST /groups/{id}/action: delete (with delete-volumes), reset_status, and the
    replication actions, which need a replicating backend."""
    common.gate(req, GROUPS)
    body = req.json()
    if not isinstance(body, dict) or len(body) != 1:
        raise errors.InvalidInput("There should be exactly one action in the request body.")
    name, args = next(iter(body.items()))
    args = args if isinstance(args, dict) else {}
    service = req.state.volume
    row = await asyncio.to_thread(service.groups.get, req.context, req.params["group_id"])
    if name == "delete":
        req.authorize({"project_id": row.project_id}, "group:delete")
        _not_cg(req, row.group_type_id)
        delete_volumes = common.boolean(args.get("delete-volumes", False), "delete-volumes")
        casts = await asyncio.to_thread(service.groups.delete, req.context, row.id, delete_volumes)
        await service.send_all("delete_volume", casts)
        return reply(None, status=202)
    if name == "reset_status":
        common.gate(req, "3.20")
        req.authorize({"project_id": row.project_id}, "group:reset_status")
        if not args.get("status"):
            raise errors.InvalidInput("Must specify 'status'")
        await asyncio.to_thread(service.groups.reset_status, req.context, row.id, args["status"])
        return reply(None, status=202)
    req.authorized = True
    if name in ("enable_replication", "disable_replication", "failover_replication", "list_replication_targets"):
        raise errors.InvalidGroup(f"Group {row.id} has no replication: its volume types are not replicated.")
    raise errors.InvalidInput(f"There is no such action: {name}")


async def create_from_source(req):
    """POST /groups/action {"create-from-src": {...}} (3.14)."""
    common.gate(req, SNAPSHOTS)
    body = req.json()
    if not isinstance(body, dict) or not isinstance(body.get("create-from-src"), dict):
        req.authorized = True
        raise errors.InvalidInput("Missing required element 'create-from-src' in request body.")
    fields = body["create-from-src"]
    common.check_name(fields)
    req.authorize({"project_id": req.context.project_id})
    service = req.state.volume
    row, casts = await asyncio.to_thread(service.groups.create_from_source, req.context, fields)
    await service.send_all("create_volume", casts)
    return reply({"group": views.group_summary(row)}, status=202)


# -- group snapshots ----------------------------------------------------------------------


async def create_snapshot(req):
    common.gate(req, SNAPSHOTS)
    fields = _fields(req, "group_snapshot")
    if not fields.get("group_id"):
        raise errors.InvalidInput("Missing required element 'group_id' in request body.")
    service = req.state.volume
    group = await asyncio.to_thread(service.groups.get, req.context, fields["group_id"])
    req.authorize({"project_id": group.project_id})
    _not_cg(req, group.group_type_id, "group snapshot")
    row, casts = await asyncio.to_thread(service.group_snapshots.create, req.context, group.id, fields.get("name"),
                                         fields.get("description"))
    await service.send_all("create_snapshot", casts)
    return reply({"group_snapshot": views.group_snapshot_summary(row)}, status=202)


def _list_snapshots(req, detail: bool):
    common.gate(req, SNAPSHOTS)
    req.authorize({"project_id": req.context.project_id})
    page = common.paging(req, GS_SORT_KEYS)
    filters = common.filters(req, ("name", "status", "group_id", "project_id"))
    rows = _without_cgs(req, req.state.volume.group_snapshots.list(
        req.context, filters, page["sort"], page["limit"], page["marker"], page["offset"], common.all_projects(req)))
    if detail:
        return reply({"group_snapshots": [views.group_snapshot(row, req.version) for row in rows]})
    return reply({"group_snapshots": [{"id": row.id, "name": row.name} for row in rows]})


def list_snapshots(req):
    return _list_snapshots(req, detail=False)


def list_snapshots_detail(req):
    return _list_snapshots(req, detail=True)


def show_snapshot(req):
    common.gate(req, SNAPSHOTS)
    row = req.state.volume.group_snapshots.get(req.context, req.params["group_snapshot_id"])
    req.authorize({"project_id": row.project_id})
    _not_cg(req, row.group_type_id, "group snapshot")
    return reply({"group_snapshot": views.group_snapshot(row, req.version)})


async def delete_snapshot(req):
    common.gate(req, SNAPSHOTS)
    service = req.state.volume
    row = await asyncio.to_thread(service.group_snapshots.get, req.context, req.params["group_snapshot_id"])
    req.authorize({"project_id": row.project_id})
    _not_cg(req, row.group_type_id, "group snapshot")
    casts = await asyncio.to_thread(service.group_snapshots.delete, req.context, row.id)
    await service.send_all("delete_snapshot", casts)
    return reply(None, status=202)


async def snapshot_action(req):
    """POST /group_snapshots/{id}/action: reset_status (3.19)."""
    common.gate(req, "3.19")
    body = req.json()
    args = body.get("reset_status") if isinstance(body, dict) else None
    if not isinstance(args, dict):
        req.authorized = True
        raise errors.InvalidInput("There is no such action" if isinstance(body, dict) and body else
                                  "Malformed request body")
    service = req.state.volume
    row = await asyncio.to_thread(service.group_snapshots.get, req.context, req.params["group_snapshot_id"])
    req.authorize({"project_id": row.project_id})
    if not args.get("status"):
        raise errors.InvalidInput("Must specify 'status'")
    await asyncio.to_thread(service.group_snapshots.reset_status, req.context, row.id, args["status"])
    return reply(None, status=202)
