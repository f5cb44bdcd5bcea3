"""Metadef objects: named groups of property definitions in a namespace."""

from __future__ import annotations

import dataclasses
import datetime
import json

from sqlalchemy import select

from overcast.common.db import Database, utcnow
from overcast.image.metadefs import errors, validation
from overcast.image.metadefs.models import MetadefNamespace, MetadefObject
from overcast.image.metadefs.queries import child, flush, visible_namespace


@dataclasses.dataclass
class Object:
    """A named group of property definitions in a namespace."""

    name: str
    description: str | None
    required: list[str] | None
    properties: dict
    created_at: datetime.datetime
    updated_at: datetime.datetime


def to_object(row: MetadefObject) -> Object:
    required = None if row.required is None else json.loads(row.required)
    return Object(row.name, row.description, required, json.loads(row.properties or "{}"),
                  row.created_at, row.updated_at)


def objects_in(session, namespace: MetadefNamespace) -> list[Object]:
    """The namespace's objects, oldest first."""
    return [to_object(o) for o in session.scalars(
        select(MetadefObject).where(MetadefObject.namespace_id == namespace.id)
        .order_by(MetadefObject.created_at, MetadefObject.id))]


def add_object(session, namespace: MetadefNamespace, body: dict, now) -> MetadefObject:
    """Insert an object from a validated body (409 if the name is taken)."""
    row = MetadefObject(namespace_id=namespace.id, name=body["name"], description=body.get("description"),
                        required=None if body.get("required") is None else json.dumps(body["required"]),
                        properties=json.dumps(body.get("properties") or {}), created_at=now, updated_at=now)
    if session.scalars(select(MetadefObject.id).where(MetadefObject.namespace_id == namespace.id,
                                                      MetadefObject.name == row.name)).first():
        raise errors.DuplicateObject(row.name, namespace.namespace)
    session.add(row)
    flush(session, errors.DuplicateObject(row.name, namespace.namespace))
    return row


class Objects:
    """The objects of the namespaces a caller sees."""

    def __init__(self, db: Database):
        self.db = db

    def list(self, ctx, namespace: str) -> list[Object]:
        with self.db.session() as session:
            return objects_in(session, visible_namespace(session, ctx, namespace))

    def get(self, ctx, namespace: str, name: str) -> Object:
        with self.db.session() as session:
            parent = visible_namespace(session, ctx, namespace)
            return to_object(child(session, MetadefObject, parent, name, errors.ObjectNotFound))

    def create(self, ctx, namespace: str, body: dict) -> Object:
        body = validation.object_body(body)
        with self.db.session() as session:
            return to_object(add_object(session, visible_namespace(session, ctx, namespace), body, utcnow()))

    def update(self, ctx, namespace: str, name: str, body: dict) -> Object:
        """Replace an object (absent attributes are cleared); renaming onto another is a 409."""
        body = validation.object_body(body)
        with self.db.session() as session:
            parent = visible_namespace(session, ctx, namespace)
            row = child(session, MetadefObject, parent, name, errors.ObjectNotFound)
            if body["name"] != name and session.scalars(select(MetadefObject.id).where(
                    MetadefObject.namespace_id == parent.id, MetadefObject.name == body["name"])).first():
                raise errors.DuplicateObject(body["name"], namespace)
            row.name, row.description = body["name"], body.get("description")
            row.required = None if body.get("required") is None else json.dumps(body["required"])
            row.properties = json.dumps(body.get("properties") or {})
            row.updated_at = utcnow()
            flush(session, errors.DuplicateObject(body["name"], namespace))
            return to_object(row)

    def delete(self, ctx, namespace: str, name: str) -> None:
        with self.db.session() as session:
            parent = visible_namespace(session, ctx, namespace)
            row = child(session, MetadefObject, parent, name, errors.ObjectNotFound)
            if parent.protected:
                raise errors.Protected(f"object {name}")
            session.delete(row)
