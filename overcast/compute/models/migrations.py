"""Compute migrations: one row per cold migration, resize, live migration or evacuation
of an instance (Nova's migrations table), for os-migrations and /servers/{id}/migrations.

``old_flavor``/``new_flavor`` keep copies of the flavors (as instances keep theirs), so a
flavor deleted later changes nothing here. ``status`` follows Nova's vocabulary: a resize
goes pre-migrating → migrating → post-migrating → finished, then confirmed or reverted
(error on failure); a live migration queued → preparing → running → post-migrating →
completed (or failed, cancelled). The memory/disk counters are a live migration's progress.
"""

from __future__ import annotations

import datetime

from sqlalchemy import JSON, BigInteger, DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from overcast.common.db import Base, utcnow


class Migration(Base):
    __tablename__ = "compute_migrations"
    __table_args__ = (Index("ix_compute_migrations_instance", "instance_uuid", "created_at"),
                      Index("ix_compute_migrations_updated", "updated_at"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    instance_uuid: Mapped[str] = mapped_column(String(36))
    project_id: Mapped[str | None] = mapped_column(String(255))
    user_id: Mapped[str | None] = mapped_column(String(255))
    source_compute: Mapped[str | None] = mapped_column(String(255))
    source_node: Mapped[str | None] = mapped_column(String(255))
    dest_compute: Mapped[str | None] = mapped_column(String(255))
    dest_node: Mapped[str | None] = mapped_column(String(255))
    dest_host: Mapped[str | None] = mapped_column(String(255))  # the destination's IP address, as in Nova
    old_flavor: Mapped[dict | None] = mapped_column(JSON)
    new_flavor: Mapped[dict | None] = mapped_column(JSON)
    migration_type: Mapped[str] = mapped_column(String(32))  # migration | resize | live-migration | evacuation
    status: Mapped[str] = mapped_column(String(255))
    memory_total: Mapped[int | None] = mapped_column(BigInteger)
    memory_processed: Mapped[int | None] = mapped_column(BigInteger)
    memory_remaining: Mapped[int | None] = mapped_column(BigInteger)
    disk_total: Mapped[int | None] = mapped_column(BigInteger)
    disk_processed: Mapped[int | None] = mapped_column(BigInteger)
    disk_remaining: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)
