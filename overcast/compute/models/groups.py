"""Compute tables: server groups (os-server-groups) and their members.

A group has one policy (``affinity``, ``anti-affinity``, ``soft-affinity`` or
``soft-anti-affinity``) and, for anti-affinity from microversion 2.64, ``rules``
(``{"max_server_per_host": n}``). A member row names an instance by uuid only, with no
foreign key to the instance table: a member whose server is deleted simply stops being
shown, as Nova hides deleted members; deleting the group takes its member rows with it.
"""

from __future__ import annotations

import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from overcast.common.db import Base, utcnow


class ServerGroup(Base):
    __tablename__ = "compute_server_groups"
    __table_args__ = (Index("ix_compute_server_groups_project", "project_id"),)
    # the integer key keeps listings in creation order for limit/offset paging
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    project_id: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[str] = mapped_column(String(255))
    policy: Mapped[str] = mapped_column(String(32))
    rules: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)


class ServerGroupMember(Base):
    __tablename__ = "compute_server_group_members"
    __table_args__ = (Index("ix_compute_server_group_members_instance", "instance_uuid"),)
    group_uuid: Mapped[str] = mapped_column(
        String(36), ForeignKey("compute_server_groups.uuid", ondelete="CASCADE"), primary_key=True
    )
    instance_uuid: Mapped[str] = mapped_column(String(36), primary_key=True)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)
