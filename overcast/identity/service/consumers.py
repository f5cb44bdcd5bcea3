"""OS-OAUTH1 consumers (registration only; the OAuth1 token flow is not served)."""

from __future__ import annotations

import secrets

from sqlalchemy import select

from overcast.common.db import new_id
from overcast.identity import errors
from overcast.identity.models import Consumer
from overcast.identity.service.base import SubService, dump_json, load_json, must_get


class Consumers(SubService):
    def get(self, consumer_id: str) -> Consumer:
        with self.db.session() as session:
            return must_get(session, Consumer, consumer_id, errors.ConsumerNotFound)

    def list(self) -> list[Consumer]:
        with self.db.session() as session:
            return list(session.scalars(select(Consumer).order_by(Consumer.id)))

    def create(self, fields: dict) -> tuple[Consumer, str]:
        """A new consumer and its secret (shown once)."""
        secret = secrets.token_urlsafe(32)
        extra = {k: v for k, v in fields.items() if k not in ("description", "secret", "id")}
        with self.db.session() as session:
            row = Consumer(id=new_id(), description=fields.get("description"), extra=dump_json(extra),
                           encrypted_secret=self.identity.credential_keys.encrypt(secret.encode()))
            session.add(row)
            return row, secret

    def update(self, consumer_id: str, fields: dict) -> Consumer:
        if "secret" in fields:
            raise errors.ValidationError("Invalid input for field 'secret': it cannot be changed")
        with self.db.session() as session:
            row = must_get(session, Consumer, consumer_id, errors.ConsumerNotFound)
            if "description" in fields:
                row.description = fields["description"]
            extra = {k: v for k, v in fields.items() if k not in ("description", "id")}
            if extra:
                row.extra = dump_json({**load_json(row.extra, {}), **extra})
            return row

    def delete(self, consumer_id: str) -> None:
        with self.db.session() as session:
            row = must_get(session, Consumer, consumer_id, errors.ConsumerNotFound)
            session.delete(row)
