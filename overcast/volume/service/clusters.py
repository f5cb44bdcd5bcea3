"""Clusters of volume agents (Cinder's active-active ``cluster`` option, /clusters 3.7+):
a cluster is up while one member is; an admin may disable one, and then no new volume is
placed on its members."""

from __future__ import annotations

from sqlalchemy import select

from overcast.common.db import utcnow
from overcast.volume import errors
from overcast.volume.models import ClusterRow


class Clusters:
    def __init__(self, db, hosts):
        self.db = db
        self.hosts = hosts

    def _describe(self, row: ClusterRow, members: list[dict]) -> dict:
        seen = [m["updated_at"] for m in members if m["updated_at"] is not None]
        down = sum(1 for m in members if m["state"] != "up")
        return {"name": row.name, "binary": row.binary, "disabled": row.disabled,
                "disabled_reason": row.disabled_reason, "num_hosts": len(members), "num_down_hosts": down,
                "is_up": len(members) > down, "last_heartbeat": max(seen) if seen else None,
                "created_at": row.created_at, "updated_at": row.updated_at}

    def list(self, filters: dict | None = None) -> list[dict]:
        """Every cluster with its members' counts; ``filters``: name, binary, is_up, disabled
        (booleans already parsed)."""
        filters = filters or {}
        services = self.hosts.list()
        with self.db.session() as session:
            rows = list(session.scalars(select(ClusterRow).order_by(ClusterRow.name, ClusterRow.binary)))
        found = []
        for row in rows:
            members = [s for s in services if s["cluster"] == row.name and s["binary"] == row.binary]
            cluster = self._describe(row, members)
            if all(cluster.get(key) == value for key, value in filters.items()):
                found.append(cluster)
        return found

    def get(self, name: str, binary: str) -> dict:
        found = self.list({"name": name, "binary": binary})
        if not found:
            raise errors.ClusterNotFound(name)
        return found[0]

    def set_disabled(self, name: str, binary: str, disabled: bool, reason: str | None) -> dict:
        with self.db.session() as session:
            row = session.get(ClusterRow, (name, binary))
            if row is None:
                raise errors.ClusterNotFound(name)
            row.disabled, row.disabled_reason, row.updated_at = disabled, reason if disabled else None, utcnow()
        return self.get(name, binary)
