"""GET /v3/role_assignments with Keystone's filters, effective mode and include_names."""

from __future__ import annotations

from overcast.common.api import reply
from overcast.identity import errors
from overcast.identity.api.common import flag


def _named(identity, kind: str, ident: str) -> dict:
    if kind == "user":
        name, domain_id = identity.names.user(ident)
    elif kind == "project":
        name, domain_id = identity.names.project(ident)
    elif kind == "group":
        try:
            row = identity.groups.get(ident)
            name, domain_id = row.name, row.domain_id
        except errors.IdentityNotFound:
            name, domain_id = None, None
    else:
        return {"id": ident, "name": identity.names.domain(ident)}
    return {"id": ident, "name": name, "domain": {"id": domain_id, "name": identity.names.domain(domain_id)}}


def _render(req, grant, names: bool) -> dict:
    identity = req.state.identity
    base = req.base_url
    if grant.target_kind == "system":
        scope = {"system": {"all": True}}
        link = f"{base}/v3/system/{grant.actor_kind}s/{grant.actor_id}/roles/{grant.role_id}"
    else:
        ref = _named(identity, grant.target_kind, grant.target_id) if names else {"id": grant.target_id}
        scope = {grant.target_kind: ref}
        link = f"{base}/v3/{grant.target_kind}s/{grant.target_id}/{grant.actor_kind}s/{grant.actor_id}/roles/{grant.role_id}"
    if grant.inherited:
        scope["OS-INHERIT:inherited_to"] = "projects"
    actor = _named(identity, grant.actor_kind, grant.actor_id) if names else {"id": grant.actor_id}
    role = {"id": grant.role_id}
    if names:
        role["name"] = identity.names.role(grant.role_id)
    body = {"role": role, grant.actor_kind: actor, "scope": scope, "links": {"assignment": link}}
    if grant.via_group:
        body["links"]["membership"] = f"{base}/v3/groups/{grant.via_group}/users/{grant.actor_id}"
    return body


def list_assignments(req):
    query = req.query
    filters = {
        "user_id": query.get("user.id"),
        "group_id": query.get("group.id"),
        "role_id": query.get("role.id"),
        "project_id": query.get("scope.project.id"),
        "domain_id": query.get("scope.domain.id"),
        "system": query.get("scope.system"),
    }
    effective = "effective" in query and flag(query.get("effective")) is not False
    if effective and filters["group_id"]:
        raise errors.ValidationError("Specify only one of effective and group.id.")
    if filters["project_id"] and filters["domain_id"]:
        raise errors.ValidationError("Specify only one of scope.project.id and scope.domain.id.")
    req.authorize({"target.domain_id": filters["domain_id"]})
    grants = req.state.identity.assignments.list(filters, effective=effective)
    names = "include_names" in query and flag(query.get("include_names")) is not False
    items = [_render(req, g, names) for g in grants]
    return reply({"role_assignments": items, "links": {"self": str(req.raw.url), "previous": None, "next": None}})
