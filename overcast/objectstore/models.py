"""Object storage tables: account metadata, containers and the object index.

Listings read the index, never the disk: objects are ordered by name (byte order on
every backend: binary collation on MariaDB, "C" on PostgreSQL) under an index on
(container, name), so a page costs the same at the millionth object as at the tenth.
Uniqueness goes through ``name_hash`` (sha1 of the name), because MariaDB cannot put a
unique key on 1024 four-byte characters. The bytes live in the blob store; ``location``
points at them. Containers that sync to another container log their changes in
``objectstore_changes``.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Boolean, Double, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from overcast.common.db import Base


def _bytewise(length: int):
    return (String(length).with_variant(String(length, collation="utf8mb4_bin"), "mysql", "mariadb")
            .with_variant(String(length, collation="C"), "postgresql"))


class SwiftAccount(Base):
    __tablename__ = "objectstore_accounts"
    account: Mapped[str] = mapped_column(String(255), primary_key=True)
    meta: Mapped[dict] = mapped_column(JSON, default=dict)  # header name (lower case) -> value
    created_at: Mapped[float] = mapped_column(Double)


class SwiftContainer(Base):
    __tablename__ = "objectstore_containers"
    __table_args__ = (UniqueConstraint("account", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    account: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(_bytewise(256))
    object_count: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes_used: Mapped[int] = mapped_column(BigInteger, default=0)
    read_acl: Mapped[str | None] = mapped_column(Text)
    write_acl: Mapped[str | None] = mapped_column(Text)
    meta: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[float] = mapped_column(Double)
    updated_at: Mapped[float] = mapped_column(Double)
    # container sync (objectstore/sync.py): the last change sent, and until when one
    # process's syncer holds the container
    sync_point: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    sync_lease: Mapped[float | None] = mapped_column(Double)


class SwiftObject(Base):
    __tablename__ = "objectstore_objects"
    __table_args__ = (
        UniqueConstraint("container_id", "name_hash"),
        Index("ix_objectstore_objects_listing", "container_id", "name", mysql_length={"name": 700}),
    )
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    container_id: Mapped[int] = mapped_column(ForeignKey("objectstore_containers.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(_bytewise(1024))
    name_hash: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(BigInteger)
    etag: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(256))
    last_modified: Mapped[float] = mapped_column(Double)
    meta: Mapped[dict] = mapped_column(JSON, default=dict)  # x-object-meta-*, content-disposition, ...
    location: Mapped[str | None] = mapped_column(String(512))
    delete_at: Mapped[int | None] = mapped_column(BigInteger, index=True)
    manifest: Mapped[str | None] = mapped_column(Text)  # X-Object-Manifest (dynamic large object)
    static_manifest: Mapped[bool] = mapped_column(Boolean, default=False)
    segments: Mapped[int] = mapped_column(Integer, default=0)


class SwiftChange(Base):
    """A container's change log for container sync: an upload (``deleted`` False) or a
    deletion of ``name`` at ``stamp`` (the object's X-Timestamp). Uploads are written while
    the container has ``X-Container-Sync-To``; deletions also while it has only a sync key,
    as the tombstones that keep an older synced upload from coming back."""

    __tablename__ = "objectstore_changes"
    # ids only grow (the syncer's point is one): SQLite's AUTOINCREMENT never reuses a deleted one
    __table_args__ = (Index("ix_objectstore_changes_name", "container_id", "name_hash"), {"sqlite_autoincrement": True})
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    container_id: Mapped[int] = mapped_column(ForeignKey("objectstore_containers.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(_bytewise(1024))
    name_hash: Mapped[str] = mapped_column(String(40))
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    stamp: Mapped[float] = mapped_column(Double)
