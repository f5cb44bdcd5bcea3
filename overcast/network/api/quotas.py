"""/v2.0/quotas: limits per project (``quotas``), their usage (``quota_details``) and
the defaults."""

from __future__ import annotations

from overcast.common.api import reply
from overcast.network.api.attributes import integer
from overcast.network.errors import HTTPBadRequest


def _project(req) -> str:
    project_id = req.params["project_id"]
    req.authorize({"project_id": project_id, "tenant_id": project_id})
    return project_id


def list_quotas(req):
    """Admins: every project with limits of its own."""
    req.authorize({"project_id": req.context.project_id})
    quotas = req.state.network.quotas
    return reply({"quotas": [{**quotas.limits(project), "project_id": project, "tenant_id": project}
                             for project in quotas.projects()]})


def show(req):
    return reply({"quota": req.state.network.quotas.limits(_project(req))})


def defaults(req):
    _project(req)
    return reply({"quota": dict(req.state.network.quotas.defaults)})


def details(req):
    return reply({"quota": req.state.network.quotas.usage(_project(req))})


def update(req):
    project_id = _project(req)
    body = req.json()
    if not isinstance(body, dict) or not isinstance(body.get("quota"), dict):
        raise HTTPBadRequest("Unable to find 'quota' in request body")
    known = req.state.network.quotas.defaults
    values = {}
    for name, value in body["quota"].items():
        if name not in known:
            raise HTTPBadRequest(f"Unrecognized attribute(s) '{name}'")
        values[name] = integer(-1)(name, value)
    return reply({"quota": req.state.network.quotas.update(project_id, values)})


def delete(req):
    req.state.network.quotas.reset(_project(req))
    return reply(None, status=204)
