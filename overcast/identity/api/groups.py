"""/v3/groups and membership"""

from __future__ import annotations

from overcast.common.api import reply
from overcast.identity import views
from overcast.identity.api.common import no_id, resource

FIELDS = {"name": ("string", 1, 64), "description": "string|null", "domain_id": "string"}


def _target(row) -> dict:
    return {"target.group.id": row.id, "target.group.domain_id": row.domain_id}


def list_groups(req):
    filters = {"name": req.query.get("name"), "domain_id": req.query.get("domain_id")}
    req.authorize({"target.domain_id": filters["domain_id"]})
    rows = req.state.identity.groups.list(filters)
    base = req.base_url
    return reply(views.collection(base, "groups", "groups", [views.group(base, r) for r in rows]))


def get_group(req):
    row = req.state.identity.groups.get(req.params["group_id"])
    req.authorize(_target(row))
    return reply({"group": views.group(req.base_url, row)})


def create_group(req):
    fields = no_id(resource(req, "group", FIELDS, ("name",)), "group")
    fields.setdefault("domain_id", req.context.project_domain_id or req.context.domain_id or "default")
    req.authorize({"target.group.domain_id": fields["domain_id"]})
    row = req.state.identity.groups.create(fields)
    return reply({"group": views.group(req.base_url, row)}, status=201)


def update_group(req):
    identity = req.state.identity
    req.authorize(_target(identity.groups.get(req.params["group_id"])))
    row = identity.groups.update(req.params["group_id"], no_id(resource(req, "group", FIELDS), "group", req.params["group_id"]))
    return reply({"group": views.group(req.base_url, row)})


def delete_group(req):
    identity = req.state.identity
    req.authorize(_target(identity.groups.get(req.params["group_id"])))
    identity.groups.delete(req.params["group_id"])
    return reply(None, status=204)


def list_members(req):
    identity = req.state.identity
    req.authorize(_target(identity.groups.get(req.params["group_id"])))
    rows = identity.groups.members(req.params["group_id"])
    base = req.base_url
    path = f"groups/{req.params['group_id']}/users"
    return reply(views.collection(base, path, "users", [views.user(base, r) for r in rows]))


def check_member(req):
    identity = req.state.identity
    req.authorize(_target(identity.groups.get(req.params["group_id"])))
    identity.groups.check_member(req.params["group_id"], req.params["user_id"])
    return reply(None, status=204)


def add_member(req):
    identity = req.state.identity
    req.authorize(_target(identity.groups.get(req.params["group_id"])))
    identity.groups.add_member(req.params["group_id"], req.params["user_id"])
    return reply(None, status=204)


def remove_member(req):
    identity = req.state.identity
    req.authorize(_target(identity.groups.get(req.params["group_id"])))
    identity.groups.remove_member(req.params["group_id"], req.params["user_id"])
    return reply(None, status=204)
