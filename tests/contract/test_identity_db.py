"""The identity service on every database backend: schema, constraints, transactions."""

from __future__ import annotations

import datetime
import time

import pytest

from overcast.common import heartbeats
from overcast.common.config import load
from overcast.common.db import Database
from overcast.common.db.migrate import HEAD, alembic_head, current_revision, run_alembic, upgrade
from overcast.identity import errors, tokens
from overcast.identity.bootstrap import bootstrap
from overcast.identity.service import IdentityService
from overcast.identity.tokens import TokenData
from overcast.services import SERVICES


@pytest.fixture
def identity(database_url, tmp_path):
    config = load(environ={}, server__data_dir=str(tmp_path / "data"), database__url=database_url,
                  identity__password_hash_rounds=4)
    config.data_path.mkdir(parents=True)
    db = Database(config.database_url)
    upgrade(db)
    service = IdentityService(config, db)
    service.start()
    bootstrap(service, SERVICES, "admin-pw", "demo-pw")
    yield service
    db.close()


def test_head_constant_matches_alembic():
    assert HEAD == alembic_head()


def test_migration_scripts_build_the_models_schema(database_url):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from overcast.common.db import Base
    from overcast.common.db.models import load_all

    load_all()
    db = Database(database_url)
    run_alembic(db)
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    db.close()
    assert differences == []


def test_migrations_reach_head_and_rerun_is_a_no_op(identity):
    assert current_revision(identity.db) == HEAD
    upgrade(identity.db)
    assert current_revision(identity.db) == HEAD


def test_bootstrap_is_idempotent(identity):
    before = [p.name for p in identity.projects.list()]
    bootstrap(identity, SERVICES, "other", "other")
    assert [p.name for p in identity.projects.list()] == before == ["admin", "demo", "service"]
    assert len(identity.catalog.list_endpoints()) == 3 * len([spec for spec in SERVICES if spec.in_catalog])


def test_password_token_issue_and_validate(identity):
    auth = {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"id": "default"}, "password": "admin-pw"}}},
        "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}}}
    token, data = identity.auth.issue(auth)
    assert identity.auth.validate(token).user_id == data.user_id
    names = {identity.names.role(r) for r in data.role_ids}
    assert names == {"admin", "manager", "member", "reader"}


def test_expired_token_is_refused(identity, monkeypatch):
    auth = {"identity": {"methods": ["password"], "password": {"user": {
        "name": "demo", "domain": {"id": "default"}, "password": "demo-pw"}}}}
    token, data = identity.auth.issue(auth)
    later = data.expires_at + 1
    monkeypatch.setattr(tokens.time, "time", lambda: later)
    with pytest.raises(errors.TokenNotFound):
        identity.auth.validate(token)
    with pytest.raises(errors.AuthFailed):
        identity.auth.authenticate({"x-auth-token": token})


def test_duplicate_name_conflicts_and_rolls_back(identity):
    identity.projects.create({"name": "twin", "domain_id": "default", "tags": ["x"]})
    with pytest.raises(errors.DuplicateName):
        identity.projects.create({"name": "twin", "domain_id": "default", "tags": ["y"]})
    rows = identity.projects.list({"name": "twin"})
    assert len(rows) == 1 and rows[0].tags == ["x"]
    identity.users.create({"name": "same", "domain_id": "default"})
    with pytest.raises(errors.DuplicateName):
        identity.users.create({"name": "same", "domain_id": "default"})


def test_same_name_in_two_domains_is_fine(identity):
    other = identity.domains.create({"name": "Other"})
    identity.projects.create({"name": "shared", "domain_id": "default"})
    identity.projects.create({"name": "shared", "domain_id": other.id})
    assert len(identity.projects.list({"name": "shared"})) == 2


def test_domain_delete_cascades(identity):
    domain = identity.domains.create({"name": "Doomed"})
    project = identity.projects.create({"name": "p", "domain_id": domain.id})
    child = identity.projects.create({"name": "c", "domain_id": domain.id, "parent_id": project.id})
    user = identity.users.create({"name": "u", "domain_id": domain.id})
    group = identity.groups.create({"name": "g", "domain_id": domain.id})
    identity.groups.add_member(group.id, user.id)
    member = identity.roles.find_by_name("member")
    identity.assignments.grant("user", user.id, "project", child.id, member.id)
    with pytest.raises(errors.ForbiddenAction):
        identity.domains.delete(domain.id)  # still enabled
    identity.domains.update(domain.id, {"enabled": False})
    identity.domains.delete(domain.id)
    for getter, ident in ((identity.projects.get, child.id), (identity.users.get, user.id),
                          (identity.groups.get, group.id), (identity.domains.get, domain.id)):
        with pytest.raises(errors.IdentityNotFound):
            getter(ident)
    assert identity.assignments.list({"user_id": user.id}) == []


def test_group_and_inherited_roles_are_effective(identity):
    domain = identity.domains.create({"name": "Tree"})
    project = identity.projects.create({"name": "leaf", "domain_id": domain.id})
    user = identity.users.create({"name": "u", "domain_id": domain.id})
    group = identity.groups.create({"name": "g", "domain_id": domain.id})
    identity.groups.add_member(group.id, user.id)
    reader = identity.roles.find_by_name("reader")
    admin = identity.roles.find_by_name("admin")
    identity.assignments.grant("group", group.id, "project", project.id, reader.id)
    identity.assignments.grant("user", user.id, "domain", domain.id, admin.id, inherited=True)
    roles = {identity.names.role(r) for r in identity.assignments.effective_roles(user.id, project_id=project.id)}
    assert roles == {"admin", "manager", "member", "reader"}
    assert identity.assignments.targets_of(user.id, "project") == [project.id]


def test_revocation_events_persist(identity):
    identity.revocations.revoke(user_id="someone")
    fresh = type(identity.revocations)(identity.db, 3600)
    fresh.load()
    old = TokenData(user_id="someone", user_domain_id="default", methods=["password"],
                    expires_at=time.time() + 60, issued_at=time.time() - 10)
    new = TokenData(user_id="someone", user_domain_id="default", methods=["password"],
                    expires_at=time.time() + 60, issued_at=time.time() + 1)
    assert fresh.is_revoked(old) and not fresh.is_revoked(new)


def test_heartbeats_up_and_down(identity):
    heartbeats.record(identity.db, "overcast-identity", "host1", "identity")
    heartbeats.record(identity.db, "overcast-identity", "host1", "identity")
    rows = heartbeats.list_services(identity.db)
    assert [(r["binary"], r["state"]) for r in rows] == [("overcast-identity", "up")]
    later = rows[0]["last_seen"] + datetime.timedelta(seconds=heartbeats.DOWN_AFTER + 1)
    assert heartbeats.list_services(identity.db, now=later)[0]["state"] == "down"
