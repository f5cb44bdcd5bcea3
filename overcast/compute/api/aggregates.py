"""/v2.1/os-aggregates: CRUD and the add_host, remove_host and set_metadata actions."""

from __future__ import annotations

import re

from overcast.common.api import reply
from overcast.compute import errors
from overcast.compute import views_hosts as views
from overcast.compute.api import checks

META_KEY = re.compile(r"^[a-zA-Z0-9-_:. ]{1,255}$")  # parameter_types.metadata


def _name(value, field: str, trimmed: bool, colon: bool = True) -> str:
    """Nova's name formats: printable; ``trimmed`` refuses leading/trailing whitespace,
    otherwise the value only needs one non-space character; zones also refuse ':'."""
    checks.string(value, field)
    if not value.isprintable() or (not colon and ":" in value):
        raise checks.invalid(field, value, "It must be printable characters" + ("" if colon else " except :") + ".")
    if (trimmed and value != value.strip()) or not value.strip():
        raise checks.invalid(field, value, "Can not start or end with whitespace.")
    return value.strip()


def _zone(value, trimmed: bool) -> str | None:
    return None if value is None else _name(value, "availability_zone", trimmed, colon=False)


def _aggregate_id(req) -> int:
    return checks.integer_id(req.params["aggregate_id"])


def _answer(req, view, created: bool = False):
    return reply({"aggregate": views.aggregate(view, req.version, created)})


def list_aggregates(req):
    req.authorize()
    return reply({"aggregates": [views.aggregate(view, req.version) for view in req.state.compute.aggregates.list()]})


def create(req):
    raw = req.json()
    body = checks.obj(raw, "aggregate")
    checks.only(raw, ("aggregate",))
    checks.only(body, ("name", "availability_zone"), "aggregate")
    checks.required(body, ("name",), "aggregate")
    name, zone = _name(body["name"], "name", trimmed=True), _zone(body.get("availability_zone"), trimmed=True)
    req.authorize()
    return _answer(req, req.state.compute.aggregates.create(name, zone), created=True)


def show(req):
    req.authorize()
    return _answer(req, req.state.compute.aggregates.get(_aggregate_id(req)))


def update(req):
    raw = req.json()
    body = checks.obj(raw, "aggregate")
    checks.only(raw, ("aggregate",))
    checks.only(body, ("name", "availability_zone"), "aggregate")
    if "name" not in body and "availability_zone" not in body:
        raise checks.invalid("aggregate", body, f"{body!r} is not valid under any of the given schemas")
    changes = {}
    if "name" in body:
        changes["name"] = _name(body["name"], "name", trimmed=False)
    if "availability_zone" in body:
        changes["zone"] = _zone(body["availability_zone"], trimmed=True)
    req.authorize()
    return _answer(req, req.state.compute.aggregates.update(_aggregate_id(req), **changes))


def delete(req):
    req.authorize()
    req.state.compute.aggregates.delete(_aggregate_id(req))
    return reply(None, status=200)


def _host(body: dict, action: str) -> str:
    inner = checks.obj(body, action)
    checks.only(inner, ("host",), action)
    checks.required(inner, ("host",), action)
    return checks.host(inner["host"])


def _metadata(body: dict) -> dict:
    inner = checks.obj(body, "set_metadata")
    checks.only(inner, ("metadata",), "set_metadata")
    checks.required(inner, ("metadata",), "set_metadata")
    metadata = checks.obj(inner["metadata"])
    for key, value in metadata.items():
        if not META_KEY.match(key):
            raise checks.invalid("metadata", metadata, f"Additional properties are not allowed ({key!r} was "
                                                       "unexpected)")
        if value is not None:
            checks.string(value, key, low=0)
    return metadata


ACTIONS = {"add_host": _host, "remove_host": _host, "set_metadata": lambda body, _: _metadata(body)}


def action(req):
    """POST /os-aggregates/{id}/action: one key naming the action, each with its own rule."""
    body = req.json()
    if not isinstance(body, dict) or len(body) != 1:
        raise errors.ComputeInvalid("Malformed request body: too many body keys")
    name = next(iter(body))
    if name not in ACTIONS:
        raise errors.ComputeInvalid(f"There is no such action: {name}")
    value = ACTIONS[name](body, name)
    req.authorize(rule=f"os_compute_api:os-aggregates:{name}")
    aggregates, aggregate_id = req.state.compute.aggregates, _aggregate_id(req)
    if name == "add_host":
        return _answer(req, aggregates.add_host(aggregate_id, value))
    if name == "remove_host":
        return _answer(req, aggregates.remove_host(aggregate_id, value))
    return _answer(req, aggregates.set_metadata(aggregate_id, value))
