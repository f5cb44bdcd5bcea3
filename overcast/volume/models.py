"""Block storage tables: volumes, their attachments and snapshots, volume types (with
extra specs and project access), quota limits and the cinder-* service records.

Usage is never stored: quotas count the volume and snapshot rows, so a failure anywhere
cannot leave a usage counter wrong. Deleted volumes and snapshots are removed (their
ids answer 404, as Cinder's soft-deleted rows do).
"""

from __future__ import annotations

import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from overcast.common.db import Base, utcnow


class Volume(Base):
    __tablename__ = "volume_volumes"
    __table_args__ = (Index("ix_volume_volumes_project_created", "project_id", "created_at"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    size: Mapped[int] = mapped_column(Integer)  # GiB
    status: Mapped[str] = mapped_column(String(32), default="creating")
    attach_status: Mapped[str] = mapped_column(String(32), default="detached")
    migration_status: Mapped[str | None] = mapped_column(String(32))
    availability_zone: Mapped[str] = mapped_column(String(255), default="nova")
    host: Mapped[str | None] = mapped_column(String(255))  # host@backend#pool, once scheduled
    # cluster@backend#pool when its host serves a cluster: work goes to any live member
    cluster_name: Mapped[str | None] = mapped_column(String(255))
    volume_type_id: Mapped[str | None] = mapped_column(String(36))
    snapshot_id: Mapped[str | None] = mapped_column(String(36))
    source_volid: Mapped[str | None] = mapped_column(String(36))
    image_id: Mapped[str | None] = mapped_column(String(36))
    image_metadata: Mapped[dict | None] = mapped_column(JSON)
    bootable: Mapped[bool] = mapped_column(Boolean, default=False)
    readonly: Mapped[bool] = mapped_column(Boolean, default=False)
    # Cinder's admin metadata: "readonly" ("True"/"False") once set; shown in "metadata"
    admin_meta: Mapped[dict | None] = mapped_column(JSON)
    multiattach: Mapped[bool] = mapped_column(Boolean, default=False)
    meta: Mapped[dict] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)  # why the last operation failed (user messages)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    group_id: Mapped[str | None] = mapped_column(String(36), index=True)  # a generic volume group (3.13)
    encryption_key_id: Mapped[str | None] = mapped_column(String(36))  # its key in the key manager


class Attachment(Base):
    """One volume attached (or being attached) to one server. The compute service lists a
    server's volumes from here: it keeps no block device table of its own."""

    __tablename__ = "volume_attachments"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    volume_id: Mapped[str] = mapped_column(String(36), ForeignKey("volume_volumes.id", ondelete="CASCADE"),
                                           index=True)
    instance_uuid: Mapped[str | None] = mapped_column(String(36), index=True)
    attached_host: Mapped[str | None] = mapped_column(String(255))
    mountpoint: Mapped[str | None] = mapped_column(String(255))
    attach_status: Mapped[str] = mapped_column(String(32), default="reserved")
    attach_mode: Mapped[str] = mapped_column(String(8), default="rw")
    connector: Mapped[dict | None] = mapped_column(JSON)
    connection_info: Mapped[dict | None] = mapped_column(JSON)
    delete_on_termination: Mapped[bool] = mapped_column(Boolean, default=False)
    tag: Mapped[str | None] = mapped_column(String(255))
    attached_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)


class Snapshot(Base):
    __tablename__ = "volume_snapshots"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    volume_id: Mapped[str] = mapped_column(String(36), index=True)
    project_id: Mapped[str] = mapped_column(String(255), index=True)
    user_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    size: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(32), default="creating")
    progress: Mapped[str] = mapped_column(String(8), default="0%")
    meta: Mapped[dict] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    group_snapshot_id: Mapped[str | None] = mapped_column(String(36), index=True)  # made by a group snapshot
    encryption_key_id: Mapped[str | None] = mapped_column(String(36))  # its volume's key, by reference


class VolumeType(Base):
    __tablename__ = "volume_types"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    description: Mapped[str | None] = mapped_column(String(255))
    is_public: Mapped[bool] = mapped_column(Boolean, default=True)
    extra_specs: Mapped[dict] = mapped_column(JSON, default=dict)
    qos_specs_id: Mapped[str | None] = mapped_column(String(36), index=True)
    encryption: Mapped[dict | None] = mapped_column(JSON)  # encryption_id, provider, cipher, key_size, ...
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)


class QosSpec(Base):
    """QoS specs (limits a front end or back end enforces), associated with volume types."""

    __tablename__ = "volume_qos_specs"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    consumer: Mapped[str] = mapped_column(String(16), default="back-end")
    specs: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)


class Transfer(Base):
    """A volume offered to another project: whoever has the id and the auth key accepts it.
    Only a salted SHA-256 of the key is kept."""

    __tablename__ = "volume_transfers"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    volume_id: Mapped[str] = mapped_column(String(36), ForeignKey("volume_volumes.id", ondelete="CASCADE"),
                                           index=True)
    project_id: Mapped[str] = mapped_column(String(255), index=True)
    name: Mapped[str | None] = mapped_column(String(255))
    salt: Mapped[str] = mapped_column(String(64))
    crypt_hash: Mapped[str] = mapped_column(String(64))
    no_snapshots: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)


