"""/v2.1/os-migrations and /v2.1/servers/{server_id}/migrations[/{migration_id}].

os-migrations filters by host (source or destination), source_compute, status,
migration_type, instance_uuid and hidden; 2.59 pages it newest first (limit, marker by
uuid, changes-since) and rejects unknown parameters, 2.66 adds changes-before, 2.80
user_id and project_id. A manager sees their own project's migrations without hosts; an
admin sees all. A server's migrations (2.23) are its live migrations in progress; 2.24
aborts one (queued, preparing or, from 2.65, running) and 2.22 forces a running one to
complete, both only while the server is migrating; both answer 202 and the source host
does the work (service/moves.py, agent_moves.py).
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

from overcast.common.api import reply
from overcast.common.api.microversions import Microversion
from overcast.common.errors import NotFound
from overcast.compute import errors
from overcast.compute import views_migrations as views
from overcast.compute.api import checks
from overcast.compute.service.migrations import POST_COPY, MigrationQuery
from overcast.compute.service.server_list import parse_time

P = "os_compute_api:os-migrations:"
SM = "os_compute_api:servers:migrations:"
FILTERS = ("hidden", "host", "instance_uuid", "source_compute", "status", "migration_type")
LEGACY_FILTERS = FILTERS + ("node", "user_id", "project_id")  # below 2.59 any parameter reaches the filters


def _allowed(version) -> tuple:
    allowed = FILTERS + ("limit", "marker", "changes-since")
    if version.at_least("2.66"):
        allowed += ("changes-before",)
    if version.at_least("2.80"):
        allowed += ("user_id", "project_id")
    return allowed


def _query(req) -> MigrationQuery:
    q, version = req.query, req.version
    if not version.at_least("2.59"):
        return MigrationQuery({name: q[name] for name in LEGACY_FILTERS if name in q})
    checks.only(q, _allowed(version), "query parameters")
    limit, marker = checks.limit_marker(q)
    query = MigrationQuery({name: q[name] for name in _allowed(version) if name in q and name in LEGACY_FILTERS},
                           paged=True, limit=limit, marker=marker)
    if "changes-since" in q:
        query.changes_since = parse_time(q["changes-since"], "changes-since")
    if "changes-before" in q:
        query.changes_before = parse_time(q["changes-before"], "changes-before")
        if query.changes_since is not None and query.changes_before < query.changes_since:
            raise errors.ComputeInvalid("The value of changes-since must be less than or equal to changes-before.")
    return query


def list_migrations(req):
    ctx = req.context
    req.authorize({"project_id": ctx.project_id, "user_id": ctx.user_id})
    query = _query(req)
    project = query.filters.get("project_id")
    if not project or project != ctx.project_id:
        req.authorize({"project_id": ctx.project_id, "user_id": ctx.user_id}, rule=P + "index:all_projects")
    with_hosts = req.allowed({"project_id": ctx.project_id, "user_id": ctx.user_id}, rule=P + "index:host")
    rows = req.state.compute.migrations.list_migrations(query)
    base = req.base_url + "/v2.1"
    body = {"migrations": [views.migration(row, req.version, base, with_hosts) for row in rows]}
    if query.paged and rows and len(rows) == min(query.limit, checks.MAX_LIMIT):
        params = urlencode(sorted({**dict(req.query), "marker": rows[-1].uuid}.items()))
        body["migrations_links"] = [{"rel": "next", "href": f"{base}/os-migrations?{params}"}]
    return reply(body)


def _since(req, first: str) -> None:
    """404 below the method's first microversion, as Nova routes them."""
    if req.version < Microversion.parse(first):
        raise NotFound("The resource could not be found.")


def _server(req, rule: str):
    row = req.state.compute.servers.get(req.context, req.params["server_id"])
    req.authorize({"project_id": row.project_id}, rule=SM + rule)
    return row


def list_server_migrations(req):
    _since(req, "2.23")
    row = _server(req, "index")
    with_hosts = req.allowed({"project_id": row.project_id}, rule=SM + "index:host")
    found = req.state.compute.migrations.live_in_progress(row.uuid)
    return reply({"migrations": [views.server_migration(m, req.version, with_hosts) for m in found]})


def show_server_migration(req):
    _since(req, "2.23")
    row = _server(req, "show")
    found = req.state.compute.migrations.get_live_in_progress(row.uuid, req.params["migration_id"])
    return reply({"migration": views.server_migration(found, req.version)})


def _migrating(row, action: str, active: bool = False) -> None:
    """Nova's check_instance_state: only a server with task_state migrating (and active)."""
    if active and row.vm_state != "active":
        raise errors.InstanceInvalidState(row.uuid, action, "vm_state", row.vm_state)
    if row.task_state != "migrating":
        raise errors.InstanceInvalidState(row.uuid, action, "task_state", row.task_state)


def _running(req, row, method: str, states: tuple, missing_404: bool):
    """The live migration acted on: Nova answers 404 (abort) or 400 (force) when the server
    has no such one, 400 when its status is not one of ``states``."""
    migration_id = req.params["migration_id"]
    try:
        found = req.state.compute.migrations.get_live_in_progress(row.uuid, migration_id, also=(POST_COPY,))
    except NotFound:
        message = f"Migration {migration_id} not found for instance {row.uuid}"
        raise (errors.ComputeNotFound(message) if missing_404 else errors.ComputeInvalid(message)) from None
    if found.status not in states:
        raise errors.ComputeInvalid(f"Migration {migration_id} state of instance {row.uuid} is {found.status}. "
                                    f"Cannot {method} while the migration is in this state.")
    return found


def _abortable(req):
    _since(req, "2.24")
    row = _server(req, "delete")
    _migrating(row, "abort live migration")
    states = ("running", "queued", "preparing") if req.version.at_least("2.65") else ("running",)
    return row, _running(req, row, "abort live migration", states, missing_404=True)


async def abort(req):
    """DELETE a live migration (2.24): 202, the migration ends cancelled."""
    row, migration = await asyncio.to_thread(_abortable, req)
    await req.state.compute.lifecycle.moves.abort_live(req.context, row.uuid, migration)
    return reply(None, 202)


def _forcible(req):
    _since(req, "2.22")
    body = checks.obj(req.json())
    checks.only(body, ("force_complete",))
    checks.required(body, ("force_complete",), "body")
    row = _server(req, "force_complete")
    _migrating(row, "force_complete", active=True)
    return row, _running(req, row, "force complete", ("running",), missing_404=False)


async def action(req):
    """POST {"force_complete": null} (2.22): 202, the guest is paused until it has moved."""
    row, migration = await asyncio.to_thread(_forcible, req)
    await req.state.compute.lifecycle.moves.force_complete_live(req.context, row.uuid, migration)
    return reply(None, 202)
