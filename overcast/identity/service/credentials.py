"""Credentials (blobs encrypted with the credential keys), EC2 credentials, policy blobs."""

from __future__ import annotations

import hashlib
import json
import secrets

from sqlalchemy import select

from overcast.common.db import new_id
from overcast.identity import ec2sig, errors
from overcast.identity.models import Credential, Policy, User
from overcast.identity.service.base import SubService, dump_json, load_json, must_get, split_extra

EC2 = "ec2"


def ec2_credential_id(access: str) -> str:
    """Keystone's rule: an EC2 credential's id is the SHA-256 of its access key."""
    return hashlib.sha256(access.encode()).hexdigest()


class Credentials(SubService):
    def _seal(self, blob: str) -> str:
        return self.identity.credential_keys.encrypt(blob.encode())

    def blob(self, row: Credential) -> str:
        plain = self.identity.credential_keys.decrypt(row.encrypted_blob)
        return plain.decode() if plain is not None else ""

    def get(self, credential_id: str) -> Credential:
        with self.db.session() as session:
            return must_get(session, Credential, credential_id, errors.CredentialNotFound)

    def list(self, user_id: str | None = None, type: str | None = None) -> list[Credential]:
        query = select(Credential).order_by(Credential.id)
        if user_id:
            query = query.where(Credential.user_id == user_id)
        if type:
            query = query.where(Credential.type == type)
        with self.db.session() as session:
            return list(session.scalars(query))

    def create(self, fields: dict) -> Credential:
        known, extra = split_extra(fields, {"user_id", "project_id", "type", "blob"})
        blob = known.pop("blob")
        credential_id = new_id()
        if known["type"] == EC2:
            try:
                parsed = json.loads(blob)
                access = parsed["access"]
            except (ValueError, KeyError, TypeError):
                raise errors.ValidationError("Invalid blob in credential: an ec2 blob needs 'access'.") from None
            if not known.get("project_id"):
                raise errors.ValidationError("Invalid project_id: an ec2 credential needs a project.")
            credential_id = ec2_credential_id(access)
        with self.db.session() as session:
            if session.get(User, known["user_id"]) is None:
                raise errors.ValidationError(f"Could not find user: {known['user_id']}.")
            if session.get(Credential, credential_id) is not None:
                raise errors.Conflict(f"Duplicate credential: {credential_id}.")
            row = Credential(id=credential_id, encrypted_blob=self._seal(blob), extra=dump_json(extra), **known)
            session.add(row)
            return row

    def update(self, credential_id: str, fields: dict) -> Credential:
        known, extra = split_extra(fields, {"user_id", "project_id", "type", "blob"})
        with self.db.session() as session:
            row = must_get(session, Credential, credential_id, errors.CredentialNotFound)
            if "blob" in known:
                row.encrypted_blob = self._seal(known.pop("blob"))
            for key, value in known.items():
                setattr(row, key, value)
            if extra:
                row.extra = dump_json({**load_json(row.extra, {}), **extra})
            return row

    def delete(self, credential_id: str) -> None:
        with self.db.session() as session:
            row = must_get(session, Credential, credential_id, errors.CredentialNotFound)
            session.delete(row)

    # EC2 (/v3/users/{user_id}/credentials/OS-EC2)

    def create_ec2(self, user_id: str, project_id: str) -> dict:
        self.identity.users.get(user_id)
        self.identity.projects.get(project_id)
        access, secret = secrets.token_hex(16), secrets.token_hex(16)
        blob = json.dumps({"access": access, "secret": secret, "trust_id": None, "app_cred_id": None})
        self.create({"user_id": user_id, "project_id": project_id, "type": EC2, "blob": blob})
        return {"user_id": user_id, "tenant_id": project_id, "access": access, "secret": secret, "trust_id": None}

    def _ec2_view(self, row: Credential) -> dict:
        blob = load_json(self.blob(row), {})
        return {
            "user_id": row.user_id,
            "tenant_id": row.project_id,
            "access": blob.get("access"),
            "secret": blob.get("secret"),
            "trust_id": blob.get("trust_id"),
        }

    def list_ec2(self, user_id: str) -> list[dict]:
        self.identity.users.get(user_id)
        return [self._ec2_view(row) for row in self.list(user_id=user_id, type=EC2)]

    def get_ec2(self, user_id: str, access: str) -> dict:
        """The EC2 credential with this access key; 404 unless it belongs to ``user_id``."""
        with self.db.session() as session:
            row = session.get(Credential, ec2_credential_id(access))
        if row is None or row.type != EC2 or (user_id and row.user_id != user_id):
            raise errors.CredentialNotFound(access)
        return self._ec2_view(row)

    def check_ec2_signature(self, credentials: dict) -> tuple[str, str]:
        """(user id, project id) of a correctly signed EC2 request; AuthFailed otherwise."""
        access = credentials.get("access")
        if not isinstance(access, str):
            raise errors.AuthFailed()
        with self.db.session() as session:
            row = session.get(Credential, ec2_credential_id(access))
        if row is None or row.type != EC2:
            raise errors.AuthFailed()
        blob = load_json(self.blob(row), {})
        if not ec2sig.verify(blob.get("secret", ""), credentials):
            raise errors.AuthFailed()
        return row.user_id, row.project_id

    def delete_ec2(self, user_id: str, access: str) -> None:
        self.get_ec2(user_id, access)
        self.delete(ec2_credential_id(access))


class Policies(SubService):
    """The /v3/policies blobs (stored and served; overcast enforces its own policy file)."""

    def get(self, policy_id: str) -> Policy:
        with self.db.session() as session:
            return must_get(session, Policy, policy_id, errors.PolicyNotFound)

    def list(self, type: str | None = None) -> list[Policy]:
        query = select(Policy).order_by(Policy.id)
        if type:
            query = query.where(Policy.type == type)
        with self.db.session() as session:
            return list(session.scalars(query))

    def create(self, fields: dict) -> Policy:
        known, extra = split_extra(fields, {"type", "blob"})
        with self.db.session() as session:
            row = Policy(id=new_id(), extra=dump_json(extra), **known)
            session.add(row)
            return row

    def update(self, policy_id: str, fields: dict) -> Policy:
        known, extra = split_extra(fields, {"type", "blob"})
        with self.db.session() as session:
            row = must_get(session, Policy, policy_id, errors.PolicyNotFound)
            for key, value in known.items():
                setattr(row, key, value)
            if extra:
                row.extra = dump_json({**load_json(row.extra, {}), **extra})
            return row

    def delete(self, policy_id: str) -> None:
        with self.db.session() as session:
            row = must_get(session, Policy, policy_id, errors.PolicyNotFound)
            session.delete(row)
