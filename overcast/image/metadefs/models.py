"""Metadata definition tables (Glance's ``metadef_*``), prefixed ``image_metadef_``.

Property specs, an object's properties and its ``required`` list are JSON documents
stored as text; the service encodes and decodes them. Children point at their namespace
by its integer id, so renaming a namespace touches one row, and deleting one cascades.
"""

from __future__ import annotations

import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from overcast.common.db import Base, utcnow

NAME = String(80)  # Glance's limit on namespace, object, property, tag and resource type names


def _namespace_fk(short: str) -> ForeignKey:
    """The child's key to its namespace; named short, as MySQL allows 64 characters."""
    return ForeignKey("image_metadef_namespaces.id", ondelete="CASCADE", name=f"fk_image_metadef_{short}_namespace")


class MetadefNamespace(Base):
    __tablename__ = "image_metadef_namespaces"
    __table_args__ = (UniqueConstraint("namespace"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    namespace: Mapped[str] = mapped_column(NAME)
    display_name: Mapped[str | None] = mapped_column(NAME)
    description: Mapped[str | None] = mapped_column(Text)
    visibility: Mapped[str] = mapped_column(String(32), default="private")
    protected: Mapped[bool] = mapped_column(Boolean, default=False)
    owner: Mapped[str | None] = mapped_column(String(255), index=True)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)


class MetadefObject(Base):
    __tablename__ = "image_metadef_objects"
    __table_args__ = (UniqueConstraint("namespace_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    namespace_id: Mapped[int] = mapped_column(Integer, _namespace_fk("objects"))
    name: Mapped[str] = mapped_column(NAME)
    description: Mapped[str | None] = mapped_column(Text)
    required: Mapped[str | None] = mapped_column(Text)  # JSON list of property names
    properties: Mapped[str] = mapped_column(Text, default="{}")  # JSON {name: property spec}
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)


class MetadefProperty(Base):
    __tablename__ = "image_metadef_properties"
    __table_args__ = (UniqueConstraint("namespace_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    namespace_id: Mapped[int] = mapped_column(Integer, _namespace_fk("properties"))
    name: Mapped[str] = mapped_column(NAME)
    spec: Mapped[str] = mapped_column(Text, default="{}")  # JSON: title, type, enum, ... (not name)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)


class MetadefTag(Base):
    __tablename__ = "image_metadef_tags"
    __table_args__ = (UniqueConstraint("namespace_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    namespace_id: Mapped[int] = mapped_column(Integer, _namespace_fk("tags"))
    name: Mapped[str] = mapped_column(NAME)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)


class MetadefResourceType(Base):
    __tablename__ = "image_metadef_resource_types"
    __table_args__ = (UniqueConstraint("name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(NAME)
    protected: Mapped[bool] = mapped_column(Boolean, default=False)  # True for the seeded ones
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)


class MetadefAssociation(Base):
    """A namespace applies to a resource type (with a key prefix, e.g. ``hw:``)."""

    __tablename__ = "image_metadef_namespace_resource_types"
    namespace_id: Mapped[int] = mapped_column(Integer, _namespace_fk("assoc"), primary_key=True)
    resource_type_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("image_metadef_resource_types.id", ondelete="CASCADE",
                            name="fk_image_metadef_assoc_resource_type"), primary_key=True, index=True)
    prefix: Mapped[str | None] = mapped_column(NAME)
    properties_target: Mapped[str | None] = mapped_column(NAME)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)