class Backup(Base):
    """A copy of a volume's data in the object store (container ``container`` of the
    project's account): a metadata object and the non-zero chunks."""

    __tablename__ = "volume_backups"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    volume_id: Mapped[str] = mapped_column(String(36), index=True)
    snapshot_id: Mapped[str | None] = mapped_column(String(36))
    project_id: Mapped[str] = mapped_column(String(255), index=True)
    user_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(32), default="creating")
    size: Mapped[int] = mapped_column(Integer)  # GiB, the volume's size
    object_count: Mapped[int] = mapped_column(Integer, default=0)
    container: Mapped[str | None] = mapped_column(String(255))
    object_prefix: Mapped[str] = mapped_column(String(255))  # its objects' names start with this
    availability_zone: Mapped[str | None] = mapped_column(String(255))
    fail_reason: Mapped[str | None] = mapped_column(Text)
    meta: Mapped[dict] = mapped_column(JSON, default=dict)
    data_timestamp: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    parent_id: Mapped[str | None] = mapped_column(String(36), index=True)  # an incremental's previous backup
    encryption_key_id: Mapped[str | None] = mapped_column(String(36))  # a copy of its encrypted volume's key


class VolumeTypeAccess(Base):
    __tablename__ = "volume_type_access"
    volume_type_id: Mapped[str] = mapped_column(String(36), ForeignKey("volume_types.id", ondelete="CASCADE"),
                                                primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255), primary_key=True)


class QuotaLimit(Base):
    """A project's own limit for one resource; resources without a row use the default."""

    __tablename__ = "volume_quotas"
    project_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    resource: Mapped[str] = mapped_column(String(255), primary_key=True)
    hard_limit: Mapped[int] = mapped_column(Integer)


class ServiceRow(Base):
    """A cinder-scheduler or cinder-volume service (up/down comes from its heartbeats);
    an admin may disable one, with a reason."""

    __tablename__ = "volume_services"
    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    binary: Mapped[str] = mapped_column(String(64), primary_key=True)
    zone: Mapped[str] = mapped_column(String(255), default="nova")
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled_reason: Mapped[str | None] = mapped_column(String(255))
    frozen: Mapped[bool] = mapped_column(Boolean, default=False)
    capabilities: Mapped[dict] = mapped_column(JSON, default=dict)
    cluster_name: Mapped[str | None] = mapped_column(String(255))  # cluster@backend when clustered
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)


class ClusterRow(Base):
    """A cluster of cinder-volume services (Cinder's active-active ``cluster`` option),
    made when its first member registers; an admin may disable it, with a reason."""

    __tablename__ = "volume_clusters"
    name: Mapped[str] = mapped_column(String(255), primary_key=True)  # cluster@backend
    binary: Mapped[str] = mapped_column(String(64), primary_key=True)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled_reason: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)


class GroupType(Base):
    """A generic volume group type: name, public or not, and group specs."""

    __tablename__ = "volume_group_types"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    description: Mapped[str | None] = mapped_column(String(255))
    is_public: Mapped[bool] = mapped_column(Boolean, default=True)
    group_specs: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)


class Group(Base):
    """A generic volume group (3.13): volumes of the listed volume types, snapshotted together."""

    __tablename__ = "volume_groups"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255), index=True)
    user_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(32), default="creating")
    availability_zone: Mapped[str] = mapped_column(String(255), default="nova")
    group_type_id: Mapped[str] = mapped_column(String(36))
    volume_type_ids: Mapped[list] = mapped_column(JSON, default=list)
    group_snapshot_id: Mapped[str | None] = mapped_column(String(36))  # made from this group snapshot
    source_group_id: Mapped[str | None] = mapped_column(String(36))  # made from this group
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)


class GroupSnapshot(Base):
    """A snapshot of every volume of a group at once; its snapshots carry its id."""

    __tablename__ = "volume_group_snapshots"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    group_id: Mapped[str] = mapped_column(String(36), index=True)
    project_id: Mapped[str] = mapped_column(String(255), index=True)
    user_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(32), default="creating")
    group_type_id: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)


class Message(Base):
    """A user message (3.3): what went wrong with an asynchronous request, for its project."""

    __tablename__ = "volume_messages"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255), index=True)
    request_id: Mapped[str | None] = mapped_column(String(255))
    resource_type: Mapped[str | None] = mapped_column(String(64))
    resource_uuid: Mapped[str | None] = mapped_column(String(36), index=True)
    event_id: Mapped[str] = mapped_column(String(255))
    action_id: Mapped[str | None] = mapped_column(String(10))
    detail_id: Mapped[str | None] = mapped_column(String(10))
    message_level: Mapped[str] = mapped_column(String(255), default="ERROR")
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime.datetime] = mapped_column(DateTime, index=True)
