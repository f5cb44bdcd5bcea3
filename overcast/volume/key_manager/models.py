"""The local key manager's table: one row per key, the material sealed with Fernet."""

from __future__ import annotations

import datetime

from sqlalchemy import DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from overcast.common.db import Base, utcnow


class VolumeKey(Base):
    __tablename__ = "volume_keys"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str | None] = mapped_column(String(255), index=True)
    algorithm: Mapped[str] = mapped_column(String(32), default="AES")
    bit_length: Mapped[int] = mapped_column(Integer)
    sealed: Mapped[str] = mapped_column(Text)  # Fernet token of the material, credential keys
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)
