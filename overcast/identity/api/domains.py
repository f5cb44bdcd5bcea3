"""/v3/domains"""

from __future__ import annotations

from overcast.common.api import reply
from overcast.identity import views
from overcast.identity.api.common import flag, no_id, resource

FIELDS = {"name": ("string", 1, 64), "description": "string|null", "enabled": "boolean"}


def list_domains(req):
    req.authorize()
    rows = req.state.identity.domains.list(req.query.get("name"), flag(req.query.get("enabled")))
    return reply(views.collection(req.base_url, "domains", "domains", [views.domain(req.base_url, r) for r in rows]))


def get_domain(req):
    row = req.state.identity.domains.get(req.params["domain_id"])
    req.authorize({"target.domain.id": row.id})
    return reply({"domain": views.domain(req.base_url, row)})


def create_domain(req):
    req.authorize()
    fields = resource(req, "domain", {**FIELDS, "explicit_domain_id": "string"}, ("name",))
    explicit = fields.pop("explicit_domain_id", None)
    row = req.state.identity.domains.create(no_id(fields, "domain"), explicit)
    return reply({"domain": views.domain(req.base_url, row)}, status=201)


def update_domain(req):
    req.authorize({"target.domain.id": req.params["domain_id"]})
    fields = resource(req, "domain", FIELDS)
    row = req.state.identity.domains.update(req.params["domain_id"], no_id(fields, "domain", req.params["domain_id"]))
    return reply({"domain": views.domain(req.base_url, row)})


def delete_domain(req):
    req.authorize({"target.domain.id": req.params["domain_id"]})
    req.state.identity.domains.delete(req.params["domain_id"])
    return reply(None, status=204)
