"""/v3/auth: issue, validate, check and revoke tokens; the caller's catalog and scopes."""

from __future__ import annotations

from overcast.common.api import reply
from overcast.common.api.validation import body_object
from overcast.identity import errors, views
from overcast.identity.tokens import TokenData


def _names(identity, data: TokenData) -> dict:
    user_name, _ = identity.names.user(data.user_id)
    return {
        "user": {
            "id": data.user_id,
            "name": user_name,
            "domain": {"id": data.user_domain_id, "name": identity.names.domain(data.user_domain_id)},
            "password_expires_at": None,
        }
    }


def render(identity, data: TokenData, catalog: bool = True) -> dict:
    """The token body Keystone returns on issue and validation."""
    body = {
        "methods": data.methods,
        **_names(identity, data),
        "audit_ids": data.audit_ids,
        "expires_at": views.iso(data.expires_at),
        "issued_at": views.iso(data.issued_at),
    }
    role_names = identity.names.role_names()
    roles = [{"id": r, "name": role_names.get(r) or identity.names.role(r)} for r in data.role_ids]
    if data.project_id:
        name, _ = identity.names.project(data.project_id)
        domain = {"id": data.project_domain_id, "name": identity.names.domain(data.project_domain_id)}
        body.update(project={"id": data.project_id, "name": name, "domain": domain}, is_domain=False, roles=roles)
    elif data.domain_id:
        body.update(domain={"id": data.domain_id, "name": identity.names.domain(data.domain_id)}, roles=roles)
    elif data.system:
        body.update(system={"all": True}, roles=roles)
    if data.app_cred_id:
        row = identity.app_creds.get(None, data.app_cred_id)
        body["application_credential"] = {"id": row.id, "name": row.name, "restricted": not row.unrestricted}
    if catalog and data.scope:
        body["catalog"] = identity.catalog.catalog(data.project_id)
    return {"token": body}


def _wants_catalog(req) -> bool:
    return "nocatalog" not in req.query


def issue(req):
    identity = req.state.identity
    auth = body_object(req.json(), "auth")
    token, data = identity.auth.issue(auth)
    return reply(render(identity, data, _wants_catalog(req)), status=201, headers={"X-Subject-Token": token})


def issue_ec2(req):
    """POST /v3/ec2tokens: the EC2 API's signature check, answered with a token."""
    body = req.json()
    credentials = body.get("credentials") or body.get("ec2Credentials") if isinstance(body, dict) else None
    if not isinstance(credentials, dict):
        raise errors.ValidationError("Invalid input for field 'credentials': 'credentials' is a required property")
    identity = req.state.identity
    token, data = identity.auth.issue_ec2(credentials)
    return reply(render(identity, data), status=200, headers={"X-Subject-Token": token})


def _subject(req) -> tuple[str, TokenData]:
    identity = req.state.identity
    token = req.headers.get("x-subject-token")
    data = identity.auth.validate(token)
    req.authorize({"target.token.user_id": data.user_id})
    return token, data


def validate(req):
    token, data = _subject(req)
    body = render(req.state.identity, data, _wants_catalog(req))
    return reply(body, headers={"X-Subject-Token": token})


def check(req):
    token, _ = _subject(req)
    return reply(None, status=200, headers={"X-Subject-Token": token})


def revoke(req):
    token, _ = _subject(req)
    req.state.identity.auth.revoke(token)
    return reply(None, status=204)


def catalog(req):
    req.authorize()
    ctx = req.context
    items = req.state.identity.catalog.catalog(ctx.project_id) if (ctx.project_id or ctx.domain_id or ctx.system_scope) else []
    return reply({"catalog": items, "links": {"self": f"{req.base_url}/v3/auth/catalog"}})


def projects(req):
    req.authorize()
    identity = req.state.identity
    ids = identity.assignments.targets_of(req.context.user_id, "project")
    rows = [r for r in identity.projects.list({"enabled": True}, ids=ids)]
    return reply(views.collection(req.base_url, "auth/projects", "projects", [views.project(req.base_url, r) for r in rows]))


def domains(req):
    req.authorize()
    identity = req.state.identity
    ids = set(identity.assignments.targets_of(req.context.user_id, "domain"))
    rows = [r for r in identity.domains.list(enabled=True) if r.id in ids]
    return reply(views.collection(req.base_url, "auth/domains", "domains", [views.domain(req.base_url, r) for r in rows]))


def system(req):
    req.authorize()
    roles = req.state.identity.assignments.effective_roles(req.context.user_id, system=True)
    return reply({"system": [{"all": True}] if roles else [], "links": {"self": f"{req.base_url}/v3/auth/system"}})
