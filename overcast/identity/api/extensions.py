"""OS-EP-FILTER endpoint groups and OS-OAUTH1 consumers."""

from __future__ import annotations

import json

from overcast.common.api import reply
from overcast.identity.api.common import no_id, resource

GROUP = {"name": ("string", 1, 255), "description": "string|null", "filters": "object"}
CONSUMER = {"description": "string|null"}


def _group(req, row) -> dict:
    return {
        "id": row.id,
        "name": row.name,
        "description": row.description,
        "filters": json.loads(row.filters),
        "links": {"self": f"{req.base_url}/v3/OS-EP-FILTER/endpoint_groups/{row.id}"},
    }


def list_groups(req):
    req.authorize()
    rows = req.state.identity.endpoint_groups.list(req.query.get("name"))
    links = {"self": f"{req.base_url}/v3/OS-EP-FILTER/endpoint_groups", "previous": None, "next": None}
    return reply({"endpoint_groups": [_group(req, r) for r in rows], "links": links})


def get_group(req):
    req.authorize()
    return reply({"endpoint_group": _group(req, req.state.identity.endpoint_groups.get(req.params["group_id"]))})


def create_group(req):
    req.authorize()
    fields = no_id(resource(req, "endpoint_group", GROUP, ("name", "filters")), "endpoint group")
    return reply({"endpoint_group": _group(req, req.state.identity.endpoint_groups.create(fields))}, status=201)


def update_group(req):
    req.authorize()
    fields = no_id(resource(req, "endpoint_group", GROUP), "endpoint group", req.params["group_id"])
    row = req.state.identity.endpoint_groups.update(req.params["group_id"], fields)
    return reply({"endpoint_group": _group(req, row)})


def delete_group(req):
    req.authorize()
    req.state.identity.endpoint_groups.delete(req.params["group_id"])
    return reply(None, status=204)


def _consumer(req, row, secret: str | None = None) -> dict:
    body = {
        "id": row.id,
        "description": row.description,
        "links": {"self": f"{req.base_url}/v3/OS-OAUTH1/consumers/{row.id}"},
    }
    if secret is not None:
        body["secret"] = secret
    return body


def list_consumers(req):
    req.authorize()
    links = {"self": f"{req.base_url}/v3/OS-OAUTH1/consumers", "previous": None, "next": None}
    return reply({"consumers": [_consumer(req, r) for r in req.state.identity.consumers.list()], "links": links})


def get_consumer(req):
    req.authorize()
    return reply({"consumer": _consumer(req, req.state.identity.consumers.get(req.params["consumer_id"]))})


def create_consumer(req):
    req.authorize()
    body = req.json()
    fields = no_id(resource(req, "consumer", CONSUMER), "consumer") if isinstance(body, dict) and body else {}
    row, secret = req.state.identity.consumers.create(fields)
    return reply({"consumer": _consumer(req, row, secret)}, status=201)


def update_consumer(req):
    req.authorize()
    fields = no_id(resource(req, "consumer", CONSUMER), "consumer", req.params["consumer_id"])
    row = req.state.identity.consumers.update(req.params["consumer_id"], fields)
    return reply({"consumer": _consumer(req, row)})


def delete_consumer(req):
    req.authorize()
    req.state.identity.consumers.delete(req.params["consumer_id"])
    return reply(None, status=204)
