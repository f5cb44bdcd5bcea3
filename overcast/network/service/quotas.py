"""Network quotas: limits per project (defaults unless set), usage counted from the
rows themselves, so there is no usage table to drift. A create checks in the same
transaction as its insert, after the insert, so racing creates cannot both squeeze
past the limit on backends that serialize them (and at worst overshoot by the racers
on SQLite's single writer, which serializes anyway)."""

from __future__ import annotations

from sqlalchemy import delete, func, select

from overcast.network.errors import OverQuota
from overcast.network.models import (FloatingIP, Network, NetworkQuota, Port, Router, SecurityGroup,
                                     SecurityGroupRule, Subnet, SubnetPool)

DEFAULTS = {"network": 100, "subnet": 100, "subnetpool": -1, "port": 500, "router": 10, "floatingip": 50,
            "security_group": 10, "security_group_rule": 100, "rbac_policy": 10}
MODELS = {"network": Network, "subnet": Subnet, "subnetpool": SubnetPool, "port": Port, "router": Router,
          "floatingip": FloatingIP, "security_group": SecurityGroup, "security_group_rule": SecurityGroupRule}


class Quotas:
    def __init__(self, db, defaults: dict[str, int] | None = None):
        self.db = db
        self.defaults = {**DEFAULTS, **(defaults or {})}

    def limits(self, project_id: str, session=None) -> dict[str, int]:
        query = select(NetworkQuota.resource, NetworkQuota.limit).where(NetworkQuota.project_id == project_id)
        if session is None:
            with self.db.session() as own:
                rows = own.execute(query).all()
        else:
            rows = session.execute(query).all()
        return {**self.defaults, **dict(rows)}

    def used(self, session, project_id: str, resource: str) -> int:
        model = MODELS.get(resource)
        if model is None:
            return 0
        return session.scalar(select(func.count()).select_from(model).where(model.project_id == project_id))

    def usage(self, project_id: str) -> dict[str, dict]:
        with self.db.session() as session:
            limits = self.limits(project_id, session)
            return {name: {"limit": limit, "used": self.used(session, project_id, name), "reserved": 0}
                    for name, limit in limits.items()}

    def check(self, session, project_id: str, resource: str) -> None:
        """Raise OverQuota if ``project_id`` now holds more ``resource`` than allowed.

        Called after the new rows are flushed in ``session``, so they count."""
        limit = self.limits(project_id, session)[resource]
        if limit >= 0 and self.used(session, project_id, resource) > limit:
            raise OverQuota(overs=f"['{resource}']")

    def projects(self) -> list[str]:
        with self.db.session() as session:
            return list(session.scalars(select(NetworkQuota.project_id).distinct()))

    def update(self, project_id: str, values: dict[str, int]) -> dict[str, int]:
        with self.db.session() as session:
            for resource, limit in values.items():
                row = session.get(NetworkQuota, (project_id, resource))
                if row is None:
                    session.add(NetworkQuota(project_id=project_id, resource=resource, limit=limit))
                else:
                    row.limit = limit
        return self.limits(project_id)

    def reset(self, project_id: str) -> None:
        with self.db.session() as session:
            session.execute(delete(NetworkQuota).where(NetworkQuota.project_id == project_id))
