"""/v3/users/{user_id}/application_credentials"""

from __future__ import annotations

from overcast.common.api import reply
from overcast.identity import errors, views
from overcast.identity.api.common import resource

FIELDS = {
    "name": ("string", 1, 255),
    "description": "string|null",
    "secret": "string|null",
    "expires_at": "string|null",
    "roles": "array",
    "unrestricted": "boolean",
    "access_rules": "array",
}


def create(req):
    user_id = req.params["user_id"]
    req.authorize({"user_id": user_id})
    ctx = req.context
    if not ctx.project_id:
        raise errors.ForbiddenAction("Application credentials need a project-scoped token.")
    app_cred_id = (ctx.token_data or {}).get("app_cred_id")
    if app_cred_id and not req.state.identity.app_creds.get(None, app_cred_id).unrestricted:
        raise errors.ForbiddenAction("A restricted application credential cannot create application credentials.")
    fields = resource(req, "application_credential", FIELDS, ("name",))
    held = req.state.identity.assignments.effective_roles(user_id, project_id=ctx.project_id)
    row, secret = req.state.identity.app_creds.create(user_id, ctx.project_id, held, fields)
    return reply({"application_credential": _view(req, row, secret)}, status=201)


def _view(req, row, secret=None) -> dict:
    body = views.app_cred(req.base_url, row, secret)
    names = req.state.identity.names
    body["roles"] = [{"id": r["id"], "name": names.role(r["id"]), "domain_id": None} for r in body["roles"]]
    return body


def list_all(req):
    user_id = req.params["user_id"]
    req.authorize({"user_id": user_id})
    rows = req.state.identity.app_creds.list(user_id, req.query.get("name"))
    path = f"users/{user_id}/application_credentials"
    return reply(views.collection(req.base_url, path, "application_credentials", [_view(req, r) for r in rows]))


def get(req):
    user_id = req.params["user_id"]
    req.authorize({"user_id": user_id})
    row = req.state.identity.app_creds.get(user_id, req.params["app_cred_id"])
    return reply({"application_credential": _view(req, row)})


def delete(req):
    user_id = req.params["user_id"]
    req.authorize({"user_id": user_id})
    req.state.identity.app_creds.delete(user_id, req.params["app_cred_id"])
    return reply(None, status=204)
