"""Identity objects as Keystone's v3 JSON (links, field names, extras folded in)."""

from __future__ import annotations

import json

from overcast.common.times import iso
from overcast.identity.service.base import load_json

GLOBAL = "<<null>>"


def _self(base: str, collection: str, ident: str) -> dict:
    return {"self": f"{base}/v3/{collection}/{ident}"}


def collection(base: str, path: str, key: str, items: list) -> dict:
    return {key: items, "links": {"self": f"{base}/v3/{path}", "previous": None, "next": None}}


def domain(base: str, row) -> dict:
    return {
        **load_json(row.extra, {}),
        "id": row.id,
        "name": row.name,
        "description": row.description or "",
        "enabled": row.enabled,
        "tags": [],
        "options": {},
        "links": _self(base, "domains", row.id),
    }


def project(base: str, row) -> dict:
    return {
        **load_json(row.extra, {}),
        "id": row.id,
        "name": row.name,
        "domain_id": row.domain_id,
        "description": row.description or "",
        "enabled": row.enabled,
        "parent_id": row.parent_id or row.domain_id,
        "is_domain": False,
        "tags": getattr(row, "tags", []),
        "options": {},
        "links": _self(base, "projects", row.id),
    }


def domain_as_project(base: str, row) -> dict:
    """A domain seen through /v3/projects (Keystone keeps domains as is_domain projects)."""
    body = domain(base, row)
    body.update(domain_id=None, parent_id=None, is_domain=True, links={"self": f"{base}/v3/projects/{row.id}"})
    return body


def user(base: str, row) -> dict:
    body = {
        **load_json(row.extra, {}),
        "id": row.id,
        "name": row.name,
        "domain_id": row.domain_id,
        "enabled": row.enabled,
        "password_expires_at": iso(row.password_expires_at),
        "options": load_json(row.options, {}),
        "links": _self(base, "users", row.id),
    }
    if row.default_project_id:
        body["default_project_id"] = row.default_project_id
    if row.description is not None:
        body["description"] = row.description
    return body


def group(base: str, row) -> dict:
    return {
        **load_json(row.extra, {}),
        "id": row.id,
        "name": row.name,
        "domain_id": row.domain_id,
        "description": row.description or "",
        "links": _self(base, "groups", row.id),
    }


def role(base: str, row) -> dict:
    body = {
        **load_json(row.extra, {}),
        "id": row.id,
        "name": row.name,
        "domain_id": None if row.domain_id == GLOBAL else row.domain_id,
        "options": load_json(row.options, {}),
        "links": _self(base, "roles", row.id),
    }
    if row.description is not None:
        body["description"] = row.description
    return body


def role_ref(base: str, row) -> dict:
    return {"id": row.id, "name": row.name, "links": _self(base, "roles", row.id)}


def region(base: str, row) -> dict:
    return {
        **load_json(row.extra, {}),
        "id": row.id,
        "description": row.description or "",
        "parent_region_id": row.parent_region_id,
        "links": _self(base, "regions", row.id),
    }


def service(base: str, row) -> dict:
    return {
        **load_json(row.extra, {}),
        "id": row.id,
        "type": row.type,
        "enabled": row.enabled,
        "links": _self(base, "services", row.id),
    }


def endpoint(base: str, row) -> dict:
    return {
        **load_json(row.extra, {}),
        "id": row.id,
        "interface": row.interface,
        "region": row.region_id,
        "region_id": row.region_id,
        "service_id": row.service_id,
        "url": row.url,
        "enabled": row.enabled,
        "links": _self(base, "endpoints", row.id),
    }


def credential(base: str, row, blob: str) -> dict:
    return {
        **load_json(row.extra, {}),
        "id": row.id,
        "user_id": row.user_id,
        "project_id": row.project_id,
        "type": row.type,
        "blob": blob,
        "links": _self(base, "credentials", row.id),
    }


def policy(base: str, row) -> dict:
    return {
        **load_json(row.extra, {}),
        "id": row.id,
        "type": row.type,
        "blob": row.blob,
        "links": _self(base, "policies", row.id),
    }


def ec2(base: str, body: dict) -> dict:
    link = f"{base}/v3/users/{body['user_id']}/credentials/OS-EC2/{body['access']}"
    return {**body, "links": {"self": link}}


def app_cred(base: str, row, secret: str | None = None) -> dict:
    body = {
        "id": row.id,
        "name": row.name,
        "user_id": row.user_id,
        "project_id": row.project_id,
        "description": row.description,
        "expires_at": row.expires_at.isoformat(timespec="microseconds") if row.expires_at else None,
        "unrestricted": row.unrestricted,
        "roles": [{"id": r} for r in json.loads(row.roles)],
        "access_rules": json.loads(row.access_rules),
        "links": {"self": f"{base}/v3/users/{row.user_id}/application_credentials/{row.id}"},
    }
    if secret is not None:
        body["secret"] = secret
    return body
