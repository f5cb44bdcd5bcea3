"""Neutron's standard attributes, as a mixin every resource table uses."""

from __future__ import annotations

import datetime
import uuid

from sqlalchemy import DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from overcast.common.db import utcnow


def new_uuid() -> str:
    """Neutron ids are dashed UUIDs."""
    return str(uuid.uuid4())


class Standard:
    """id, project, name, description, timestamps and the revision number."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    project_id: Mapped[str] = mapped_column(String(255), index=True, default="")
    name: Mapped[str] = mapped_column(String(255), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)
    revision_number: Mapped[int] = mapped_column(Integer, default=0)
