"""Metadef resource types and the namespaces' associations with them.

Resource types are global. Glance's standard ones (``SEEDED_RESOURCE_TYPES``) are
inserted on first listing; associating a namespace with an unknown name creates that
type, as Glance does.
"""

from __future__ import annotations

import dataclasses
import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from overcast.common.db import Database, utcnow
from overcast.image.metadefs import errors, validation
from overcast.image.metadefs.models import MetadefAssociation, MetadefNamespace, MetadefResourceType
from overcast.image.metadefs.queries import flush, visible_namespace

SEEDED_RESOURCE_TYPES = (
    "OS::Glance::Image", "OS::Cinder::Volume", "OS::Nova::Flavor", "OS::Nova::Aggregate", "OS::Nova::Server",
    "OS::Trove::Instance",
)


@dataclasses.dataclass
class Association:
    """A namespace's link to a resource type."""

    name: str
    prefix: str | None
    properties_target: str | None
    created_at: datetime.datetime
    updated_at: datetime.datetime


def associations_of(session, namespace_ids: list[int]) -> dict[int, list[Association]]:
    """Each namespace's associations, oldest first."""
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


def _insert_resource_type(session, name: str, protected: bool, now) -> MetadefResourceType:
    """Insert a resource type, or return the one a concurrent request just inserted."""
    try:
        with session.begin_nested():
            row = MetadefResourceType(name=name, protected=protected, created_at=now, updated_at=now)
            session.add(row)
        return row
    except IntegrityError:
        return session.scalars(select(MetadefResourceType).where(MetadefResourceType.name == name)).one()


def associate(session, namespace: MetadefNamespace, body: dict, now) -> Association:
    """Link the namespace to the body's resource type, creating an unknown type (409 if linked)."""
    kind = session.scalars(select(MetadefResourceType).where(MetadefResourceType.name == body["name"])).first()
    if kind is None:
        kind = _insert_resource_type(session, body["name"], False, now)
    elif session.get(MetadefAssociation, (namespace.id, kind.id)) is not None:
        raise errors.DuplicateAssociation(kind.name, namespace.namespace)
    link = MetadefAssociation(namespace_id=namespace.id, resource_type_id=kind.id, prefix=body.get("prefix"),
                              properties_target=body.get("properties_target"), created_at=now, updated_at=now)
    session.add(link)
    flush(session, errors.DuplicateAssociation(kind.name, namespace.namespace))
    return Association(kind.name, link.prefix, link.properties_target, now, now)


class ResourceTypes:
    """The global list of resource types, seeded once per instance."""

    def __init__(self, db: Database):
        self.db = db
        self._seeded = False

    def _seed(self) -> None:
        if self._seeded:
            return
        with self.db.session() as session:
            known = set(session.scalars(select(MetadefResourceType.name)))
            now = utcnow()
            for name in SEEDED_RESOURCE_TYPES:
                if name not in known:
                    _insert_resource_type(session, name, True, now)
        self._seeded = True

    def list(self) -> list[MetadefResourceType]:
        """Every resource type: the seeded ones first, then those associations created."""
        self._seed()
        with self.db.session() as session:
            return list(session.scalars(select(MetadefResourceType).order_by(MetadefResourceType.id)))


class Associations:
    """The resource type associations of the namespaces a caller sees."""

    def __init__(self, db: Database):
        self.db = db

    def list(self, ctx, namespace: str) -> list[Association]:
        with self.db.session() as session:
            row = visible_namespace(session, ctx, namespace)
            return associations_of(session, [row.id])[row.id]

    def create(self, ctx, namespace: str, body: dict) -> Association:
        body = validation.association_body(body)
        with self.db.session() as session:
            return associate(session, visible_namespace(session, ctx, namespace), body, utcnow())

    def delete(self, ctx, namespace: str, resource_type: str) -> None:
        with self.db.session() as session:
            parent = visible_namespace(session, ctx, namespace)
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
