"""/v2.1/os-server-groups

The request checks give the messages Nova's JSON-schema validation gives for the same
bodies: ``policies`` (a one-item list) below 2.64, the soft policies from 2.15, ``policy``
and ``rules`` (anti-affinity only) from 2.64; unknown query parameters refused from 2.75.
"""

from __future__ import annotations

import re

from overcast.common.api import reply
from overcast.compute import errors
from overcast.compute.views_groups import server_group

MAX_LIMIT = 1000  # Nova's [api] max_limit: the most one listing returns
DIGITS = re.compile(r"^[0-9]*$")
INDEX_QUERY = ("all_projects", "limit", "offset")


def _invalid(field, value, message: str):
    return errors.ComputeInvalid(f"Invalid input for field/attribute {field}. Value: {value}. {message}")


def _unexpected(keys) -> str:
    shown = ", ".join(repr(key) for key in sorted(keys))
    return f"Additional properties are not allowed ({shown} {'was' if len(keys) == 1 else 'were'} unexpected)"


def _name(value) -> str:
    if not isinstance(value, str):
        raise _invalid("name", value, f"{value!r} is not of type 'string'")
    if not value or not value.isprintable() or value != value.strip():
        raise errors.ComputeInvalid("An invalid 'name' value was provided. The name must be: printable "
                                    "characters. Can not start or end with whitespace.")
    if len(value) > 255:
        raise _invalid("name", value, f"{value!r} is too long")
    return value


def _policies(value, version) -> str:
    """Below 2.64: exactly one of the known policies, in a list."""
    allowed = ["anti-affinity", "affinity"] + (["soft-anti-affinity", "soft-affinity"]
                                               if version.at_least("2.15") else [])
    if not isinstance(value, list):
        raise _invalid("policies", value, f"{value!r} is not of type 'array'")
    if not value:
        raise _invalid("policies", value, "[] should be non-empty")
    if len(value) > 1:
        raise _invalid("policies", value, f"{value!r} is too long")
    if value[0] not in allowed:
        raise _invalid(0, value[0], f"{value[0]!r} is not one of {allowed!r}")
    return value[0]


def _policy(value) -> str:
    allowed = ["anti-affinity", "affinity", "soft-anti-affinity", "soft-affinity"]
    if not isinstance(value, str):
        raise _invalid("policy", value, f"{value!r} is not of type 'string'")
    if value not in allowed:
        raise _invalid("policy", value, f"{value!r} is not one of {allowed!r}")
    return value


def _rules(value) -> dict:
    """From 2.64: ``{"max_server_per_host": n}`` with n a positive integer (or digits)."""
    if not isinstance(value, dict):
        raise _invalid("rules", value, f"{value!r} is not of type 'object'")
    extra = [key for key in value if key != "max_server_per_host"]
    if extra:
        raise _invalid("rules", value, _unexpected(extra))
    if "max_server_per_host" not in value:
        return {}
    count = value["max_server_per_host"]
    if isinstance(count, bool) or not isinstance(count, (int, str)):
        raise _invalid("max_server_per_host", count, f"{count!r} is not of type 'integer', 'string'")
    if isinstance(count, str) and (not count or not DIGITS.match(count)):
        raise _invalid("max_server_per_host", count,
                       f"{count!r} is too short" if not count else f"{count!r} does not match '^[0-9]*$'")
    if int(count) < 1:
        raise _invalid("max_server_per_host", count, f"{count} is less than the minimum of 1")
    return {"max_server_per_host": int(count)}


def _create_body(req) -> tuple[str, str, dict]:
    """(name, policy, rules) from the request body, checked as the microversion says."""
    body = req.json()
    if not isinstance(body, dict):
        raise errors.ComputeInvalid(f"{body!r} is not of type 'object'")
    if "server_group" not in body:
        raise errors.ComputeInvalid("'server_group' is a required property")
    if len(body) > 1:
        raise errors.ComputeInvalid(_unexpected([key for key in body if key != "server_group"]))
    group = body["server_group"]
    if not isinstance(group, dict):
        raise _invalid("server_group", group, f"{group!r} is not of type 'object'")
    new = req.version.at_least("2.64")
    fields = ("name", "policy", "rules") if new else ("name", "policies")
    for required in fields[:2]:
        if required not in group:
            raise _invalid("server_group", group, f"'{required}' is a required property")
    extra = [key for key in group if key not in fields]
    if extra:
        raise _invalid("server_group", group, _unexpected(extra))
    name = _name(group["name"])
    if not new:
        return name, _policies(group["policies"], req.version), {}
    policy, rules = _policy(group["policy"]), _rules(group.get("rules", {}))
    if policy != "anti-affinity" and rules:
        raise errors.ComputeInvalid("Only anti-affinity policy supports rules.")
    return name, policy, rules


def _page(req) -> tuple[int, int]:
    """(limit, offset) as Nova's ``common.limited`` reads them; limit 0 means the most."""
    if req.version.at_least("2.75"):
        extra = [key for key in req.query if key not in INDEX_QUERY]
        if extra:
            raise errors.ComputeInvalid(_unexpected(extra))
    found = {}
    for name in ("limit", "offset"):
        for value in req.query.getlist(name):
            if not value or not DIGITS.match(value):
                raise errors.ComputeInvalid(f"Invalid input for query parameters {name}. Value: {value}. "
                                            f"{value!r} does not match '^[0-9]*$'")
            found[name] = int(value)
    return min(MAX_LIMIT, found.get("limit") or MAX_LIMIT), found.get("offset", 0)


def _render(req, rows) -> list[dict]:
    members = req.state.compute.server_groups.members(row.uuid for row in rows)
    return [server_group(row, members[row.uuid], req.version) for row in rows]


def list_groups(req):
    ctx = req.context
    limit, offset = _page(req)
    req.authorize({"project_id": ctx.project_id})
    everyone = "all_projects" in req.query and ctx.is_admin
    if everyone:
        req.authorize({"project_id": ctx.project_id}, rule="os_compute_api:os-server-groups:index:all_projects")
    rows = req.state.compute.server_groups.list(ctx, all_projects=everyone, limit=limit, offset=offset)
    return reply({"server_groups": _render(req, rows)})


def create(req):
    name, policy, rules = _create_body(req)  # Nova checks the body before the policy
    req.authorize({"project_id": req.context.project_id})
    row = req.state.compute.server_groups.create(req.context, name, policy, rules)
    return reply({"server_group": _render(req, [row])[0]})


def show(req):
    row = req.state.compute.server_groups.get(req.context, req.params["group_id"])
    req.authorize({"project_id": row.project_id})
    return reply({"server_group": _render(req, [row])[0]})


def delete(req):
    groups = req.state.compute.server_groups
    row = groups.get(req.context, req.params["group_id"])
    req.authorize({"project_id": row.project_id})
    groups.delete(req.context, row.uuid)
    return reply(None, status=204)
