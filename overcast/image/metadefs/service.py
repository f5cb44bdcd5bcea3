"""Metadefs: Glance's metadata definitions catalog, with its visibility rules; no HTTP here.

One small class per resource, each in its own module; :class:`Metadefs` holds them as
attributes (``metadefs.tags.list(...)``) and keeps the flat names the API layer calls
(``metadefs.list_tags(...)``):

* :mod:`~overcast.image.metadefs.namespaces`: namespaces; ``protected`` ones cannot be
  deleted, nor can anything in them (403), but they can be updated, even unprotected.
* :mod:`~overcast.image.metadefs.objects`, :mod:`~overcast.image.metadefs.properties`,
  :mod:`~overcast.image.metadefs.tags`: what a namespace holds. Names are unique per
  namespace (tags ignoring case, as on Glance's MySQL collation); a clash is a 409.
* :mod:`~overcast.image.metadefs.resource_types`: the global resource types (Glance's
  standard ones, ``SEEDED_RESOURCE_TYPES``, inserted on first listing) and the namespaces'
  associations with them; associating with an unknown name creates that type.
* :mod:`~overcast.image.metadefs.queries`: who sees a namespace (admins all; others public
  ones, those without an owner and their own project's; an unseen one is a 404, as from
  Glance), plus the lookups and keyset paging the others share. Whether the caller may
  *change* a namespace is a policy question the API layer asks (Glance's defaults: admins
  only).
"""

from __future__ import annotations

from overcast.common.db import Database
from overcast.image.metadefs.models import MetadefNamespace, MetadefResourceType, MetadefTag
from overcast.image.metadefs.namespaces import NAMESPACE_SORT_KEYS, Namespaces
from overcast.image.metadefs.objects import Object, Objects
from overcast.image.metadefs.properties import Properties
from overcast.image.metadefs.resource_types import SEEDED_RESOURCE_TYPES, Association, Associations, ResourceTypes
from overcast.image.metadefs.tags import TAG_SORT_KEYS, Tags

__all__ = ["NAMESPACE_SORT_KEYS", "SEEDED_RESOURCE_TYPES", "TAG_SORT_KEYS", "Association", "Metadefs", "Object"]


class Metadefs:
    """Namespaces and their objects, properties, tags and resource type associations."""

    def __init__(self, db: Database):
        self.db = db
        self.namespaces = Namespaces(db)
        self.objects = Objects(db)
        self.properties = Properties(db)
        self.tags = Tags(db)
        self.resource_types = ResourceTypes(db)
        self.associations = Associations(db)

    # namespaces

    def list_namespaces(self, ctx, **options) -> list[MetadefNamespace]:
        """One page of the namespaces the caller sees (see :meth:`Namespaces.list` for ``options``)."""
        return self.namespaces.list(ctx, **options)

    def get_namespace(self, ctx, name: str, contents: bool = False) -> MetadefNamespace:
        return self.namespaces.get(ctx, name, contents)

    def create_namespace(self, ctx, body: dict) -> MetadefNamespace:
        return self.namespaces.create(ctx, body)

    def update_namespace(self, ctx, name: str, body: dict) -> MetadefNamespace:
        return self.namespaces.update(ctx, name, body)

    def delete_namespace(self, ctx, name: str) -> None:
        self.namespaces.delete(ctx, name)

    def delete_contents(self, ctx, name: str, kind: str) -> None:
        self.namespaces.delete_contents(ctx, name, kind)

    # objects

    def list_objects(self, ctx, namespace: str) -> list[Object]:
        return self.objects.list(ctx, namespace)

    def get_object(self, ctx, namespace: str, name: str) -> Object:
        return self.objects.get(ctx, namespace, name)

    def create_object(self, ctx, namespace: str, body: dict) -> Object:
        return self.objects.create(ctx, namespace, body)

    def update_object(self, ctx, namespace: str, name: str, body: dict) -> Object:
        return self.objects.update(ctx, namespace, name, body)

    def delete_object(self, ctx, namespace: str, name: str) -> None:
        self.objects.delete(ctx, namespace, name)

    # properties (returned as {"name": ..., **spec})

    def list_properties(self, ctx, namespace: str) -> dict[str, dict]:
        return self.properties.list(ctx, namespace)

    def get_property(self, ctx, namespace: str, name: str) -> dict:
        return self.properties.get(ctx, namespace, name)

    def create_property(self, ctx, namespace: str, body: dict) -> dict:
        return self.properties.create(ctx, namespace, body)

    def update_property(self, ctx, namespace: str, name: str, body: dict) -> dict:
        return self.properties.update(ctx, namespace, name, body)

    def delete_property(self, ctx, namespace: str, name: str) -> None:
        self.properties.delete(ctx, namespace, name)

    # tags

    def list_tags(self, ctx, namespace: str, **options) -> list[MetadefTag]:
        """One page of a namespace's tags (see :meth:`Tags.list` for ``options``)."""
        return self.tags.list(ctx, namespace, **options)

    def get_tag(self, ctx, namespace: str, name: str) -> MetadefTag:
        return self.tags.get(ctx, namespace, name)

    def create_tag(self, ctx, namespace: str, name: str) -> MetadefTag:
        return self.tags.create(ctx, namespace, name)

    def create_tags(self, ctx, namespace: str, body: dict, append: bool = False) -> list[MetadefTag]:
        return self.tags.create_many(ctx, namespace, body, append)

    def update_tag(self, ctx, namespace: str, name: str, body: dict) -> MetadefTag:
        return self.tags.update(ctx, namespace, name, body)

    def delete_tag(self, ctx, namespace: str, name: str) -> None:
        self.tags.delete(ctx, namespace, name)

    # resource types and associations

    def list_resource_types(self) -> list[MetadefResourceType]:
        return self.resource_types.list()

    def list_associations(self, ctx, namespace: str) -> list[Association]:
        return self.associations.list(ctx, namespace)

    def create_association(self, ctx, namespace: str, body: dict) -> Association:
        return self.associations.create(ctx, namespace, body)

    def delete_association(self, ctx, namespace: str, resource_type: str) -> None:
        self.associations.delete(ctx, namespace, resource_type)
