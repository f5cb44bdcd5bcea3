"""/v3/{project_id}/clusters (3.7+): clusters of volume agents, as Cinder lists, shows,
enables and disables them (replication fields from 3.26)."""

from __future__ import annotations

from overcast.common.api import reply
from overcast.volume import errors
from overcast.volume import views_groups as views
from overcast.volume.api import common

VOLUME = "cinder-volume"


def _list(req, detail: bool):
    common.gate(req, "3.7")
    req.authorize()
    filters = {key: req.query[key] for key in ("name", "binary") if key in req.query}
    for key in ("is_up", "disabled"):
        if key in req.query:
            filters[key] = common.boolean(req.query[key], key)
    rows = req.state.volume.clusters.list(filters)
    replication = req.version.at_least("3.26")
    return reply({"clusters": [views.cluster(row, detail, replication) for row in rows]})


def list_clusters(req):
    return _list(req, detail=False)


def list_detail(req):
    return _list(req, detail=True)


def show(req):
    common.gate(req, "3.7")
    req.authorize()
    row = req.state.volume.clusters.get(req.params["name"], req.query.get("binary") or VOLUME)
    return reply({"cluster": views.cluster(row, True, req.version.at_least("3.26"))})


def update(req):
    """PUT /clusters/enable or /clusters/disable {"name", "binary", "disabled_reason"}."""
    common.gate(req, "3.7")
    req.authorize()
    if req.params["name"] not in ("enable", "disable"):
        raise errors.NotFound("The resource could not be found.")
    body = req.json()
    if not isinstance(body, dict) or not body.get("name"):
        raise errors.InvalidInput("Missing required element 'name' in request body.")
    reason = body.get("disabled_reason")
    if reason is not None and (not isinstance(reason, str) or len(reason) > 255):
        raise errors.InvalidInput("Disabled reason contains invalid characters or is too long")
    row = req.state.volume.clusters.set_disabled(body["name"], body.get("binary") or VOLUME,
                                                 req.params["name"] == "disable", reason)
    return reply({"cluster": views.cluster(row, True, req.version.at_least("3.26"))})
