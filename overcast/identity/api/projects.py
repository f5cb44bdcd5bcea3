"""/v3/projects, project tags, and /v3/users/{id}/projects"""

from __future__ import annotations

from overcast.common.api import reply
from overcast.common.api.validation import check
from overcast.identity import errors, views
from overcast.identity.api.common import flag, no_id, resource

FIELDS = {
    "name": ("string", 1, 64),
    "description": "string|null",
    "domain_id": "string|null",
    "parent_id": "string|null",
    "enabled": "boolean",
    "is_domain": "boolean",
    "tags": "array",
}


def _target(row) -> dict:
    return {"target.project.id": row.id, "target.project.domain_id": getattr(row, "domain_id", None)}


def _find(identity, project_id: str):
    """The project, or the domain of that id (domains act as projects with is_domain)."""
    try:
        return identity.projects.get(project_id)
    except errors.ProjectNotFound:
        try:
            return identity.domains.get(project_id)
        except errors.DomainNotFound:
            raise errors.ProjectNotFound(project_id) from None


def _view(base: str, row) -> dict:
    return views.project(base, row) if hasattr(row, "parent_id") else views.domain_as_project(base, row)


def list_projects(req):
    query = req.query
    filters = {
        "name": query.get("name"),
        "domain_id": query.get("domain_id"),
        "parent_id": query.get("parent_id"),
        "enabled": flag(query.get("enabled")),
        **{key: query.get(key) for key in ("tags", "tags-any", "not-tags", "not-tags-any")},
    }
    req.authorize({"target.domain_id": filters["domain_id"]})
    identity = req.state.identity
    if flag(query.get("is_domain")):
        rows = identity.domains.list(filters["name"], filters["enabled"])
    else:
        rows = identity.projects.list(filters)
    base = req.base_url
    return reply(views.collection(base, "projects", "projects", [_view(base, r) for r in rows]))


def get_project(req):
    row = _find(req.state.identity, req.params["project_id"])
    req.authorize(_target(row))
    return reply({"project": _view(req.base_url, row)})


def create_project(req):
    fields = no_id(resource(req, "project", FIELDS, ("name",)), "project")
    identity = req.state.identity
    if fields.pop("is_domain", False):
        if fields.get("domain_id") or fields.get("parent_id"):
            raise errors.ValidationError("A project acting as a domain has no domain_id or parent_id.")
        req.authorize({"target.project.domain_id": None})
        domain_fields = {k: fields[k] for k in ("name", "description", "enabled") if k in fields}
        row = identity.domains.create(domain_fields)
        return reply({"project": views.domain_as_project(req.base_url, row)}, status=201)
    if not fields.get("domain_id"):
        parent = fields.get("parent_id")
        fields["domain_id"] = identity.projects.get(parent).domain_id if parent else (
            req.context.project_domain_id or req.context.domain_id or "default"
        )
    req.authorize({"target.project.domain_id": fields["domain_id"]})
    row = identity.projects.create(fields)
    return reply({"project": views.project(req.base_url, row)}, status=201)


def update_project(req):
    identity = req.state.identity
    found = _find(identity, req.params["project_id"])
    req.authorize(_target(found))
    fields = no_id(resource(req, "project", FIELDS), "project", req.params["project_id"])
    if not hasattr(found, "parent_id"):
        fields = {k: v for k, v in fields.items() if k in ("name", "description", "enabled")}
        return reply({"project": views.domain_as_project(req.base_url, identity.domains.update(found.id, fields))})
    row = identity.projects.update(req.params["project_id"], fields)
    return reply({"project": views.project(req.base_url, row)})


def delete_project(req):
    identity = req.state.identity
    found = _find(identity, req.params["project_id"])
    req.authorize(_target(found))
    if hasattr(found, "parent_id"):
        identity.projects.delete(found.id)
    else:
        identity.domains.delete(found.id)
    return reply(None, status=204)


def list_user_projects(req):
    identity = req.state.identity
    user = identity.users.get(req.params["user_id"])
    req.authorize({"target.user.id": user.id, "target.user.domain_id": user.domain_id})
    ids = identity.assignments.targets_of(user.id, "project")
    filters = {"name": req.query.get("name"), "enabled": flag(req.query.get("enabled"))}
    rows = identity.projects.list(filters, ids=ids)
    base = req.base_url
    path = f"users/{user.id}/projects"
    return reply(views.collection(base, path, "projects", [views.project(base, r) for r in rows]))


# tags

def list_tags(req):
    row = req.state.identity.projects.get(req.params["project_id"])
    req.authorize(_target(row))
    return reply({"tags": row.tags})


def check_tag(req):
    row = req.state.identity.projects.get(req.params["project_id"])
    req.authorize(_target(row))
    if req.params["tag"] not in row.tags:
        raise errors.IdentityNotFound(req.params["tag"])
    return reply(None, status=204)


def replace_tags(req):
    identity = req.state.identity
    req.authorize(_target(identity.projects.get(req.params["project_id"])))
    body = check(req.json() if isinstance(req.json(), dict) else {}, {"tags": "array"}, ("tags",))
    tags = identity.projects.set_tags(req.params["project_id"], body["tags"])
    return reply({"tags": tags})


def add_tag(req):
    identity = req.state.identity
    req.authorize(_target(identity.projects.get(req.params["project_id"])))
    identity.projects.add_tag(req.params["project_id"], req.params["tag"])
    return reply(None, status=201, headers={"Location": f"{req.base_url}/v3/projects/{req.params['project_id']}/tags/{req.params['tag']}"})


def delete_tag(req):
    identity = req.state.identity
    req.authorize(_target(identity.projects.get(req.params["project_id"])))
    identity.projects.remove_tag(req.params["project_id"], req.params["tag"])
    return reply(None, status=204)


def delete_tags(req):
    identity = req.state.identity
    req.authorize(_target(identity.projects.get(req.params["project_id"])), rule="identity:update_project_tags")
    identity.projects.set_tags(req.params["project_id"], [])
    return reply(None, status=204)
