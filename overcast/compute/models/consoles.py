"""Console tokens: one row per remote console URL handed out (Nova's console_auth_tokens).

Only the SHA-256 of the token is stored, so the table alone opens no console. A row says
which instance, on which compute host, and where its console listened when the token was
made (``port`` for TCP, ``path`` for a unix socket); ``expires`` is a UTC time. The proxy
deletes the row when it takes the token: each token opens one connection.
"""

from __future__ import annotations

import datetime

from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from overcast.common.db import Base


class ConsoleToken(Base):
    __tablename__ = "compute_console_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    console_type: Mapped[str] = mapped_column(String(32))  # novnc
    instance_uuid: Mapped[str] = mapped_column(String(36), index=True)
    host: Mapped[str] = mapped_column(String(255))  # the compute host the instance runs on
    port: Mapped[int | None] = mapped_column(Integer)
    path: Mapped[str | None] = mapped_column(String(255))
    internal_access_path: Mapped[str | None] = mapped_column(String(255))
    access_url_base: Mapped[str] = mapped_column(String(255))
    expires: Mapped[datetime.datetime] = mapped_column(DateTime, index=True)
