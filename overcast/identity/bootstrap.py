"""First-start bootstrap: the Default domain, admin/service/demo projects and users, the
admin > manager > member > reader roles (Keystone 2024.2's set), RegionOne, and a catalog entry for every service served.

Idempotent: each start makes sure these exist and that the catalog URLs of overcast's
own services match the current public URL; nothing an operator created is touched.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from overcast.common.db import new_id
from overcast.identity import errors
from overcast.identity.models import Endpoint, Service
from overcast.identity.service import IdentityService
from overcast.identity.service.base import dump_json, load_json

DEFAULT_DOMAIN = "default"
ROLES = ("admin", "manager", "member", "reader", "service")
IMPLIES = (("admin", "manager"), ("manager", "member"), ("member", "reader"))


def _ensure_role(identity: IdentityService, name: str) -> str:
    row = identity.roles.find_by_name(name)
    if row is None:
        row = identity.roles.create({"name": name})
    return row.id


def _ensure_project(identity: IdentityService, name: str, description: str) -> str:
    try:
        return identity.projects.resolve({"name": name, "domain": {"id": DEFAULT_DOMAIN}}).id
    except errors.IdentityNotFound:
        return identity.projects.create({"name": name, "domain_id": DEFAULT_DOMAIN, "description": description}).id


def _ensure_user(identity: IdentityService, name: str, password: str, project_id: str) -> str:
    try:
        return identity.users.resolve({"name": name, "domain": {"id": DEFAULT_DOMAIN}}).id
    except errors.IdentityNotFound:
        fields = {"name": name, "domain_id": DEFAULT_DOMAIN, "password": password, "default_project_id": project_id}
        return identity.users.create(fields).id


def bootstrap(identity: IdentityService, specs: list, admin_password: str, demo_password: str) -> None:
    try:
        identity.domains.get(DEFAULT_DOMAIN)
    except errors.IdentityNotFound:
        identity.domains.create({"name": "Default", "description": "The default domain"}, DEFAULT_DOMAIN)
    roles = {name: _ensure_role(identity, name) for name in ROLES}
    for prior, implied in IMPLIES:
        identity.roles.add_implied(roles[prior], roles[implied])
    admin_project = _ensure_project(identity, "admin", "Bootstrap project for the cloud administrator")
    _ensure_project(identity, "service", "Project of the service users")
    demo_project = _ensure_project(identity, "demo", "A project for a first, unprivileged user")
    with ThreadPoolExecutor(2) as pool:  # two bcrypt hashes on first start: one per core
        admin_future = pool.submit(_ensure_user, identity, "admin", admin_password, admin_project)
        demo_future = pool.submit(_ensure_user, identity, "demo", demo_password, demo_project)
        admin, demo = admin_future.result(), demo_future.result()
    identity.assignments.grant("user", admin, "project", admin_project, roles["admin"])
    identity.assignments.grant("user", admin, "system", "system", roles["admin"])
    identity.assignments.grant("user", demo, "project", demo_project, roles["member"])
    region = identity.config.identity.region
    try:
        identity.catalog.get_region(region)
    except errors.IdentityNotFound:
        identity.catalog.create_region({"description": ""}, region)
    for spec in specs:
        if spec.in_catalog:
            sync_catalog(identity, spec, region)


def sync_catalog(identity: IdentityService, spec, region: str) -> None:
    """One service entry per served type with public/internal/admin endpoints at our URL."""
    url = f"{identity.public_url}{spec.prefix}{spec.endpoint_path}"
    with identity.db.session() as session:
        services = [s for s in session.query(Service).filter_by(type=spec.service_type)
                    if load_json(s.extra, {}).get("name") == spec.catalog_name]
        if services:
            service = services[0]
        else:
            service = Service(id=new_id(), type=spec.service_type, enabled=True,
                              extra=dump_json({"name": spec.catalog_name, "description": f"overcast {spec.name}"}))
            session.add(service)
            session.flush()
        existing = {e.interface: e for e in session.query(Endpoint).filter_by(service_id=service.id, region_id=region)}
        for interface in ("public", "internal", "admin"):
            endpoint = existing.get(interface)
            if endpoint is None:
                session.add(Endpoint(id=new_id(), service_id=service.id, interface=interface,
                                     region_id=region, url=url, enabled=True))
            elif endpoint.url != url:
                endpoint.url = url
    identity.catalog.invalidate()
