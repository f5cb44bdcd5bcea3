"""/v3/users, password change, and a user's groups"""

from __future__ import annotations

from overcast.common.api import reply
from overcast.common.api.validation import body_object, check
from overcast.identity import views
from overcast.identity.api.common import flag, no_id, resource

FIELDS = {
    "name": ("string", 1, 255),
    "password": "string|null",
    "enabled": "boolean",
    "domain_id": "string",
    "default_project_id": "string|null",
    "description": "string|null",
    "options": "object",
}


def _target(row) -> dict:
    return {"target.user.id": row.id, "target.user.domain_id": row.domain_id}


def list_users(req):
    filters = {
        "name": req.query.get("name"),
        "domain_id": req.query.get("domain_id"),
        "enabled": flag(req.query.get("enabled")),
    }
    req.authorize({"target.domain_id": filters["domain_id"]})
    rows = req.state.identity.users.list(filters)
    base = req.base_url
    return reply(views.collection(base, "users", "users", [views.user(base, r) for r in rows]))


def get_user(req):
    row = req.state.identity.users.get(req.params["user_id"])
    req.authorize(_target(row))
    return reply({"user": views.user(req.base_url, row)})


def create_user(req):
    fields = no_id(resource(req, "user", FIELDS, ("name",)), "user")
    fields.setdefault("domain_id", req.context.project_domain_id or req.context.domain_id or "default")
    req.authorize({"target.user.domain_id": fields["domain_id"]})
    row = req.state.identity.users.create(fields)
    return reply({"user": views.user(req.base_url, row)}, status=201)


def update_user(req):
    identity = req.state.identity
    req.authorize(_target(identity.users.get(req.params["user_id"])))
    fields = no_id(resource(req, "user", FIELDS), "user", req.params["user_id"])
    row = identity.users.update(req.params["user_id"], fields)
    return reply({"user": views.user(req.base_url, row)})


def delete_user(req):
    identity = req.state.identity
    req.authorize(_target(identity.users.get(req.params["user_id"])))
    identity.users.delete(req.params["user_id"])
    return reply(None, status=204)


def change_password(req):
    """POST /v3/users/{id}/password: needs the original password, not a policy check."""
    req.authorized = True
    body = check(body_object(req.json(), "user"), {"password": "string", "original_password": "string"},
                 ("password", "original_password"))
    req.state.identity.users.change_password(req.params["user_id"], body["original_password"], body["password"])
    return reply(None, status=204)


def list_user_groups(req):
    identity = req.state.identity
    user = identity.users.get(req.params["user_id"])
    req.authorize({**_target(user), "user_id": user.id})
    rows = identity.groups.list(user_id=user.id)
    base = req.base_url
    return reply(views.collection(base, f"users/{user.id}/groups", "groups", [views.group(base, r) for r in rows]))
