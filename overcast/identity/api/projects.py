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
    return {"target.project.id": row.id, "target.project.domain_id": row.domain_id}


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
    if query.get("is_domain") and flag(query.get("is_domain")):
        rows = []
    else:
        rows = req.state.identity.projects.list(filters)
    base = req.base_url
    return reply(views.collection(base, "projects", "projects", [views.project(base, r) for r in rows]))


def get_project(req):
    row = req.state.identity.projects.get(req.params["project_id"])
    req.authorize(_target(row))
    return reply({"project": views.project(req.base_url, row)})


def create_project(req):
    fields = no_id(resource(req, "project", FIELDS, ("name",)), "project")
    if fields.get("is_domain"):
        raise errors.ValidationError("Projects acting as domains are not supported; create a domain.")
    identity = req.state.identity
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
    req.authorize(_target(identity.projects.get(req.params["project_id"])))
    fields = no_id(resource(req, "project", FIELDS), "project")
    row = identity.projects.update(req.params["project_id"], fields)
    return reply({"project": views.project(req.base_url, row)})


def delete_project(req):
    identity = req.state.identity
    req.authorize(_target(identity.projects.get(req.params["project_id"])))
    identity.projects.delete(req.params["project_id"])
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
