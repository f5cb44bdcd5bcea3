"""Declarative base and the small column helpers every service's models use."""

from __future__ import annotations

import datetime
import uuid

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def new_id() -> str:
    """A Keystone-style id: 32 lower-case hex digits."""
    return uuid.uuid4().hex


def utcnow() -> datetime.datetime:
    """Now in UTC, without tzinfo (what every backend stores the same way)."""
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
