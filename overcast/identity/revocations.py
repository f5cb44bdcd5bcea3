"""Token revocation events: stored in the database, checked from memory.

Validation must not read the database, so the events live in memory. A local revoke
updates memory at once; events written by other API processes are picked up by a cheap
``max(id)`` probe at most every ``REFRESH`` seconds. Events older than the longest
token lifetime can no longer match anything and are pruned.
"""

from __future__ import annotations

import datetime
import threading
import time

from sqlalchemy import delete, func, select

from overcast.common.db import Database, utcnow
from overcast.identity.models import RevocationEvent
from overcast.identity.tokens import TokenData

REFRESH = 2.0
FIELDS = ("user_id", "project_id", "domain_id", "role_id", "audit_id", "audit_chain_id", "app_cred_id")


def _epoch(moment: datetime.datetime) -> float:
    return moment.replace(tzinfo=datetime.UTC).timestamp()


class Revocations:
    def __init__(self, db: Database, token_lifetime: int):
        self.db = db
        self.token_lifetime = token_lifetime
        self._lock = threading.Lock()
        self._events: list[tuple[dict, float]] = []
        self._by_audit: dict[str, float] = {}
        self._last_id = 0
        self._checked = 0.0

    def load(self) -> None:
        cutoff = utcnow() - datetime.timedelta(seconds=self.token_lifetime + 60)
        with self.db.session() as session:
            session.execute(delete(RevocationEvent).where(RevocationEvent.revoked_at < cutoff))
            rows = session.scalars(select(RevocationEvent).order_by(RevocationEvent.id)).all()
        events, by_audit, last = [], {}, 0
        for row in rows:
            last = max(last, row.id)
            issued_before = _epoch(row.issued_before)
            match = {name: getattr(row, name) for name in FIELDS if getattr(row, name)}
            if list(match) == ["audit_id"]:
                by_audit[row.audit_id] = issued_before
            else:
                events.append((match, issued_before))
        with self._lock:
            self._events, self._by_audit, self._last_id = events, by_audit, last
            self._checked = time.monotonic()

    def _refresh(self) -> None:
        now = time.monotonic()
        if now - self._checked < REFRESH:
            return
        self._checked = now
        with self.db.engine.connect() as connection:
            last = connection.execute(select(func.max(RevocationEvent.id))).scalar() or 0
        if last != self._last_id:
            self.load()

    def revoke(self, **match) -> None:
        """Revoke every token issued until now that matches all given fields."""
        match = {k: v for k, v in match.items() if v}
        if not match or set(match) - set(FIELDS):
            raise ValueError(f"bad revocation fields: {sorted(match)}")
        now = utcnow()
        with self.db.session() as session:
            session.add(RevocationEvent(issued_before=now, revoked_at=now, **match))
        self.load()

    def is_revoked(self, token: TokenData) -> bool:
        self._refresh()
        issued = token.issued_at
        for audit_id in token.audit_ids[:1]:
            before = self._by_audit.get(audit_id)
            if before is not None and issued <= before:
                return True
        if not self._events:
            return False
        attributes = {
            "user_id": token.user_id,
            "project_id": token.project_id,
            "domain_id": token.domain_id or token.project_domain_id,
            "audit_id": token.audit_ids[0] if token.audit_ids else None,
            "audit_chain_id": token.audit_ids[-1] if token.audit_ids else None,
            "app_cred_id": token.app_cred_id,
        }
        for match, before in self._events:
            if issued > before:
                continue
            if all(
                (value in token.role_ids) if name == "role_id" else attributes.get(name) == value
                for name, value in match.items()
            ):
                return True
        return False
