"""Metadef namespaces: the catalog's top level, each holding objects, properties and tags.

Whether the caller may *change* a namespace is a policy question the API layer asks
(Glance's defaults: admins only). ``protected`` namespaces cannot be deleted, nor can
anything in them (403); they can be updated, including to unprotect them.
"""

from __future__ import annotations

from sqlalchemy import delete, exists, select

from overcast.common.db import Database, utcnow
from overcast.image.metadefs import errors, validation
from overcast.image.metadefs.models import (
    MetadefAssociation, MetadefNamespace, MetadefObject, MetadefProperty, MetadefResourceType, MetadefTag,
)
from overcast.image.metadefs.objects import add_object, objects_in
from overcast.image.metadefs.properties import add_property, properties_in
from overcast.image.metadefs.queries import (
    after, check_sort, flush, nullable, ordered, visibility_clause, visible_namespace,
)
from overcast.image.metadefs.resource_types import associate, associations_of
from overcast.image.metadefs.tags import add_tags, tags_in

NAMESPACE_SORT_KEYS = ("created_at", "updated_at", "namespace", "display_name", "visibility", "owner", "protected")


def _with_contents(session, row: MetadefNamespace) -> MetadefNamespace:
    """Attach ``associations``, ``objects``, ``properties`` and ``tags`` to ``row``."""
    row.associations = associations_of(session, [row.id])[row.id]
    row.objects = objects_in(session, row)
    row.properties = properties_in(session, row)
    row.tags = tags_in(session, row)
    return row


class Namespaces:
    """The namespaces a caller sees."""

    def __init__(self, db: Database):
        self.db = db

    def list(self, ctx, *, resource_types: list[str] | None = None, visibility: str | None = None,
             sort_key: str = "created_at", sort_dir: str = "desc", limit: int | None = None,
             marker: str | None = None) -> list[MetadefNamespace]:
        """One page of the namespaces the caller sees, each with ``associations`` attached.

        ``marker`` is the name of the last namespace of the previous page (404 if unseen).
        """
        check_sort(sort_key, sort_dir, NAMESPACE_SORT_KEYS)
        if visibility is not None and visibility not in validation.VISIBILITIES:
            raise errors.MetadefInvalid(f"Invalid visibility value: {visibility}")
        query = select(MetadefNamespace)
        if (clause := visibility_clause(ctx)) is not None:
            query = query.where(clause)
        if visibility is not None:
            query = query.where(MetadefNamespace.visibility == visibility)
        if resource_types:
            query = query.where(exists().where(
                MetadefAssociation.namespace_id == MetadefNamespace.id,
                MetadefAssociation.resource_type_id == MetadefResourceType.id,
                MetadefResourceType.name.in_(resource_types)))
        key = getattr(MetadefNamespace, sort_key)
        columns = [nullable(key) if sort_key in ("display_name", "owner") else key]
        columns += [MetadefNamespace.created_at, MetadefNamespace.id]
        with self.db.session() as session:
            if marker is not None:
                anchor = visible_namespace(session, ctx, marker)
                values = [getattr(anchor, sort_key), anchor.created_at, anchor.id]
                if sort_key in ("display_name", "owner"):
                    values[0] = values[0] or ""
                query = query.where(after(columns, values, sort_dir))
            query = ordered(query, columns, sort_dir)
            rows = list(session.scalars(query if limit is None else query.limit(limit)))
            links = associations_of(session, [row.id for row in rows])
            for row in rows:
                row.associations = links[row.id]
            return rows

    def get(self, ctx, name: str, contents: bool = False) -> MetadefNamespace:
        """The namespace (NamespaceNotFound if unseen); ``contents`` attaches everything in it."""
        with self.db.session() as session:
            row = visible_namespace(session, ctx, name)
            return _with_contents(session, row) if contents else row

    def create(self, ctx, body: dict) -> MetadefNamespace:
        """Create a namespace and what the body nests in it, all or nothing.

        The owner defaults to the caller's project, visibility to private.
        """
        body = validation.namespace_body(body)
        name, now = body["namespace"], utcnow()
        with self.db.session() as session:
            if session.scalars(select(MetadefNamespace.id).where(MetadefNamespace.namespace == name)).first():
                raise errors.DuplicateNamespace(name)
            row = MetadefNamespace(
                namespace=name, display_name=body.get("display_name"), description=body.get("description"),
                visibility=body.get("visibility") or "private", protected=bool(body.get("protected")),
                owner=body.get("owner") or ctx.project_id, created_at=now, updated_at=now)
            session.add(row)
            flush(session, errors.DuplicateNamespace(name))
            for link in body["resource_type_associations"]:
                associate(session, row, link, now)
            for item in body["objects"]:
                add_object(session, row, item, now)
            for prop, spec in body["properties"].items():
                add_property(session, row, {"name": prop, **spec}, now)
            add_tags(session, row, body["tags"], now)
            return _with_contents(session, row)

    def update(self, ctx, name: str, body: dict) -> MetadefNamespace:
        """Replace a namespace's attributes (Glance's PUT: absent ones fall back to defaults:
        no display name or description, private, unprotected, owned by the caller's project)."""
        body = validation.namespace_body(body)
        with self.db.session() as session:
            row = visible_namespace(session, ctx, name)
            new_name = body["namespace"]
            if new_name != name and session.scalars(
                    select(MetadefNamespace.id).where(MetadefNamespace.namespace == new_name)).first():
                raise errors.DuplicateNamespace(new_name)
            row.namespace, row.display_name = new_name, body.get("display_name")
            row.description = body.get("description")
            row.visibility = body.get("visibility") or "private"
            row.protected = bool(body.get("protected"))
            row.owner = body.get("owner") or ctx.project_id
            row.updated_at = utcnow()
            flush(session, errors.DuplicateNamespace(new_name))
            row.associations = associations_of(session, [row.id])[row.id]
            return row

    def delete(self, ctx, name: str) -> None:
        """Delete a namespace and everything in it; 403 if it is protected."""
        with self.db.session() as session:
            row = visible_namespace(session, ctx, name)
            if row.protected:
                raise errors.Protected(f"namespace {name}")
            for model in (MetadefAssociation, MetadefObject, MetadefProperty, MetadefTag):
                session.execute(delete(model).where(model.namespace_id == row.id))
            session.delete(row)

    def delete_contents(self, ctx, name: str, kind: str) -> None:
        """Delete all ``objects``, ``properties`` or ``tags`` of a namespace (403 if protected)."""
        model = {"objects": MetadefObject, "properties": MetadefProperty, "tags": MetadefTag}[kind]
        with self.db.session() as session:
            row = visible_namespace(session, ctx, name)
            if row.protected:
                raise errors.Protected(f"namespace {name}")
            session.execute(delete(model).where(model.namespace_id == row.id))
