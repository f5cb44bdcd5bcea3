"""Users: passwords (bcrypt), enabled flag, options, default project."""

from __future__ import annotations

from sqlalchemy import delete, select

from overcast.common.db import new_id, utcnow
from overcast.identity import errors
from overcast.identity.models import ApplicationCredential, Assignment, Credential, Domain, GroupMember, User
from overcast.identity.passwords import check_password, hash_password
from overcast.identity.service.base import SubService, dump_json, load_json, must_get, split_extra

COLUMNS = {"name", "domain_id", "enabled", "default_project_id", "description"}
OPTIONS = {
    "ignore_change_password_upon_first_use",
    "ignore_password_expiry",
    "ignore_lockout_failure_attempts",
    "lock_password",
    "ignore_user_inactivity",
    "multi_factor_auth_rules",
    "multi_factor_auth_enabled",
}


def check_options(options) -> dict:
    if not isinstance(options, dict):
        raise errors.ValidationError("Invalid input for field 'options': not an object")
    unknown = set(options) - OPTIONS
    if unknown:
        raise errors.ValidationError(f"Invalid input for field 'options': unknown option {sorted(unknown)[0]}")
    return options


class Users(SubService):
    def get(self, user_id: str) -> User:
        with self.db.session() as session:
            return must_get(session, User, user_id, errors.UserNotFound)

    def resolve(self, ref: dict) -> User:
        """A user from ``{"id"}`` or ``{"name", "domain": {...}}``; UserNotFound otherwise."""
        if ref.get("id"):
            return self.get(ref["id"])
        domain = self.identity.domains.resolve(ref.get("domain") or {})
        with self.db.session() as session:
            row = session.scalars(select(User).where(User.domain_id == domain.id, User.name == ref.get("name"))).first()
            if row is None:
                raise errors.UserNotFound(ref.get("name"))
            return row

    def list(self, filters: dict | None = None, ids: list[str] | None = None) -> list[User]:
        filters = filters or {}
        query = select(User).order_by(User.name)
        for key in ("name", "domain_id", "enabled"):
            if filters.get(key) is not None:
                query = query.where(getattr(User, key) == filters[key])
        if ids is not None:
            query = query.where(User.id.in_(ids))
        with self.db.session() as session:
            return list(session.scalars(query))

    def _password_fields(self, password: str | None) -> dict:
        if password is None:
            return {"password_hash": None, "password_created_at": None}
        rounds = self.identity.config.identity.password_hash_rounds
        return {"password_hash": hash_password(password, rounds), "password_created_at": utcnow()}

    def create(self, fields: dict, user_id: str | None = None) -> User:
        password = fields.pop("password", None)
        options = check_options(fields.pop("options", {}) or {})
        known, extra = split_extra(fields, COLUMNS)
        secret = self._password_fields(password)  # hashed before the transaction opens
        with self.db.session() as session:
            if session.get(Domain, known["domain_id"]) is None:
                raise errors.DomainNotFound(known["domain_id"])
            row = User(id=user_id or new_id(), options=dump_json(options), extra=dump_json(extra), **known, **secret)
            session.add(row)
            self.commit_unique(session, "user", known["name"])
            return row

    def update(self, user_id: str, fields: dict) -> User:
        password = fields.pop("password", None) if "password" in fields else False
        options = fields.pop("options", None)
        known, extra = split_extra(fields, COLUMNS - {"domain_id"})
        secret = self._password_fields(password) if password is not False else {}
        with self.db.session() as session:
            row = must_get(session, User, user_id, errors.UserNotFound)
            if "domain_id" in fields and fields["domain_id"] != row.domain_id:
                raise errors.ValidationError("Cannot change the domain of a user.")
            was_enabled = row.enabled
            for key, value in {**known, **secret}.items():
                setattr(row, key, value)
            if options is not None:
                merged = {**load_json(row.options, {}), **check_options(options)}
                row.options = dump_json({k: v for k, v in merged.items() if v is not None})
            if extra:
                row.extra = dump_json({**load_json(row.extra, {}), **extra})
            self.commit_unique(session, "user", row.name)
        self.names.forget("user", user_id)
        if (was_enabled and not row.enabled) or secret:
            self.identity.revocations.revoke(user_id=user_id)
        return row

    def change_password(self, user_id: str, original: str, password: str) -> None:
        """The user's own password change; the wrong original gets the login failure (401)."""
        row = self.get(user_id)
        if not row.enabled or not check_password(original, row.password_hash):
            raise errors.AuthFailed()
        if load_json(row.options, {}).get("lock_password"):
            raise errors.ForbiddenAction("You cannot change your password at this time.")
        self.update(user_id, {"password": password})

    def delete(self, user_id: str) -> None:
        with self.db.session() as session:
            row = must_get(session, User, user_id, errors.UserNotFound)
            session.execute(delete(Assignment).where(Assignment.actor_id == user_id))
            session.execute(delete(GroupMember).where(GroupMember.user_id == user_id))
            session.execute(delete(Credential).where(Credential.user_id == user_id))
            session.execute(delete(ApplicationCredential).where(ApplicationCredential.user_id == user_id))
            session.delete(row)
        self.names.forget("user", user_id)
        self.identity.revocations.revoke(user_id=user_id)

    def touch(self, user_id: str) -> None:
        """Nothing for now: last_active_at is only kept when inactivity limits exist."""
