"""Metadefs: Glance's metadata definitions catalog, with its visibility rules; no HTTP here.

Who sees a namespace: admins see all; others see public namespaces, namespaces without an
owner and their own project's private ones. A namespace the caller cannot see is
reported missing (404), as Glance does. Whether the caller may *change* a namespace is a
policy question the API layer asks (Glance's defaults: admins only).

``protected`` namespaces cannot be deleted, nor can anything in them (403); they can be
updated, including to unprotect them. Names are unique per namespace (tags ignoring
case, as on Glance's MySQL collation); a clash is a 409.

Resource types are global. Glance's standard ones (``SEEDED_RESOURCE_TYPES``) are
inserted on first listing; associating a namespace with an unknown name creates that
type, as Glance does.
"""

from __future__ import annotations

import dataclasses
import datetime
import json

from sqlalchemy import and_, delete, exists, func, or_, select
from sqlalchemy.exc import IntegrityError

from overcast.common.db import Database, utcnow
from overcast.image.metadefs import errors, validation
from overcast.image.metadefs.models import (
    MetadefAssociation, MetadefNamespace, MetadefObject, MetadefProperty, MetadefResourceType, MetadefTag,
)

SEEDED_RESOURCE_TYPES = (
    "OS::Glance::Image", "OS::Cinder::Volume", "OS::Nova::Flavor", "OS::Nova::Aggregate", "OS::Nova::Server",
    "OS::Trove::Instance",
)
NAMESPACE_SORT_KEYS = ("created_at", "updated_at", "namespace", "display_name", "visibility", "owner", "protected")
TAG_SORT_KEYS = ("created_at", "updated_at", "name")


@dataclasses.dataclass
class Association:
    """A namespace's link to a resource type."""

    name: str
    prefix: str | None
    properties_target: str | None
    created_at: datetime.datetime
    updated_at: datetime.datetime


@dataclasses.dataclass
class Object:
    """A named group of property definitions in a namespace."""

    name: str
    description: str | None
    required: list[str] | None
    properties: dict
    created_at: datetime.datetime
    updated_at: datetime.datetime


def _object(row: MetadefObject) -> Object:
    required = None if row.required is None else json.loads(row.required)
    return Object(row.name, row.description, required, json.loads(row.properties or "{}"),
                  row.created_at, row.updated_at)


def _nullable(column):
    return func.coalesce(column, "")  # sort and page NULLs like the empty string, on every backend


def _ordered(query, columns, direction: str):
    return query.order_by(*[column.asc() if direction == "asc" else column.desc() for column in columns])


def _after(columns, values, direction: str):
    """Rows strictly after ``values`` in the order of ``columns`` (keyset paging)."""
    clauses = []
    for index, column in enumerate(columns):
        beyond = column > values[index] if direction == "asc" else column < values[index]
        clauses.append(and_(*[columns[i] == values[i] for i in range(index)], beyond))
    return or_(*clauses)


def _check_sort(key: str, direction: str, allowed) -> None:
    if key not in allowed:
        raise errors.MetadefInvalid(f"Invalid sort key: {key}")
    if direction not in ("asc", "desc"):
        raise errors.MetadefInvalid(f"Invalid sort direction: {direction}")


