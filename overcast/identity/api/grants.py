"""Role grants: /v3/{projects|domains|system}/.../{users|groups}/.../roles[/{role_id}]

One factory makes the four handlers (list, check, grant, revoke) for each pair of
actor kind and target kind, so the twelve URL shapes share one implementation.
"""

from __future__ import annotations

from overcast.common.api import reply
from overcast.identity import views


def _parties(req, actor: str, target: str) -> tuple[str, str, dict]:
    identity = req.state.identity
    actor_id = req.params[f"{actor}_id"]
    if target == "system":
        return actor_id, "system", {}
    target_id = req.params[f"{target}_id"]
    domain_id = identity.projects.get(target_id).domain_id if target == "project" else target_id
    if target == "domain":
        identity.domains.get(target_id)
    return actor_id, target_id, {"target.domain.id": domain_id}


def handlers(actor: str, target: str, inherited: bool = False):
    """(list, check, create, delete) handlers for grants of ``actor`` roles on ``target``."""

    def list_grants(req):
        actor_id, target_id, policy_target = _parties(req, actor, target)
        req.authorize(policy_target)
        rows = req.state.identity.assignments.roles_of(actor, actor_id, target, target_id, inherited)
        base = req.base_url
        path = req.raw.url.path.split("/v3/", 1)[1]
        return reply(views.collection(base, path, "roles", [views.role(base, r) for r in rows]))

    def check_grant(req):
        actor_id, target_id, policy_target = _parties(req, actor, target)
        req.authorize(policy_target)
        req.state.identity.assignments.check(actor, actor_id, target, target_id, req.params["role_id"], inherited)
        return reply(None, status=204)

    def create_grant(req):
        actor_id, target_id, policy_target = _parties(req, actor, target)
        req.authorize(policy_target)
        req.state.identity.assignments.grant(actor, actor_id, target, target_id, req.params["role_id"], inherited)
        return reply(None, status=204)

    def delete_grant(req):
        actor_id, target_id, policy_target = _parties(req, actor, target)
        req.authorize(policy_target)
        req.state.identity.assignments.revoke(actor, actor_id, target, target_id, req.params["role_id"], inherited)
        return reply(None, status=204)

    return list_grants, check_grant, create_grant, delete_grant
