"""The Keystone v2.0 calls old openrc files and the seed guides use.

``POST /v2.0/tokens`` (password or token, scoped by tenantName or tenantId, users and
tenants in the Default domain) and ``GET /v2.0/tenants``. Tokens are the same sealed
tokens v3 issues, so either API validates them.
"""

from __future__ import annotations

from overcast.common.api import reply
from overcast.common.api.validation import body_object
from overcast.common.times import iso_seconds
from overcast.identity import errors, views

DEFAULT_DOMAIN = {"id": "default"}


def _v3_auth(auth: dict) -> dict:
    if isinstance(auth.get("passwordCredentials"), dict):
        creds = auth["passwordCredentials"]
        user = {"password": creds.get("password"), "domain": DEFAULT_DOMAIN}
        if creds.get("userId"):
            user["id"] = creds["userId"]
        else:
            user["name"] = creds.get("username")
        identity = {"methods": ["password"], "password": {"user": user}}
    elif isinstance(auth.get("token"), dict):
        identity = {"methods": ["token"], "token": {"id": auth["token"].get("id")}}
    else:
        raise errors.ValidationError("Expected passwordCredentials or token in auth.")
    body = {"identity": identity}
    if auth.get("tenantId"):
        body["scope"] = {"project": {"id": auth["tenantId"]}}
    elif auth.get("tenantName"):
        body["scope"] = {"project": {"name": auth["tenantName"], "domain": DEFAULT_DOMAIN}}
    return body


def _catalog(entries: list[dict]) -> list[dict]:
    result = []
    for service in entries:
        by_region: dict[str, dict] = {}
        for endpoint in service["endpoints"]:
            item = by_region.setdefault(endpoint["region_id"] or "", {"region": endpoint["region_id"], "id": endpoint["id"]})
            item[f"{endpoint['interface']}URL"] = endpoint["url"]
        result.append({"type": service["type"], "name": service["name"], "endpoints": list(by_region.values()),
                       "endpoints_links": []})
    return result


def issue(req):
    identity = req.state.identity
    token, data = identity.auth.issue(_v3_auth(body_object(req.json(), "auth")))
    user_name, _ = identity.names.user(data.user_id)
    role_names = identity.names.role_names()
    body = {
        "token": {
            "id": token,
            "issued_at": views.iso(data.issued_at),
            "expires": iso_seconds(data.expires_at),
            "audit_ids": data.audit_ids,
        },
        "serviceCatalog": [],
        "user": {
            "id": data.user_id,
            "name": user_name,
            "username": user_name,
            "roles": [{"name": role_names.get(r)} for r in data.role_ids],
            "roles_links": [],
        },
        "metadata": {"is_admin": 0, "roles": data.role_ids},
    }
    if data.project_id:
        project = identity.projects.get(data.project_id)
        body["token"]["tenant"] = {"id": project.id, "name": project.name,
                                   "description": project.description or "", "enabled": project.enabled}
        body["serviceCatalog"] = _catalog(identity.catalog.catalog(data.project_id))
    return reply({"access": body})


def tenants(req):
    req.authorized = True  # any valid token may list the projects it can scope to
    identity = req.state.identity
    ids = identity.assignments.targets_of(req.context.user_id, "project")
    rows = identity.projects.list({"enabled": True}, ids=ids)
    items = [{"id": r.id, "name": r.name, "description": r.description or "", "enabled": r.enabled} for r in rows]
    return reply({"tenants": items, "tenants_links": []})
