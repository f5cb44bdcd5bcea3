"""Security groups: create (one or a bulk list), show, list, update, delete.

Each project has a ``default`` group (``default_groups.ensure_default``), made when the
project first lists groups or creates one, as Neutron does. The default group cannot be
renamed, nor deleted but by an admin; no other group may be called ``default``. A new
group starts with two rules letting all IPv4 and IPv6 traffic out. A group
some port uses cannot be deleted, nor change ``stateful``. Hosts learn of every change
through ``agents.security_groups_changed`` after the commit.
"""

from __future__ import annotations

from sqlalchemy import delete, func, or_, select

from overcast.network import errors
from overcast.network.models import DefaultSecurityGroup, PortSecurityGroup, SecurityGroup, SecurityGroupRule
from overcast.network.service.default_groups import ensure_default
from overcast.network.service.records import apply, bump, own, standard, tags_of
from overcast.network.service.security_group_rules import SecurityGroupRules, rule_dict

__all__ = ["SecurityGroupRules", "SecurityGroups", "group_dict"]


def group_dict(row: SecurityGroup, rules: list[SecurityGroupRule], tags: list[str]) -> dict:
    return {**standard(row, tags), "stateful": row.stateful,
            "security_group_rules": [rule_dict(rule) for rule in rules]}


class SecurityGroups:
    model = SecurityGroup

    def __init__(self, service):
        self.service = service
        self.db = service.db
        self.quotas = service.quotas

    def _dicts(self, session, rows: list[SecurityGroup]) -> list[dict]:
        ids = [row.id for row in rows]
        rules: dict[str, list[SecurityGroupRule]] = {}
        for chunk in range(0, len(ids), 500):
            query = (select(SecurityGroupRule).where(SecurityGroupRule.security_group_id.in_(ids[chunk:chunk + 500]))
                     .order_by(SecurityGroupRule.created_at, SecurityGroupRule.id))
            for rule in session.scalars(query):
                rules.setdefault(rule.security_group_id, []).append(rule)
        tags = tags_of(session, ids)
        return [group_dict(row, rules.get(row.id, []), tags.get(row.id, [])) for row in rows]

    def find_row(self, session, ctx, group_id: str) -> SecurityGroup:
        row = session.scalars(select(SecurityGroup).where(SecurityGroup.id == group_id,
                                                          own(SecurityGroup, ctx))).first()
        if row is None:
            raise errors.SecurityGroupNotFound(id=group_id)
        return row

    def get(self, ctx, group_id: str) -> dict:
        with self.db.session() as session:
            return self._dicts(session, [self.find_row(session, ctx, group_id)])[0]

    def list(self, ctx, filters: dict) -> list[dict]:
        wanted = filters.get("project_id") or filters.get("tenant_id")
        project = wanted[0] if wanted else ctx.project_id
        if project and (ctx.is_admin or project == ctx.project_id):
            ensure_default(self.db, project)
        query = select(SecurityGroup).where(own(SecurityGroup, ctx))
        for name, column in (("id", SecurityGroup.id), ("name", SecurityGroup.name),
                             ("project_id", SecurityGroup.project_id), ("tenant_id", SecurityGroup.project_id)):
            if name in filters:
                query = query.where(column.in_(filters[name]))
        with self.db.session() as session:
            return self._dicts(session, list(session.scalars(query.order_by(SecurityGroup.created_at))))

    def default_id(self, project_id: str) -> str:
        """The project's default group (made now if it has none), for new ports."""
        return ensure_default(self.db, project_id)

    def create(self, ctx, items: list[dict]) -> list[dict]:
        for project_id in {values["project_id"] for values in items}:
            ensure_default(self.db, project_id)
        with self.db.session() as session:
            rows = []
            for values in items:
                row = SecurityGroup(stateful=True)
                apply(row, values)
                session.add(row)
                rows.append(row)
            session.flush()
            # a new group lets everything out, as Neutron's do
            session.add_all([SecurityGroupRule(security_group_id=row.id, project_id=row.project_id,
                                               direction="egress", ethertype=ethertype)
                             for row in rows for ethertype in ("IPv4", "IPv6")])
            session.flush()
            for project_id in {row.project_id for row in rows}:
                self.quotas.check(session, project_id, "security_group")
                self.quotas.check(session, project_id, "security_group_rule")
            result = self._dicts(session, rows)
        self.service.agents.security_groups_changed([row["id"] for row in result])
        return result

    def update(self, ctx, group_id: str, values: dict) -> dict:
        with self.db.session() as session:
            row = self.find_row(session, ctx, group_id)
            if "stateful" in values and values["stateful"] != row.stateful and self.in_use(session, group_id):
                raise errors.SecurityGroupInUse(id=group_id)
            if "name" in values and self.is_default(session, row):
                raise errors.SecurityGroupCannotUpdateDefault()
            apply(row, values)
            bump(row)
            session.flush()
            result = self._dicts(session, [row])[0]
        self.service.agents.security_groups_changed([group_id])
        return result

    @staticmethod
    def in_use(session, group_id: str) -> bool:
        return bool(session.scalar(select(func.count()).select_from(PortSecurityGroup)
                                   .where(PortSecurityGroup.security_group_id == group_id)))

    @staticmethod
    def is_default(session, row: SecurityGroup) -> bool:
        return row.name == "default" and bool(session.scalar(
            select(func.count()).select_from(DefaultSecurityGroup)
            .where(DefaultSecurityGroup.security_group_id == row.id)))

    def delete(self, ctx, group_id: str) -> None:
        with self.db.session() as session:
            if self.in_use(session, group_id):
                raise errors.SecurityGroupInUse(id=group_id)
            row = self.find_row(session, ctx, group_id)
            if self.is_default(session, row) and not ctx.is_admin:
                raise errors.SecurityGroupCannotRemoveDefault()
            # groups whose rules name this one as their remote group lose those rules too
            touched = set(session.scalars(select(SecurityGroupRule.security_group_id).where(
                SecurityGroupRule.remote_group_id == group_id, SecurityGroupRule.security_group_id != group_id)))
            session.execute(delete(SecurityGroupRule).where(or_(SecurityGroupRule.security_group_id == group_id,
                                                                SecurityGroupRule.remote_group_id == group_id)))
            session.execute(delete(DefaultSecurityGroup).where(DefaultSecurityGroup.security_group_id == group_id))
            for other in session.scalars(select(SecurityGroup).where(SecurityGroup.id.in_(touched))):
                bump(other)
            session.delete(row)
        self.service.agents.security_groups_changed([group_id, *sorted(touched)])