class Metadefs:
    """Namespaces and their objects, properties, tags and resource type associations."""

    def __init__(self, db: Database):
        self.db = db
        self._seeded = False

    # visibility and lookups

    def _visible(self, ctx):
        if ctx.is_admin:
            return None
        return or_(MetadefNamespace.visibility == "public", MetadefNamespace.owner.is_(None),
                   MetadefNamespace.owner == ctx.project_id)

    def _namespace(self, session, ctx, name: str) -> MetadefNamespace:
        query = select(MetadefNamespace).where(MetadefNamespace.namespace == name)
        if (clause := self._visible(ctx)) is not None:
            query = query.where(clause)
        row = session.scalars(query).first()
        if row is None:
            raise errors.NamespaceNotFound(name)
        return row

    def _child(self, session, model, namespace: MetadefNamespace, name: str, missing):
        row = session.scalars(select(model).where(model.namespace_id == namespace.id, model.name == name)).first()
        if row is None:
            raise missing(name, namespace.namespace)
        return row

    def _flush(self, session, conflict: errors.Conflict) -> None:
        try:
            session.flush()
        except IntegrityError:
            raise conflict from None

    def _associations(self, session, namespace_ids: list[int]) -> dict[int, list[Association]]:
        found: dict[int, list[Association]] = {i: [] for i in namespace_ids}
        if namespace_ids:
            query = (select(MetadefAssociation, MetadefResourceType.name)
                     .join(MetadefResourceType, MetadefResourceType.id == MetadefAssociation.resource_type_id)
                     .where(MetadefAssociation.namespace_id.in_(namespace_ids))
                     .order_by(MetadefAssociation.created_at, MetadefResourceType.id))
            for link, name in session.execute(query):
                found[link.namespace_id].append(
                    Association(name, link.prefix, link.properties_target, link.created_at, link.updated_at))
        return found

    def _properties(self, session, row: MetadefNamespace) -> dict[str, dict]:
        return {p.name: json.loads(p.spec) for p in session.scalars(
            select(MetadefProperty).where(MetadefProperty.namespace_id == row.id).order_by(MetadefProperty.name))}

    def _contents(self, session, row: MetadefNamespace) -> MetadefNamespace:
        """Attach ``associations``, ``objects``, ``properties`` and ``tags`` to ``row``."""
        row.associations = self._associations(session, [row.id])[row.id]
        row.objects = [_object(o) for o in session.scalars(
            select(MetadefObject).where(MetadefObject.namespace_id == row.id)
            .order_by(MetadefObject.created_at, MetadefObject.id))]
        row.properties = self._properties(session, row)
        row.tags = list(session.scalars(select(MetadefTag).where(MetadefTag.namespace_id == row.id)
                                        .order_by(MetadefTag.created_at, MetadefTag.id)))
        return row

    # namespaces

    def list_namespaces(self, ctx, *, resource_types: list[str] | None = None, visibility: str | None = None,
                        sort_key: str = "created_at", sort_dir: str = "desc", limit: int | None = None,
                        marker: str | None = None) -> list[MetadefNamespace]:
        """One page of the namespaces the caller sees, each with ``associations`` attached.

        ``marker`` is the name of the last namespace of the previous page (404 if unseen).
        """
        _check_sort(sort_key, sort_dir, NAMESPACE_SORT_KEYS)
        if visibility is not None and visibility not in validation.VISIBILITIES:
            raise errors.MetadefInvalid(f"Invalid visibility value: {visibility}")
        query = select(MetadefNamespace)
        if (clause := self._visible(ctx)) is not None:
            query = query.where(clause)
        if visibility is not None:
            query = query.where(MetadefNamespace.visibility == visibility)
        if resource_types:
            query = query.where(exists().where(
                MetadefAssociation.namespace_id == MetadefNamespace.id,
                MetadefAssociation.resource_type_id == MetadefResourceType.id,
                MetadefResourceType.name.in_(resource_types)))
        key = getattr(MetadefNamespace, sort_key)
        columns = [_nullable(key) if sort_key in ("display_name", "owner") else key]
        columns += [MetadefNamespace.created_at, MetadefNamespace.id]
        with self.db.session() as session:
            if marker is not None:
                anchor = self._namespace(session, ctx, marker)
                values = [getattr(anchor, sort_key), anchor.created_at, anchor.id]
                if sort_key in ("display_name", "owner"):
                    values[0] = values[0] or ""
                query = query.where(_after(columns, values, sort_dir))
            query = _ordered(query, columns, sort_dir)
            rows = list(session.scalars(query if limit is None else query.limit(limit)))
            links = self._associations(session, [row.id for row in rows])
            for row in rows:
                row.associations = links[row.id]
            return rows

    def get_namespace(self, ctx, name: str, contents: bool = False) -> MetadefNamespace:
        """The namespace (NamespaceNotFound if unseen); ``contents`` attaches everything in it."""
        with self.db.session() as session:
            row = self._namespace(session, ctx, name)
            return self._contents(session, row) if contents else row

    def create_namespace(self, ctx, body: dict) -> MetadefNamespace:
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
            self._flush(session, errors.DuplicateNamespace(name))
            for link in body["resource_type_associations"]:
                self._associate(session, row, link, now)
            for item in body["objects"]:
                self._add_object(session, row, item, now)
            for prop, spec in body["properties"].items():
                self._add_property(session, row, {"name": prop, **spec}, now)
            self._add_tags(session, row, body["tags"], now)
            return self._contents(session, row)

    def update_namespace(self, ctx, name: str, body: dict) -> MetadefNamespace:
        """Replace a namespace's attributes (Glance's PUT: absent ones fall back to defaults:
        no display name or description, private, unprotected, owned by the caller's project)."""
        body = validation.namespace_body(body)
        with self.db.session() as session:
            row = self._namespace(session, ctx, name)
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
            self._flush(session, errors.DuplicateNamespace(new_name))
            row.associations = self._associations(session, [row.id])[row.id]
            return row

    def delete_namespace(self, ctx, name: str) -> None:
        """Delete a namespace and everything in it; 403 if it is protected."""
        with self.db.session() as session:
            row = self._namespace(session, ctx, name)
            if row.protected:
                raise errors.Protected(f"namespace {name}")
            for model in (MetadefAssociation, MetadefObject, MetadefProperty, MetadefTag):
                session.execute(delete(model).where(model.namespace_id == row.id))
            session.delete(row)

    def delete_contents(self, ctx, name: str, kind: str) -> None:
        """Delete all ``objects``, ``properties`` or ``tags`` of a namespace (403 if protected)."""
        model = {"objects": MetadefObject, "properties": MetadefProperty, "tags": MetadefTag}[kind]
        with self.db.session() as session:
            row = self._namespace(session, ctx, name)
            if row.protected:
                raise errors.Protected(f"namespace {name}")
            session.execute(delete(model).where(model.namespace_id == row.id))

    # objects

    def _add_object(self, session, namespace, body: dict, now) -> MetadefObject:
        row = MetadefObject(namespace_id=namespace.id, name=body["name"], description=body.get("description"),
                            required=None if body.get("required") is None else json.dumps(body["required"]),
                            properties=json.dumps(body.get("properties") or {}), created_at=now, updated_at=now)
        if session.scalars(select(MetadefObject.id).where(MetadefObject.namespace_id == namespace.id,
                                                          MetadefObject.name == row.name)).first():
            raise errors.DuplicateObject(row.name, namespace.namespace)
        session.add(row)
        self._flush(session, errors.DuplicateObject(row.name, namespace.namespace))
        return row

    def list_objects(self, ctx, namespace: str) -> list[Object]:
        with self.db.session() as session:
            row = self._namespace(session, ctx, namespace)
            return [_object(o) for o in session.scalars(
                select(MetadefObject).where(MetadefObject.namespace_id == row.id)
                .order_by(MetadefObject.created_at, MetadefObject.id))]

    def get_object(self, ctx, namespace: str, name: str) -> Object:
        with self.db.session() as session:
            parent = self._namespace(session, ctx, namespace)
            return _object(self._child(session, MetadefObject, parent, name, errors.ObjectNotFound))

    def create_object(self, ctx, namespace: str, body: dict) -> Object:
        body = validation.object_body(body)
        with self.db.session() as session:
            return _object(self._add_object(session, self._namespace(session, ctx, namespace), body, utcnow()))

    def update_object(self, ctx, namespace: str, name: str, body: dict) -> Object:
        """Replace an object (absent attributes are cleared); renaming onto another is a 409."""
        body = validation.object_body(body)
        with self.db.session() as session:
            parent = self._namespace(session, ctx, namespace)
            row = self._child(session, MetadefObject, parent, name, errors.ObjectNotFound)
            if body["name"] != name and session.scalars(select(MetadefObject.id).where(
                    MetadefObject.namespace_id == parent.id, MetadefObject.name == body["name"])).first():
                raise errors.DuplicateObject(body["name"], namespace)
            row.name, row.description = body["name"], body.get("description")
            row.required = None if body.get("required") is None else json.dumps(body["required"])
            row.properties = json.dumps(body.get("properties") or {})
            row.updated_at = utcnow()
            self._flush(session, errors.DuplicateObject(body["name"], namespace))
            return _object(row)

    def delete_object(self, ctx, namespace: str, name: str) -> None:
        with self.db.session() as session:
            parent = self._namespace(session, ctx, namespace)
            row = self._child(session, MetadefObject, parent, name, errors.ObjectNotFound)
            if parent.protected:
                raise errors.Protected(f"object {name}")
            session.delete(row)

    # properties (returned as {"name": ..., **spec})

    def _add_property(self, session, namespace, body: dict, now) -> dict:
        name = body["name"]
        spec = {k: v for k, v in body.items() if k != "name"}
        if session.scalars(select(MetadefProperty.id).where(MetadefProperty.namespace_id == namespace.id,
                                                            MetadefProperty.name == name)).first():
            raise errors.DuplicateProperty(name, namespace.namespace)
        session.add(MetadefProperty(namespace_id=namespace.id, name=name, spec=json.dumps(spec),
                                    created_at=now, updated_at=now))
        self._flush(session, errors.DuplicateProperty(name, namespace.namespace))
        return {"name": name, **spec}

    def list_properties(self, ctx, namespace: str) -> dict[str, dict]:
        """``{name: spec}`` for every property definition of the namespace."""
        with self.db.session() as session:
            return self._properties(session, self._namespace(session, ctx, namespace))

    def get_property(self, ctx, namespace: str, name: str) -> dict:
        with self.db.session() as session:
            parent = self._namespace(session, ctx, namespace)
            row = self._child(session, MetadefProperty, parent, name, errors.PropertyNotFound)
            return {"name": row.name, **json.loads(row.spec)}

    def create_property(self, ctx, namespace: str, body: dict) -> dict:
        body = validation.property_spec(body)
        with self.db.session() as session:
            return self._add_property(session, self._namespace(session, ctx, namespace), body, utcnow())

    def update_property(self, ctx, namespace: str, name: str, body: dict) -> dict:
        """Replace a property definition (the body names it; renaming onto another is a 409)."""
        body = validation.property_spec(body)
        with self.db.session() as session:
            parent = self._namespace(session, ctx, namespace)
            row = self._child(session, MetadefProperty, parent, name, errors.PropertyNotFound)
            if body["name"] != name and session.scalars(select(MetadefProperty.id).where(
                    MetadefProperty.namespace_id == parent.id, MetadefProperty.name == body["name"])).first():
                raise errors.DuplicateProperty(body["name"], namespace)
            spec = {k: v for k, v in body.items() if k != "name"}
            row.name, row.spec, row.updated_at = body["name"], json.dumps(spec), utcnow()
            self._flush(session, errors.DuplicateProperty(body["name"], namespace))
            return {"name": row.name, **spec}

    def delete_property(self, ctx, namespace: str, name: str) -> None:
        with self.db.session() as session:
            parent = self._namespace(session, ctx, namespace)
            row = self._child(session, MetadefProperty, parent, name, errors.PropertyNotFound)
            if parent.protected:
                raise errors.Protected(f"property {name}")
            session.delete(row)

    # tags

    def _tag_taken(self, session, namespace, name: str, besides: int | None = None) -> bool:
        query = select(MetadefTag.id).where(MetadefTag.namespace_id == namespace.id,
                                            func.lower(MetadefTag.name) == name.lower())
        if besides is not None:
            query = query.where(MetadefTag.id != besides)
        return session.scalars(query).first() is not None

    def _add_tags(self, session, namespace, names: list[str], now) -> list[MetadefTag]:
        rows, seen = [], set()
        for name in names:
            if name.lower() in seen or self._tag_taken(session, namespace, name):
                raise errors.DuplicateTag(name, namespace.namespace)
            seen.add(name.lower())
            rows.append(MetadefTag(namespace_id=namespace.id, name=name, created_at=now, updated_at=now))
        session.add_all(rows)
        self._flush(session, errors.DuplicateTag(", ".join(names), namespace.namespace))
        return rows

    def list_tags(self, ctx, namespace: str, *, sort_key: str = "created_at", sort_dir: str = "desc",
                  limit: int | None = None, marker: str | None = None) -> list[MetadefTag]:
        """One page of a namespace's tags; ``marker`` is the last tag name of the previous page."""
        _check_sort(sort_key, sort_dir, TAG_SORT_KEYS)
        columns = [getattr(MetadefTag, sort_key), MetadefTag.created_at, MetadefTag.id]
        with self.db.session() as session:
            parent = self._namespace(session, ctx, namespace)
            query = select(MetadefTag).where(MetadefTag.namespace_id == parent.id)
            if marker is not None:
                anchor = self._child(session, MetadefTag, parent, marker, errors.TagNotFound)
                query = query.where(_after(columns, [getattr(anchor, sort_key), anchor.created_at, anchor.id],
                                           sort_dir))
            query = _ordered(query, columns, sort_dir)
            return list(session.scalars(query if limit is None else query.limit(limit)))

    def get_tag(self, ctx, namespace: str, name: str) -> MetadefTag:
        with self.db.session() as session:
            return self._child(session, MetadefTag, self._namespace(session, ctx, namespace), name,
                               errors.TagNotFound)

    def create_tag(self, ctx, namespace: str, name: str) -> MetadefTag:
        name = validation.tag_body({"name": name})["name"]
        with self.db.session() as session:
            return self._add_tags(session, self._namespace(session, ctx, namespace), [name], utcnow())[0]

    def create_tags(self, ctx, namespace: str, body: dict, append: bool = False) -> list[MetadefTag]:
        """Create tags from ``{"tags": [{"name": ...}]}``; unless ``append``, they replace
        the namespace's tags (Glance's ``X-Openstack-Append`` header)."""
        names = validation.tags_body(body)
        with self.db.session() as session:
            parent = self._namespace(session, ctx, namespace)
            if not append:
                session.execute(delete(MetadefTag).where(MetadefTag.namespace_id == parent.id))
            return self._add_tags(session, parent, names, utcnow())

    def update_tag(self, ctx, namespace: str, name: str, body: dict) -> MetadefTag:
        new_name = validation.tag_body(body)["name"]
        with self.db.session() as session:
            parent = self._namespace(session, ctx, namespace)
            row = self._child(session, MetadefTag, parent, name, errors.TagNotFound)
            if self._tag_taken(session, parent, new_name, besides=row.id):
                raise errors.DuplicateTag(new_name, namespace)
            row.name, row.updated_at = new_name, utcnow()
            self._flush(session, errors.DuplicateTag(new_name, namespace))
            return row

    def delete_tag(self, ctx, namespace: str, name: str) -> None:
        with self.db.session() as session:
            parent = self._namespace(session, ctx, namespace)
            row = self._child(session, MetadefTag, parent, name, errors.TagNotFound)
            if parent.protected:
                raise errors.Protected(f"tag {name}")
            session.delete(row)

    # resource types and associations

    def _seed(self) -> None:
        if self._seeded:
            return
        with self.db.session() as session:
            known = set(session.scalars(select(MetadefResourceType.name)))
            now = utcnow()
            for name in SEEDED_RESOURCE_TYPES:
                if name not in known:
                    self._insert_resource_type(session, name, True, now)
        self._seeded = True

    def _insert_resource_type(self, session, name: str, protected: bool, now) -> MetadefResourceType:
        """Insert a resource type, or return the one a concurrent request just inserted."""
        try:
            with session.begin_nested():
                row = MetadefResourceType(name=name, protected=protected, created_at=now, updated_at=now)
                session.add(row)
            return row
        except IntegrityError:
            return session.scalars(select(MetadefResourceType).where(MetadefResourceType.name == name)).one()

    def list_resource_types(self) -> list[MetadefResourceType]:
        """Every resource type: the seeded ones first, then those associations created."""
        self._seed()
        with self.db.session() as session:
            return list(session.scalars(select(MetadefResourceType).order_by(MetadefResourceType.id)))

    def _associate(self, session, namespace, body: dict, now) -> Association:
        kind = session.scalars(select(MetadefResourceType).where(MetadefResourceType.name == body["name"])).first()
        if kind is None:
            kind = self._insert_resource_type(session, body["name"], False, now)
        elif session.get(MetadefAssociation, (namespace.id, kind.id)) is not None:
            raise errors.DuplicateAssociation(kind.name, namespace.namespace)
        link = MetadefAssociation(namespace_id=namespace.id, resource_type_id=kind.id, prefix=body.get("prefix"),
                                  properties_target=body.get("properties_target"), created_at=now, updated_at=now)
        session.add(link)
        self._flush(session, errors.DuplicateAssociation(kind.name, namespace.namespace))
        return Association(kind.name, link.prefix, link.properties_target, now, now)

    def list_associations(self, ctx, namespace: str) -> list[Association]:
        with self.db.session() as session:
            row = self._namespace(session, ctx, namespace)
            return self._associations(session, [row.id])[row.id]

    def create_association(self, ctx, namespace: str, body: dict) -> Association:
        body = validation.association_body(body)
        with self.db.session() as session:
            return self._associate(session, self._namespace(session, ctx, namespace), body, utcnow())

    def delete_association(self, ctx, namespace: str, resource_type: str) -> None:
        with self.db.session() as session:
            parent = self._namespace(session, ctx, namespace)
            link = session.scalars(
                select(MetadefAssociation).join(MetadefResourceType,
                                                MetadefResourceType.id == MetadefAssociation.resource_type_id)
                .where(MetadefAssociation.namespace_id == parent.id, MetadefResourceType.name == resource_type)
            ).first()
            if link is None:
                raise errors.AssociationNotFound(resource_type)
            if parent.protected:
                raise errors.Protected(f"resource-type-association {resource_type}")
            session.delete(link)
