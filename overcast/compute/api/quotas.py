"""/v2.1/os-quota-sets/{project_id}[/detail|/defaults]"""

from __future__ import annotations

from overcast.common.api import reply
from overcast.common.api.validation import body_object
from overcast.compute.service.quotas import visible


def _target(req) -> dict:
    return {"project_id": req.params["project_id"]}


def _shown(values: dict, names: list[str]) -> dict:
    return {name: values[name] for name in names}


def show(req):
    req.authorize(_target(req))
    limits = req.state.compute.quotas.limits(req.params["project_id"])
    return reply({"quota_set": {"id": req.params["project_id"], **_shown(limits, visible(req.version))}})


def detail(req):
    req.authorize(_target(req))
    quotas, project = req.state.compute.quotas, req.params["project_id"]
    limits = quotas.limits(project)
    used = quotas.usage(project, req.query.get("user_id") or req.context.user_id)
    items = {name: {"limit": limits[name], "in_use": used[name], "reserved": 0} for name in visible(req.version)}
    return reply({"quota_set": {"id": project, **items}})


def defaults(req):
    req.authorize(_target(req))
    values = req.state.compute.quotas.defaults
    return reply({"quota_set": {"id": req.params["project_id"], **_shown(values, visible(req.version))}})


def update(req):
    req.authorize(_target(req))
    body = dict(body_object(req.json(), "quota_set"))
    body.pop("force", None)
    names = visible(req.version)
    limits = req.state.compute.quotas.update(req.params["project_id"], body, names)
    return reply({"quota_set": _shown(limits, names)})


def delete(req):
    req.authorize(_target(req))
    req.state.compute.quotas.reset(req.params["project_id"])
    return reply(None, status=202)
