"""What the identity sub-services share: the database, caches of names, JSON extras."""

from __future__ import annotations

import json
import threading
import time

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from overcast.common.db import Database
from overcast.identity import errors
from overcast.identity.models import Domain, Project, Role, User

CACHE_TTL = 30.0  # seconds a cached name may lag a rename made by another API process


def load_json(text: str | None, default):
    if not text:
        return default
    try:
        return json.loads(text)
    except ValueError:
        return default


def dump_json(value) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def split_extra(fields: dict, columns: set[str]) -> tuple[dict, dict]:
    """Known column values and the rest (stored as ``extra``, as Keystone does)."""
    known = {k: v for k, v in fields.items() if k in columns}
    extra = {k: v for k, v in fields.items() if k not in columns and k not in ("id", "links")}
    return known, extra


def must_get(session, model, ident, missing: type[errors.IdentityNotFound]):
    """The row of ``model`` with primary key ``ident``; raises ``missing(ident)`` if absent."""
    row = session.get(model, ident)
    if row is None:
        raise missing(ident)
    return row


class NameCache:
    """id -> (name, domain id) for users, projects and domains; role id -> name.

    Token validation renders names without reading the database once they are cached.
    Local writes call ``forget``; other processes' renames show within CACHE_TTL.
    """

    def __init__(self, db: Database):
        self.db = db
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str], tuple[float, tuple]] = {}
        self._roles: dict[str, str] = {}
        self._roles_loaded = 0.0

    def forget(self, kind: str, ident: str) -> None:
        with self._lock:
            self._entries.pop((kind, ident), None)
            if kind == "role":
                self._roles_loaded = 0.0

    def _get(self, kind: str, ident: str, model):
        key = (kind, ident)
        entry = self._entries.get(key)
        if entry and time.monotonic() - entry[0] < CACHE_TTL:
            return entry[1]
        with self.db.session() as session:
            row = session.get(model, ident)
            value = (row.name, getattr(row, "domain_id", None)) if row else (None, None)
        with self._lock:
            self._entries[key] = (time.monotonic(), value)
        return value

    def user(self, ident: str) -> tuple:
        return self._get("user", ident, User)

    def project(self, ident: str) -> tuple:
        return self._get("project", ident, Project)

    def domain(self, ident: str) -> str | None:
        return self._get("domain", ident, Domain)[0]

    def role_names(self) -> dict[str, str]:
        if time.monotonic() - self._roles_loaded > CACHE_TTL:
            with self.db.session() as session:
                rows = session.execute(select(Role.id, Role.name)).all()
            with self._lock:
                self._roles = {ident: name for ident, name in rows}
                self._roles_loaded = time.monotonic()
        return self._roles

    def role(self, ident: str) -> str | None:
        names = self.role_names()
        if ident not in names:
            self._roles_loaded = 0.0
            names = self.role_names()
        return names.get(ident)


class SubService:
    """Base of each identity sub-service (domains, projects, users, ...)."""

    def __init__(self, identity):
        self.identity = identity
        self.db: Database = identity.db
        self.names: NameCache = identity.names

    def commit_unique(self, session, kind: str, name: str) -> None:
        """Flush, turning a unique-constraint violation into Keystone's 409."""
        try:
            session.flush()
        except IntegrityError:
            raise errors.DuplicateName(kind=kind, name=name) from None
