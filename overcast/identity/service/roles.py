"""Roles and implied roles (admin implies member implies reader)."""

from __future__ import annotations

from sqlalchemy import delete, select

from overcast.common.db import new_id
from overcast.identity import errors
from overcast.identity.models import ImpliedRole, Role
from overcast.identity.service.base import SubService, dump_json, load_json, must_get, split_extra

COLUMNS = {"name", "description"}
GLOBAL = "<<null>>"


class Roles(SubService):
    def get(self, role_id: str) -> Role:
        with self.db.session() as session:
            return must_get(session, Role, role_id, errors.RoleNotFound)

    def find_by_name(self, name: str, domain_id: str | None = None) -> Role | None:
        with self.db.session() as session:
            query = select(Role).where(Role.name == name, Role.domain_id == (domain_id or GLOBAL))
            return session.scalars(query).first()

    def list(self, name: str | None = None, domain_id: str | None = None) -> list[Role]:
        query = select(Role).where(Role.domain_id == (domain_id or GLOBAL)).order_by(Role.name)
        if name is not None:
            query = query.where(Role.name == name)
        with self.db.session() as session:
            return list(session.scalars(query))

    def create(self, fields: dict, role_id: str | None = None) -> Role:
        options = fields.pop("options", {}) or {}
        domain_id = fields.pop("domain_id", None) or GLOBAL
        known, extra = split_extra(fields, COLUMNS)
        with self.db.session() as session:
            row = Role(
                id=role_id or new_id(), domain_id=domain_id, options=dump_json(options), extra=dump_json(extra), **known
            )
            session.add(row)
            self.commit_unique(session, "role", known["name"])
        self.names.forget("role", row.id)
        return row

    def update(self, role_id: str, fields: dict) -> Role:
        options = fields.pop("options", None)
        known, extra = split_extra(fields, COLUMNS)
        with self.db.session() as session:
            row = must_get(session, Role, role_id, errors.RoleNotFound)
            if load_json(row.options, {}).get("immutable") and (known or extra):
                raise errors.ForbiddenAction(f"Cannot modify immutable role {role_id}.")
            for key, value in known.items():
                setattr(row, key, value)
            if options is not None:
                row.options = dump_json(options)
            if extra:
                row.extra = dump_json({**load_json(row.extra, {}), **extra})
            self.commit_unique(session, "role", row.name)
        self.names.forget("role", role_id)
        return row

    def delete(self, role_id: str) -> None:
        with self.db.session() as session:
            row = must_get(session, Role, role_id, errors.RoleNotFound)
            if load_json(row.options, {}).get("immutable"):
                raise errors.ForbiddenAction(f"Cannot delete immutable role {role_id}.")
            self.identity.assignments.delete_for_role(session, role_id)
            session.execute(
                delete(ImpliedRole).where(
                    (ImpliedRole.prior_role_id == role_id) | (ImpliedRole.implied_role_id == role_id)
                )
            )
            session.delete(row)
        self.names.forget("role", role_id)
        self.identity.revocations.revoke(role_id=role_id)

    # implied roles

    def implications(self) -> dict[str, list[str]]:
        with self.db.session() as session:
            pairs = session.execute(select(ImpliedRole.prior_role_id, ImpliedRole.implied_role_id)).all()
        implied: dict[str, list[str]] = {}
        for prior, role in pairs:
            implied.setdefault(prior, []).append(role)
        return implied

    def expand(self, role_ids: list[str]) -> list[str]:
        """The roles plus every role they imply, transitively, in a stable order."""
        implied = self.implications()
        result: list[str] = []
        pending = list(role_ids)
        while pending:
            role = pending.pop(0)
            if role in result:
                continue
            result.append(role)
            pending.extend(implied.get(role, []))
        return result

    def strip_domain_roles(self, role_ids: list[str]) -> list[str]:
        """Keystone's rule: domain-specific roles only confer the global roles they imply."""
        if not role_ids:
            return []
        with self.db.session() as session:
            global_ids = set(session.scalars(select(Role.id).where(Role.id.in_(role_ids), Role.domain_id == GLOBAL)))
        return [r for r in role_ids if r in global_ids]

    def add_implied(self, prior_id: str, implied_id: str) -> tuple[Role, Role]:
        prior, implied = self.get(prior_id), self.get(implied_id)
        if prior_id in self.expand([implied_id]):
            raise errors.ForbiddenAction(f"{implied_id} already implies {prior_id}: no cycles.")
        with self.db.session() as session:
            if session.get(ImpliedRole, (prior_id, implied_id)) is None:
                session.add(ImpliedRole(prior_role_id=prior_id, implied_role_id=implied_id))
        return prior, implied

    def check_implied(self, prior_id: str, implied_id: str) -> tuple[Role, Role]:
        prior, implied = self.get(prior_id), self.get(implied_id)
        with self.db.session() as session:
            if session.get(ImpliedRole, (prior_id, implied_id)) is None:
                raise errors.ImpliedRoleNotFound(prior_role_id=prior_id, implied_role_id=implied_id)
        return prior, implied

    def remove_implied(self, prior_id: str, implied_id: str) -> None:
        self.check_implied(prior_id, implied_id)
        with self.db.session() as session:
            session.execute(
                delete(ImpliedRole).where(ImpliedRole.prior_role_id == prior_id, ImpliedRole.implied_role_id == implied_id)
            )
        self.identity.revocations.revoke(role_id=prior_id)

    def implied_by(self, prior_id: str) -> list[Role]:
        self.get(prior_id)
        with self.db.session() as session:
            query = (
                select(Role)
                .join(ImpliedRole, ImpliedRole.implied_role_id == Role.id)
                .where(ImpliedRole.prior_role_id == prior_id)
            )
            return list(session.scalars(query))
