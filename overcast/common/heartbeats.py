"""Service heartbeats: every service and agent reports in; `overcast status` reads them.

A reporter casts ``heartbeat`` on the ``heartbeat`` topic every ``INTERVAL`` seconds; the
controller's consumer writes the time it was seen, and the ``configurations`` the beat
carries, if any (as Neutron agents report theirs: a network agent's tunnel endpoint). A service is up while its last beat
is younger than ``DOWN_AFTER`` seconds (nova's service_down_time works the same way).
"""

from __future__ import annotations

import asyncio
import datetime
import json
import logging

from sqlalchemy import DateTime, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from overcast.common.db import Base, Database, utcnow

INTERVAL = 10.0
DOWN_AFTER = 60.0
TOPIC = "heartbeat"
log = logging.getLogger(__name__)


class ServiceRecord(Base):
    __tablename__ = "service_heartbeats"
    binary: Mapped[str] = mapped_column(String(64), primary_key=True)
    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    topic: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)
    last_seen: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)
    configurations: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON, as the last beat reported

    def reported(self) -> dict:
        """The configurations of the last beat ({} when it carried none)."""
        try:
            return json.loads(self.configurations) if self.configurations else {}
        except ValueError:
            return {}


def record(db: Database, binary: str, host: str, topic: str = "", configurations: dict | None = None) -> None:
    """Store one beat (insert the service on its first beat)."""
    reported = json.dumps(configurations, sort_keys=True) if configurations else None
    with db.session() as session:
        row = session.get(ServiceRecord, (binary, host))
        if row is None:
            session.add(ServiceRecord(binary=binary, host=host, topic=topic, configurations=reported))
        else:
            row.last_seen = utcnow()
            row.topic = topic
            row.configurations = reported


def list_services(db: Database, now: datetime.datetime | None = None) -> list[dict]:
    """Every service seen, with ``state`` 'up' or 'down' from the age of its last beat."""
    now = now or utcnow()
    with db.session() as session:
        rows = session.scalars(select(ServiceRecord).order_by(ServiceRecord.binary)).all()
        return [
            {
                "binary": row.binary,
                "host": row.host,
                "topic": row.topic,
                "last_seen": row.last_seen,
                "state": "up" if (now - row.last_seen).total_seconds() < DOWN_AFTER else "down",
            }
            for row in rows
        ]


async def serve(bus, db: Database) -> None:
    """Consume heartbeats on the bus and store them (runs on the controller)."""

    async def on_heartbeat(payload: dict) -> None:
        await asyncio.to_thread(record, db, payload["binary"], payload["host"], payload.get("topic", ""),
                                payload.get("configurations"))

    await bus.serve(TOPIC, {"heartbeat": on_heartbeat})


async def report_forever(bus, binary: str, host: str, topic: str = "", configurations: dict | None = None) -> None:
    """Cast a beat now and every INTERVAL seconds until cancelled; bus errors are logged.
    ``configurations``: what each beat reports besides being alive (JSON-able)."""
    beat = {"binary": binary, "host": host, "topic": topic}
    if configurations:
        beat["configurations"] = configurations
    while True:
        try:
            await bus.cast(TOPIC, "heartbeat", beat)
        except Exception:  # the broker may be restarting; the next beat tries again
            log.warning("heartbeat from %s on %s not sent", binary, host, exc_info=True)
        await asyncio.sleep(INTERVAL)
