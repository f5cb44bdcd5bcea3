"""Compute quota classes: named sets of limits (Nova's quota_classes table).

Only the class named ``default`` takes effect: its values replace the configured defaults
that every project without its own limit gets. Other classes can be stored and shown, as
Nova allows, but nothing reads them.
"""

from __future__ import annotations

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from overcast.common.db import Base


class QuotaClass(Base):
    __tablename__ = "compute_quota_classes"
    class_name: Mapped[str] = mapped_column(String(255), primary_key=True)
    resource: Mapped[str] = mapped_column(String(64), primary_key=True)
    hard_limit: Mapped[int] = mapped_column(Integer)
