"""The token format: a msgpack payload sealed with Fernet (so validating needs no DB).

Payload, a list: version, user id, user domain id, methods, scope, expiry (epoch s),
issue time (epoch s, float), audit ids, role ids, application credential id. Scope is
``["project", id, domain_id]``, ``["domain", id]``, ``["system", "all"]`` or ``None``.
Role ids are resolved at issue time (implied roles included); anything that changes
them (a removed assignment, a disabled user, a deleted role) writes a revocation event.
"""

from __future__ import annotations

import base64
import os
import time
from dataclasses import dataclass, field

import msgpack

from overcast.identity.keys import KeyRepository

VERSION = 1


def new_audit_id() -> str:
    return base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("=")


@dataclass
class TokenData:
    user_id: str
    user_domain_id: str
    methods: list[str]
    expires_at: float
    issued_at: float = field(default_factory=time.time)
    audit_ids: list[str] = field(default_factory=lambda: [new_audit_id()])
    role_ids: list[str] = field(default_factory=list)
    project_id: str | None = None
    project_domain_id: str | None = None
    domain_id: str | None = None
    system: str | None = None
    app_cred_id: str | None = None

    @property
    def scope(self) -> list | None:
        if self.project_id:
            return ["project", self.project_id, self.project_domain_id]
        if self.domain_id:
            return ["domain", self.domain_id]
        if self.system:
            return ["system", self.system]
        return None

    @property
    def expired(self) -> bool:
        return self.expires_at <= time.time()


def _pack_id(value: str | None):
    """32-hex ids travel as 16 bytes; anything else as text."""
    if value and len(value) == 32:
        try:
            return bytes.fromhex(value)
        except ValueError:
            pass
    return value


def _unpack_id(value):
    return value.hex() if isinstance(value, bytes) else value


def seal(keys: KeyRepository, data: TokenData) -> str:
    scope = data.scope
    if scope:
        scope = [scope[0]] + [_pack_id(v) for v in scope[1:]]
    payload = [
        VERSION,
        _pack_id(data.user_id),
        _pack_id(data.user_domain_id),
        data.methods,
        scope,
        int(data.expires_at),
        data.issued_at,
        data.audit_ids,
        [_pack_id(r) for r in data.role_ids],
        _pack_id(data.app_cred_id),
    ]
    return keys.encrypt(msgpack.packb(payload, use_bin_type=True))


def unseal(keys: KeyRepository, token: str) -> TokenData | None:
    """The token's data, or None when it was not made by us (expiry is not checked here)."""
    if not token or len(token) > 8192:
        return None
    raw = keys.decrypt(token)
    if raw is None:
        return None
    try:
        version, user, user_domain, methods, scope, expires, issued, audits, roles, app_cred = msgpack.unpackb(
            raw, raw=False
        )
    except (ValueError, TypeError, msgpack.UnpackException):
        return None
    if version != VERSION:
        return None
    data = TokenData(
        user_id=_unpack_id(user),
        user_domain_id=_unpack_id(user_domain),
        methods=methods,
        expires_at=expires,
        issued_at=issued,
        audit_ids=audits,
        role_ids=[_unpack_id(r) for r in roles],
        app_cred_id=_unpack_id(app_cred),
    )
    if scope:
        kind = scope[0]
        if kind == "project":
            data.project_id, data.project_domain_id = _unpack_id(scope[1]), _unpack_id(scope[2])
        elif kind == "domain":
            data.domain_id = _unpack_id(scope[1])
        elif kind == "system":
            data.system = scope[1]
    return data
