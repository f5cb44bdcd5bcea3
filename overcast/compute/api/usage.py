"""/v2.1/os-simple-tenant-usage: every project's usage (admin) or one project's, over a period.

``start`` and ``end`` are UTC times without a zone (``2024-05-01T00:00:00`` with or without
a fraction, or ``2024-05-01 00:00:00.000000``); a missing one means now. From 2.40 the
server usages page with ``limit`` and ``marker`` (an instance id) and a ``next`` link;
before that one answer holds at most 1000 servers. From 2.75 unknown parameters are a 400.
"""

from __future__ import annotations

import datetime
from urllib.parse import urlencode

from overcast.common.api import reply
from overcast.common.db import utcnow
from overcast.compute import errors, views_usage
from overcast.compute.api import checks

FORMATS = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%d %H:%M:%S.%f")
PATH = "os-simple-tenant-usage"


def _first(req, name: str) -> str | None:
    """The first non-blank value of ``name`` (Nova reads the query with parse_qs)."""
    values = [value for value in req.query.getlist(name) if value]
    return values[0] if values else None


def _moment(text: str | None) -> datetime.datetime:
    if not text:
        return utcnow()
    for fmt in FORMATS:
        try:
            return datetime.datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise errors.ComputeInvalid("Invalid datetime string: Datetime is in invalid format")


def _query(req, names: tuple[str, ...]) -> tuple[int, str | None]:
    """Check the query as the microversion's schema does; the page size and marker."""
    if not req.version.at_least("2.40"):
        return checks.MAX_LIMIT, None
    if req.version.at_least("2.75"):
        checks.only(req.query, names + ("limit", "marker"), "query parameters")
    return checks.limit_marker(req.query)


def _report(req, project_id: str | None, limit: int, marker: str | None):
    start = _moment(_first(req, "start"))
    stop = _moment(_first(req, "end"))
    return req.state.compute.usage.report(start, stop, project_id, limit, marker)


def _links(req, path: str, servers: list) -> list[dict]:
    """Nova's next link: when the page is as full as the (capped) limit allows."""
    wanted = min(int(req.query.get("limit", checks.MAX_LIMIT)), checks.MAX_LIMIT)
    if not wanted or wanted != len(servers):
        return []
    params = dict(sorted(req.query.multi_items()))
    params["marker"] = servers[-1].instance_id
    return [{"rel": "next", "href": f"{req.base_url}/v2.1/{path}?{urlencode(params)}"}]


def list_usage(req):
    limit, marker = _query(req, ("start", "end", "detailed"))
    req.authorize({"project_id": req.context.project_id})
    detailed = _first(req, "detailed") == "1"
    projects, servers = _report(req, None, limit, marker)
    body = {"tenant_usages": [views_usage.project_usage(project, detailed) for project in projects]}
    links = _links(req, PATH, servers) if req.version.at_least("2.40") else []
    if links:
        body["tenant_usages_links"] = links
    return reply(body)


def show_usage(req):
    limit, marker = _query(req, ("start", "end"))
    project_id = req.params["tenant_id"]
    req.authorize({"project_id": project_id})
    projects, servers = _report(req, project_id, limit, marker)
    body = {"tenant_usage": views_usage.project_usage(projects[0], True) if projects else {}}
    links = _links(req, f"{PATH}/{project_id}", servers) if req.version.at_least("2.40") else []
    if links:
        body["tenant_usage_links"] = links
    return reply(body)
