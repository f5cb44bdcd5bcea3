"""Metadef properties: a namespace's property definitions, returned as ``{"name": ..., **spec}``."""

from __future__ import annotations

import json

from sqlalchemy import select

from overcast.common.db import Database, utcnow
from overcast.image.metadefs import errors, validation
from overcast.image.metadefs.models import MetadefNamespace, MetadefProperty
from overcast.image.metadefs.queries import child, flush, visible_namespace


def properties_in(session, namespace: MetadefNamespace) -> dict[str, dict]:
    """``{name: spec}`` for every property definition of the namespace, by name."""
    return {p.name: json.loads(p.spec) for p in session.scalars(
        select(MetadefProperty).where(MetadefProperty.namespace_id == namespace.id).order_by(MetadefProperty.name))}


def add_property(session, namespace: MetadefNamespace, body: dict, now) -> dict:
    """Insert a property definition from a validated body (409 if the name is taken)."""
    name = body["name"]
    spec = {k: v for k, v in body.items() if k != "name"}
    if session.scalars(select(MetadefProperty.id).where(MetadefProperty.namespace_id == namespace.id,
                                                        MetadefProperty.name == name)).first():
        raise errors.DuplicateProperty(name, namespace.namespace)
    session.add(MetadefProperty(namespace_id=namespace.id, name=name, spec=json.dumps(spec),
                                created_at=now, updated_at=now))
    flush(session, errors.DuplicateProperty(name, namespace.namespace))
    return {"name": name, **spec}


class Properties:
    """The property definitions of the namespaces a caller sees."""

    def __init__(self, db: Database):
        self.db = db

    def list(self, ctx, namespace: str) -> dict[str, dict]:
        """``{name: spec}`` for every property definition of the namespace."""
        with self.db.session() as session:
            return properties_in(session, visible_namespace(session, ctx, namespace))

    def get(self, ctx, namespace: str, name: str) -> dict:
        with self.db.session() as session:
            parent = visible_namespace(session, ctx, namespace)
            row = child(session, MetadefProperty, parent, name, errors.PropertyNotFound)
            return {"name": row.name, **json.loads(row.spec)}

    def create(self, ctx, namespace: str, body: dict) -> dict:
        body = validation.property_spec(body)
        with self.db.session() as session:
            return add_property(session, visible_namespace(session, ctx, namespace), body, utcnow())

    def update(self, ctx, namespace: str, name: str, body: dict) -> dict:
        """Replace a property definition (the body names it; renaming onto another is a 409)."""
        body = validation.property_spec(body)
        with self.db.session() as session:
            parent = visible_namespace(session, ctx, namespace)
            row = child(session, MetadefProperty, parent, name, errors.PropertyNotFound)
            if body["name"] != name and session.scalars(select(MetadefProperty.id).where(
                    MetadefProperty.namespace_id == parent.id, MetadefProperty.name == body["name"])).first():
                raise errors.DuplicateProperty(body["name"], namespace)
            spec = {k: v for k, v in body.items() if k != "name"}
            row.name, row.spec, row.updated_at = body["name"], json.dumps(spec), utcnow()
            flush(session, errors.DuplicateProperty(body["name"], namespace))
            return {"name": row.name, **spec}

    def delete(self, ctx, namespace: str, name: str) -> None:
        with self.db.session() as session:
            parent = visible_namespace(session, ctx, namespace)
            row = child(session, MetadefProperty, parent, name, errors.PropertyNotFound)
            if parent.protected:
                raise errors.Protected(f"property {name}")
            session.delete(row)
