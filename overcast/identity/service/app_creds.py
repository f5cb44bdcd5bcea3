"""Application credentials: a user's delegated login, fixed to one project and role set."""

from __future__ import annotations

import base64
import datetime
import json
import secrets

from sqlalchemy import select

from overcast.common.db import new_id, utcnow
from overcast.identity import errors
from overcast.identity.models import ApplicationCredential
from overcast.identity.passwords import check_password, hash_password
from overcast.identity.service.base import SubService


def parse_time(value: str | None) -> datetime.datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (TypeError, ValueError):
        raise errors.ValidationError(f"Invalid input for field 'expires_at': {value!r}") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.UTC).replace(tzinfo=None)
    return moment


class ApplicationCredentials(SubService):
    def create(self, user_id: str, project_id: str, held_roles: list[str], fields: dict) -> tuple:
        """Create one; returns (row, secret). Roles must be among those the user holds now."""
        secret = fields.get("secret") or base64.urlsafe_b64encode(secrets.token_bytes(64)).decode().rstrip("=")
        wanted = []
        for ref in fields.get("roles") or []:
            if not isinstance(ref, dict):
                raise errors.ValidationError("Invalid input for field 'roles': each role is an object")
            role = self.identity.roles.get(ref["id"]) if ref.get("id") else self.identity.roles.find_by_name(ref.get("name", ""))
            if role is None:
                raise errors.RoleNotFound(ref.get("name"))
            wanted.append(role.id)
        if not wanted:
            wanted = list(held_roles)
        missing = [r for r in wanted if r not in held_roles]
        if missing:
            raise errors.ValidationError(f"Cannot delegate role {missing[0]}: the user does not hold it on the project.")
        expires = parse_time(fields.get("expires_at"))
        if expires is not None and expires <= utcnow():
            raise errors.ValidationError("Invalid input for field 'expires_at': it is in the past")
        rounds = self.identity.config.identity.password_hash_rounds
        secret_hash = hash_password(secret, rounds)
        with self.db.session() as session:
            row = ApplicationCredential(
                id=new_id(),
                name=fields["name"],
                user_id=user_id,
                project_id=project_id,
                secret_hash=secret_hash,
                description=fields.get("description"),
                expires_at=expires,
                unrestricted=bool(fields.get("unrestricted", False)),
                roles=json.dumps(wanted),
                access_rules=json.dumps(fields.get("access_rules") or []),
            )
            session.add(row)
            self.commit_unique(session, "application credential", fields["name"])
            return row, secret

    def get(self, user_id: str, app_cred_id: str) -> ApplicationCredential:
        with self.db.session() as session:
            row = session.get(ApplicationCredential, app_cred_id)
        if row is None or (user_id and row.user_id != user_id):
            raise errors.ApplicationCredentialNotFound(app_cred_id)
        return row

    def list(self, user_id: str, name: str | None = None) -> list[ApplicationCredential]:
        query = select(ApplicationCredential).where(ApplicationCredential.user_id == user_id)
        if name is not None:
            query = query.where(ApplicationCredential.name == name)
        with self.db.session() as session:
            return list(session.scalars(query.order_by(ApplicationCredential.name)))

    def delete(self, user_id: str, app_cred_id: str) -> None:
        row = self.get(user_id, app_cred_id)
        with self.db.session() as session:
            session.delete(session.get(ApplicationCredential, row.id))
        self.identity.revocations.revoke(app_cred_id=row.id)

    def authenticate(self, ref: dict) -> ApplicationCredential:
        """The credential named by ``ref`` if its secret matches and it has not expired."""
        if not isinstance(ref, dict) or not isinstance(ref.get("secret"), str):
            raise errors.AuthFailed()
        with self.db.session() as session:
            if ref.get("id"):
                row = session.get(ApplicationCredential, ref["id"])
            else:
                try:
                    user = self.identity.users.resolve(ref.get("user") or {})
                except errors.IdentityNotFound:
                    raise errors.AuthFailed() from None
                row = session.scalars(
                    select(ApplicationCredential).where(
                        ApplicationCredential.user_id == user.id, ApplicationCredential.name == ref.get("name")
                    )
                ).first()
        if row is None or not check_password(ref["secret"], row.secret_hash):
            raise errors.AuthFailed()
        if row.expires_at is not None and row.expires_at <= utcnow():
            raise errors.AuthFailed()
        return row
