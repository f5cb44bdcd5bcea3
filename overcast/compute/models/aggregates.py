"""Compute tables: host aggregates, their member hosts and their metadata.

An aggregate whose metadata has ``availability_zone`` puts its hosts in that zone; the
aggregates service copies the zone into the hosts' ``compute_services.zone``, which is
what the scheduler and the zone listings read.
"""

from __future__ import annotations

import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from overcast.common.db import Base, utcnow


class Aggregate(Base):
    __tablename__ = "compute_aggregates"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)


class AggregateHost(Base):
    __tablename__ = "compute_aggregate_hosts"
    __table_args__ = (Index("ix_compute_aggregate_hosts_host", "host"),)
    aggregate_id: Mapped[int] = mapped_column(ForeignKey("compute_aggregates.id", ondelete="CASCADE"),
                                              primary_key=True)
    host: Mapped[str] = mapped_column(String(255), primary_key=True)


class AggregateMetadata(Base):
    __tablename__ = "compute_aggregate_metadata"
    aggregate_id: Mapped[int] = mapped_column(ForeignKey("compute_aggregates.id", ondelete="CASCADE"),
                                              primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))
