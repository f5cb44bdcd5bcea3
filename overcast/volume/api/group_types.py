"""/v3/{project_id}/group_types (3.11+): group types and their group specs."""

from __future__ import annotations

from overcast.common.api import reply
from overcast.volume import errors
from overcast.volume.api import common
from overcast.volume.api.types import check_specs, one_spec
from overcast.volume.service.group_types import SORT_KEYS
from overcast.volume.views_groups import group_type as view

VERSION = "3.11"


def _name(value) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 255:
        raise errors.InvalidInput("Group type name can not be empty." if not value else
                                  f"Invalid input for field/attribute name. Value: {value}.")
    return value.strip()


def create(req):
    common.gate(req, VERSION)
    req.authorize()
    fields = common.body_dict(req, "group_type")
    description = fields.get("description")
    if description is not None and (not isinstance(description, str) or len(description) > 255):
        raise errors.InvalidInput("Invalid description")
    public = common.boolean(fields.get("is_public", True), "is_public")
    row = req.state.volume.group_types.create(_name(fields.get("name")), description, public,
                                              check_specs(fields.get("group_specs") or {}, "group"))
    return reply({"group_type": view(row, True)}, status=202)


def list_types(req):
    common.gate(req, VERSION)
    req.authorize()
    public = req.query.get("is_public")
    flag = None
    if public is not None and public.lower() != "none":
        flag = common.boolean(public, "is_public")
    elif public is None:
        flag = True  # Cinder lists public types unless asked (is_public=None: all)
    sort = common.paging(req, {**SORT_KEYS})["sort"] if ("sort" in req.query or "sort_key" in req.query) else []
    rows = req.state.volume.group_types.list(req.context, flag, sort)
    return reply({"group_types": [view(row, req.context.is_admin) for row in rows]})


def show(req):
    common.gate(req, VERSION)
    req.authorize()
    service = req.state.volume.group_types
    type_id = req.params["group_type_id"]
    row = service.default() if type_id == "default" else service.get(req.context, type_id)
    return reply({"group_type": view(row, req.context.is_admin)})


def update(req):
    common.gate(req, VERSION)
    req.authorize()
    fields = common.body_dict(req, "group_type")
    changes = {}
    if "name" in fields:
        changes["name"] = _name(fields["name"])
    if "description" in fields:
        if fields["description"] is not None and not isinstance(fields["description"], str):
            raise errors.InvalidInput("Invalid description")
        changes["description"] = fields["description"]
    if "is_public" in fields:
        changes["is_public"] = common.boolean(fields["is_public"], "is_public")
    if not changes:
        raise errors.InvalidInput("Specify group type name, description or a combination thereof.")
    row = req.state.volume.group_types.update(req.params["group_type_id"], changes)
    return reply({"group_type": view(row, True)})


def delete(req):
    common.gate(req, VERSION)
    req.authorize()
    req.state.volume.group_types.delete(req.params["group_type_id"])
    return reply(None, status=202)


# -- group specs ----------------------------------------------------------------------


def list_specs(req):
    common.gate(req, VERSION)
    req.authorize()
    row = req.state.volume.group_types.get(req.context, req.params["group_type_id"])
    return reply({"group_specs": dict(row.group_specs or {})})


def create_specs(req):
    common.gate(req, VERSION)
    req.authorize()
    body = req.json()
    if not isinstance(body, dict) or "group_specs" not in body:
        raise errors.InvalidInput("Missing required element 'group_specs' in request body.")
    specs = check_specs(body["group_specs"], "group")
    req.state.volume.group_types.set_specs(req.params["group_type_id"], specs)
    return reply({"group_specs": specs}, status=202)


def show_spec(req):
    common.gate(req, VERSION)
    req.authorize()
    row = req.state.volume.group_types.get(req.context, req.params["group_type_id"])
    key = req.params["key"]
    if key not in (row.group_specs or {}):
        raise errors.GroupTypeSpecNotFound(row.id, key)
    return reply({key: row.group_specs[key]})


def update_spec(req):
    common.gate(req, VERSION)
    req.authorize()
    specs = one_spec(req, "group")
    req.state.volume.group_types.set_specs(req.params["group_type_id"], specs)
    return reply(specs)


def delete_spec(req):
    common.gate(req, VERSION)
    req.authorize()
    req.state.volume.group_types.delete_spec(req.params["group_type_id"], req.params["key"])
    return reply(None, status=202)
