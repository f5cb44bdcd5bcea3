"""/v2.0/auto-allocated-topology/{project_id}: a project's network made on demand
(``?fields=dry-run`` only checks that it could be), and its removal."""

from __future__ import annotations

from overcast.common.api import Route, reply


def _project(req) -> str:
    project_id = req.params["project_id"]
    req.authorize({"project_id": project_id, "tenant_id": project_id})
    return project_id


def show(req):
    project_id = _project(req)
    dry_run = "dry-run" in req.query.getlist("fields")
    found = req.state.network.auto_allocate.get(req.context, project_id, dry_run=dry_run)
    if dry_run:
        return reply({"auto_allocated_topology": {"dry-run": "pass"}})
    return reply({"auto_allocated_topology": found})


def delete(req):
    req.state.network.auto_allocate.delete(req.context, _project(req))
    return reply(None, status=204)


PATH = "/v2.0/auto-allocated-topology/{project_id}"
ROUTES = [Route("GET", PATH, show, "get_auto_allocated_topology"),
          Route("DELETE", PATH, delete, "delete_auto_allocated_topology")]
