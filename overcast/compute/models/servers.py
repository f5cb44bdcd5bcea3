"""Compute tables: instances (servers) and what hangs off them.

An instance row keeps a copy of its flavor (``flavor``, JSON) so a flavor deleted later
never changes a running server, as Nova's embedded flavor does; ``old_flavor`` holds the
previous one while a resize waits for confirmation. Deleting a server marks the row
(``deleted``/``deleted_at``), so ``changes-since`` listings and instance actions still
find it.
"""

from __future__ import annotations

import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from overcast.common.db import Base, utcnow


class Instance(Base):
    __tablename__ = "compute_instances"
    __table_args__ = (
        Index("ix_compute_instances_project_created", "project_id", "deleted", "created_at"),
        Index("ix_compute_instances_usage", "project_id", "deleted", "vcpus", "memory_mb"),  # covers quota sums
        Index("ix_compute_instances_host", "host"),
        Index("ix_compute_instances_updated", "updated_at"),
    )
    uuid: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(255))
    display_description: Mapped[str | None] = mapped_column(Text)
    hostname: Mapped[str] = mapped_column(String(255), default="")
    image_ref: Mapped[str] = mapped_column(String(255), default="")
    kernel_id: Mapped[str] = mapped_column(String(255), default="", server_default="")  # the image's property
    ramdisk_id: Mapped[str] = mapped_column(String(255), default="", server_default="")
    flavor_id: Mapped[str] = mapped_column(String(255))
    flavor: Mapped[dict] = mapped_column(JSON)
    old_flavor: Mapped[dict | None] = mapped_column(JSON)
    vcpus: Mapped[int] = mapped_column(Integer)
    memory_mb: Mapped[int] = mapped_column(Integer)
    root_gb: Mapped[int] = mapped_column(Integer)
    ephemeral_gb: Mapped[int] = mapped_column(Integer, default=0)
    key_name: Mapped[str | None] = mapped_column(String(255))
    key_data: Mapped[str | None] = mapped_column(Text)
    user_data: Mapped[str | None] = mapped_column(Text)  # base64, as the API takes it
    config_drive: Mapped[bool] = mapped_column(Boolean, default=False)
    availability_zone: Mapped[str | None] = mapped_column(String(255))
    requested_zone: Mapped[str | None] = mapped_column(String(255))
    host: Mapped[str | None] = mapped_column(String(255))
    node: Mapped[str | None] = mapped_column(String(255))
    vm_state: Mapped[str] = mapped_column(String(32), default="building")
    task_state: Mapped[str | None] = mapped_column(String(32))
    power_state: Mapped[int] = mapped_column(Integer, default=0)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    locked_by: Mapped[str | None] = mapped_column(String(16))  # owner | admin
    locked_reason: Mapped[str | None] = mapped_column(Text)
    access_ip_v4: Mapped[str | None] = mapped_column(String(64))
    access_ip_v6: Mapped[str | None] = mapped_column(String(64))
    reservation_id: Mapped[str] = mapped_column(String(255), default="")
    launch_index: Mapped[int] = mapped_column(Integer, default=0)
    security_groups: Mapped[list] = mapped_column(JSON, default=list)
    networks: Mapped[list | str | None] = mapped_column(JSON)  # what the create request asked for
    addresses: Mapped[dict] = mapped_column(JSON, default=dict)  # network name -> [{addr, version, type, mac}]
    block_devices: Mapped[list] = mapped_column(JSON, default=list)
    system_metadata: Mapped[dict] = mapped_column(JSON, default=dict)  # shelved image, rescue, ...
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)
    launched_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    terminated_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)


class InstanceMetadata(Base):
    __tablename__ = "compute_instance_metadata"
    instance_uuid: Mapped[str] = mapped_column(
        String(36), ForeignKey("compute_instances.uuid", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))


class InstanceTag(Base):
    __tablename__ = "compute_instance_tags"
    instance_uuid: Mapped[str] = mapped_column(
        String(36), ForeignKey("compute_instances.uuid", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(80), primary_key=True)


class InstanceAction(Base):
    """One API request against a server (create, reboot, ...), for os-instance-actions."""

    __tablename__ = "compute_instance_actions"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    instance_uuid: Mapped[str] = mapped_column(
        String(36), ForeignKey("compute_instances.uuid", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(64))
    request_id: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[str] = mapped_column(String(255))
    project_id: Mapped[str] = mapped_column(String(255))
    message: Mapped[str | None] = mapped_column(String(255))
    start_time: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)
    finish_time: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    updated_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)


class InstanceActionEvent(Base):
    __tablename__ = "compute_instance_action_events"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("compute_instance_actions.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(String(255))
    host: Mapped[str | None] = mapped_column(String(255))
    result: Mapped[str | None] = mapped_column(String(32))  # Success | Error
    traceback: Mapped[str | None] = mapped_column(Text)
    details: Mapped[str | None] = mapped_column(Text)
    start_time: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)
    finish_time: Mapped[datetime.datetime | None] = mapped_column(DateTime)


class InstanceFault(Base):
    """Why a server went to ERROR; the newest one is the ``fault`` in its body."""

    __tablename__ = "compute_instance_faults"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    instance_uuid: Mapped[str] = mapped_column(
        String(36), ForeignKey("compute_instances.uuid", ondelete="CASCADE"), index=True
    )
    code: Mapped[int] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(String(255))
    details: Mapped[str | None] = mapped_column(Text)
    host: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)
