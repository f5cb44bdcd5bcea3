"""/v3/roles, implied roles and /v3/role_inferences"""

from __future__ import annotations

from overcast.common.api import reply
from overcast.identity import views
from overcast.identity.api.common import no_id, resource

FIELDS = {"name": ("string", 1, 255), "description": "string|null", "domain_id": "string|null", "options": "object"}


def list_roles(req):
    req.authorize()
    rows = req.state.identity.roles.list(req.query.get("name"), req.query.get("domain_id"))
    base = req.base_url
    return reply(views.collection(base, "roles", "roles", [views.role(base, r) for r in rows]))


def get_role(req):
    req.authorize()
    return reply({"role": views.role(req.base_url, req.state.identity.roles.get(req.params["role_id"]))})


def create_role(req):
    req.authorize()
    row = req.state.identity.roles.create(no_id(resource(req, "role", FIELDS, ("name",)), "role"))
    return reply({"role": views.role(req.base_url, row)}, status=201)


def update_role(req):
    req.authorize()
    fields = no_id(resource(req, "role", FIELDS), "role", req.params["role_id"])
    row = req.state.identity.roles.update(req.params["role_id"], fields)
    return reply({"role": views.role(req.base_url, row)})


def delete_role(req):
    req.authorize()
    req.state.identity.roles.delete(req.params["role_id"])
    return reply(None, status=204)


def _implication(base: str, prior, implied) -> dict:
    return {
        "role_inference": {"prior_role": views.role_ref(base, prior), "implies": views.role_ref(base, implied)},
        "links": {"self": f"{base}/v3/roles/{prior.id}/implies/{implied.id}"},
    }


def create_implied(req):
    req.authorize()
    prior, implied = req.state.identity.roles.add_implied(req.params["prior_role_id"], req.params["implied_role_id"])
    return reply(_implication(req.base_url, prior, implied), status=201)


def get_implied(req):
    req.authorize()
    prior, implied = req.state.identity.roles.check_implied(req.params["prior_role_id"], req.params["implied_role_id"])
    if req.method == "HEAD":
        return reply(None, status=204)
    return reply(_implication(req.base_url, prior, implied))


def delete_implied(req):
    req.authorize()
    req.state.identity.roles.remove_implied(req.params["prior_role_id"], req.params["implied_role_id"])
    return reply(None, status=204)


def list_implied(req):
    req.authorize()
    roles = req.state.identity.roles
    prior = roles.get(req.params["prior_role_id"])
    base = req.base_url
    body = {
        "role_inference": {
            "prior_role": views.role_ref(base, prior),
            "implies": [views.role_ref(base, r) for r in roles.implied_by(prior.id)],
        },
        "links": {"self": f"{base}/v3/roles/{prior.id}/implies"},
    }
    return reply(body)


def list_inferences(req):
    req.authorize()
    roles = req.state.identity.roles
    base = req.base_url
    inferences = []
    for prior_id in sorted(roles.implications()):
        prior = roles.get(prior_id)
        inferences.append(
            {"prior_role": views.role_ref(base, prior), "implies": [views.role_ref(base, r) for r in roles.implied_by(prior_id)]}
        )
    return reply({"role_inferences": inferences, "links": {"self": f"{base}/v3/role_inferences"}})
