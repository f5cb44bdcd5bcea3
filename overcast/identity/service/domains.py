"""Domains: containers of projects, users and groups."""

from __future__ import annotations

from sqlalchemy import delete, select

from overcast.common.db import new_id
from overcast.identity import errors
from overcast.identity.models import Assignment, Domain, Group, Project, User
from overcast.identity.service.base import SubService, dump_json, load_json, must_get, split_extra

COLUMNS = {"name", "description", "enabled"}


class Domains(SubService):
    def get(self, domain_id: str) -> Domain:
        with self.db.session() as session:
            return must_get(session, Domain, domain_id, errors.DomainNotFound)

    def find_by_name(self, name: str) -> Domain | None:
        with self.db.session() as session:
            return session.scalars(select(Domain).where(Domain.name == name)).first()

    def resolve(self, ref: dict) -> Domain:
        """A domain from ``{"id"}`` or ``{"name"}``; DomainNotFound otherwise."""
        if ref.get("id"):
            return self.get(ref["id"])
        row = self.find_by_name(ref.get("name") or "")
        if row is None:
            raise errors.DomainNotFound(ref.get("name"))
        return row

    def list(self, name: str | None = None, enabled: bool | None = None) -> list[Domain]:
        query = select(Domain).order_by(Domain.name)
        if name is not None:
            query = query.where(Domain.name == name)
        if enabled is not None:
            query = query.where(Domain.enabled == enabled)
        with self.db.session() as session:
            return list(session.scalars(query))

    def create(self, fields: dict, domain_id: str | None = None) -> Domain:
        known, extra = split_extra(fields, COLUMNS)
        with self.db.session() as session:
            row = Domain(id=domain_id or new_id(), extra=dump_json(extra), **known)
            session.add(row)
            self.commit_unique(session, "domain", known["name"])
            return row

    def update(self, domain_id: str, fields: dict) -> Domain:
        known, extra = split_extra(fields, COLUMNS)
        with self.db.session() as session:
            row = must_get(session, Domain, domain_id, errors.DomainNotFound)
            was_enabled = row.enabled
            for key, value in known.items():
                setattr(row, key, value)
            if extra:
                row.extra = dump_json({**load_json(row.extra, {}), **extra})
            self.commit_unique(session, "domain", row.name)
        self.names.forget("domain", domain_id)
        if was_enabled and not row.enabled:
            self.identity.revocations.revoke(domain_id=domain_id)
        return row

    def delete(self, domain_id: str) -> None:
        """Delete a disabled domain and everything in it (projects, users, groups)."""
        with self.db.session() as session:
            row = must_get(session, Domain, domain_id, errors.DomainNotFound)
            if row.enabled:
                raise errors.ForbiddenAction("Cannot delete a domain that is enabled, please disable it first.")
            projects = list(session.scalars(select(Project.id).where(Project.domain_id == domain_id)))
            users = list(session.scalars(select(User.id).where(User.domain_id == domain_id)))
            groups = list(session.scalars(select(Group.id).where(Group.domain_id == domain_id)))
            targets = projects + [domain_id]
            session.execute(delete(Assignment).where(Assignment.target_id.in_(targets)))
            session.execute(delete(Assignment).where(Assignment.actor_id.in_(users + groups)))
            for project_id in reversed(self.identity.projects.ordered_for_delete(session, projects)):
                session.execute(delete(Project).where(Project.id == project_id))
            session.execute(delete(User).where(User.domain_id == domain_id))
            session.execute(delete(Group).where(Group.domain_id == domain_id))
            session.delete(row)
        self.names.forget("domain", domain_id)
        self.identity.revocations.revoke(domain_id=domain_id)
