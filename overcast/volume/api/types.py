"""/v3/{project_id}/types: volume types, their extra specs and project access."""

from __future__ import annotations

from overcast.common.api import reply
from overcast.volume import errors, views
from overcast.volume.api import common


def check_specs(specs, kind: str = "extra") -> dict:
    """A type's ``extra_specs`` (a group type's ``group_specs`` with ``kind="group"``): string
    keys and scalar values of at most 255 characters, kept as strings; 400 otherwise."""
    if not isinstance(specs, dict):
        raise errors.InvalidInput(f"{kind}_specs must be an object")
    for key, value in specs.items():
        if not isinstance(key, str) or not key or len(key) > 255:
            raise errors.InvalidInput(f"Invalid {kind} spec key {key!r}")
        if isinstance(value, bool) or not isinstance(value, (str, int, float)) or len(str(value)) > 255:
            raise errors.InvalidInput(f"Invalid {kind} spec value for {key}")
    return {key: str(value) for key, value in specs.items()}


def one_spec(req, kind: str = "extra") -> dict:
    """The body of ``PUT .../<key>``: exactly that one key, checked as ``check_specs``."""
    body = req.json()
    if not isinstance(body, dict) or len(body) != 1:
        raise errors.InvalidInput("Request body contains too many items." if isinstance(body, dict) and body
                                  else "Malformed request body")
    if req.params["key"] not in body:
        raise errors.InvalidInput("Request body and URI mismatch")
    return check_specs(body, kind)


def create(req):
    req.authorize()
    fields = common.body_dict(req, "volume_type")
    name = fields.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 255:
        raise errors.InvalidInput("Volume type name can not be empty." if not name else
                                  f"Invalid input for field/attribute name. Value: {name}.")
    description = fields.get("description")
    if description is not None and (not isinstance(description, str) or len(description) > 255):
        raise errors.InvalidInput("Invalid description")
    public = common.boolean(fields.get("os-volume-type-access:is_public", fields.get("is_public", True)),
                            "is_public")
    row = req.state.volume.types.create(name.strip(), description, public, check_specs(fields.get("extra_specs", {})))
    return reply({"volume_type": views.volume_type(row, True, "create")})


def list_types(req):
    req.authorize()
    public = req.query.get("is_public")
    flag = None
    if public is not None and public.lower() != "none":
        flag = common.boolean(public, "is_public")
    elif not req.context.is_admin:
        flag = None
    rows = req.state.volume.types.list(req.context, flag)
    return reply({"volume_types": [views.volume_type(row, req.context.is_admin) for row in rows]})


def show(req):
    req.authorize()
    type_id = req.params["type_id"]
    service = req.state.volume
    if type_id == "default":
        with service.db.session() as session:
            row = service.types.default(session)
    else:
        row = service.types.get(req.context, type_id)
    return reply({"volume_type": views.volume_type(row, req.context.is_admin)})


def update(req):
    req.authorize()
    fields = common.body_dict(req, "volume_type")
    changes = {}
    if "name" in fields:
        if not isinstance(fields["name"], str) or not fields["name"].strip() or len(fields["name"]) > 255:
            raise errors.InvalidInput("Volume type name can not be empty.")
        changes["name"] = fields["name"].strip()
    if "description" in fields:
        if fields["description"] is not None and not isinstance(fields["description"], str):
            raise errors.InvalidInput("Invalid description")
        changes["description"] = fields["description"]
    if "is_public" in fields:
        changes["is_public"] = common.boolean(fields["is_public"], "is_public")
    if not changes:
        raise errors.InvalidInput("Specify volume type name, description, is_public or a combination thereof.")
    row = req.state.volume.types.update(req.params["type_id"], changes)
    return reply({"volume_type": views.volume_type(row, True, "update")})


def delete(req):
    req.authorize()
    req.state.volume.types.delete(req.params["type_id"])
    return reply(None, status=202)


def list_specs(req):
    req.authorize()
    row = req.state.volume.types.get(req.context, req.params["type_id"])
    return reply({"extra_specs": dict(row.extra_specs or {}) if req.context.is_admin else {}})


def create_specs(req):
    req.authorize()
    body = req.json()
    if not isinstance(body, dict) or "extra_specs" not in body:
        raise errors.InvalidInput("Missing required element 'extra_specs' in request body.")
    specs = check_specs(body["extra_specs"])
    req.state.volume.types.set_specs(req.params["type_id"], specs)
    return reply({"extra_specs": specs})


def show_spec(req):
    req.authorize()
    row = req.state.volume.types.get(req.context, req.params["type_id"])
    key = req.params["key"]
    if key not in (row.extra_specs or {}):
        raise errors.ExtraSpecNotFound(row.id, key)
    return reply({key: row.extra_specs[key]})


def update_spec(req):
    req.authorize()
    specs = one_spec(req)
    req.state.volume.types.set_specs(req.params["type_id"], specs)
    return reply(specs)


def delete_spec(req):
    req.authorize()
    req.state.volume.types.delete_spec(req.params["type_id"], req.params["key"])
    return reply(None, status=202)


def list_access(req):
    req.authorize()
    type_id = req.params["type_id"]
    projects = req.state.volume.types.list_access(type_id)
    return reply({"volume_type_access": [{"volume_type_id": type_id, "project_id": p} for p in projects]})


def action(req):
    body = req.json()
    if not isinstance(body, dict) or len(body) != 1:
        raise errors.InvalidInput("There should be exactly one action in the request body.")
    name, args = next(iter(body.items()))
    rules = {"addProjectAccess": "volume_extension:volume_type_access:addProjectAccess",
             "removeProjectAccess": "volume_extension:volume_type_access:removeProjectAccess"}
    if name not in rules:
        req.authorized = True
        raise errors.InvalidInput(f"There is no such action: {name}")
    req.authorize(rule=rules[name])
    project = args.get("project") if isinstance(args, dict) else None
    if not project:
        raise errors.InvalidInput("Missing required element 'project' in request body.")
    types = req.state.volume.types
    (types.add_access if name == "addProjectAccess" else types.remove_access)(req.params["type_id"], project)
    return reply(None, status=202)
