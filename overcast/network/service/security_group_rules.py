"""Security group rules: create (one or a bulk list, all or nothing), show, list,
delete; rules are never updated. The checks are :mod:`rule_checks`; here the group and
the remote group must exist and be the caller's, a rule may not repeat one the group
has (409 SecurityGroupRuleExists), and the project's rule quota holds.

A rule is visible to its own project and to its group's project (Neutron's
``get_security_group_rule`` rule reads ``security_group:project_id``).
"""

from __future__ import annotations

from sqlalchemy import or_, select

from overcast.common.times import iso_seconds
from overcast.network import errors
from overcast.network.models import SecurityGroup, SecurityGroupRule
from overcast.network.service import rule_checks
from overcast.network.service.default_groups import ensure_default
from overcast.network.service.records import bump

FIELDS = ("security_group_id", "direction", "ethertype", "protocol", "port_range_min", "port_range_max",
          "remote_ip_prefix", "remote_group_id")


def rule_dict(row: SecurityGroupRule, group_project: str | None = None) -> dict:
    found = {"id": row.id, "project_id": row.project_id, "tenant_id": row.project_id,
             **{name: getattr(row, name) for name in FIELDS}, "description": row.description or "",
             "created_at": iso_seconds(row.created_at), "updated_at": iso_seconds(row.updated_at),
             "revision_number": row.revision_number}
    if group_project is not None:
        found["_policy"] = {"security_group:project_id": group_project}
    return found


class SecurityGroupRules:
    model = SecurityGroupRule

    def __init__(self, service):
        self.service = service
        self.db = service.db
        self.quotas = service.quotas

    @staticmethod
    def _query(ctx):
        query = select(SecurityGroupRule, SecurityGroup.project_id).join(
            SecurityGroup, SecurityGroup.id == SecurityGroupRule.security_group_id)
        if not ctx.is_admin:
            mine = ctx.project_id or ""
            query = query.where(or_(SecurityGroupRule.project_id == mine, SecurityGroup.project_id == mine))
        return query

    def get(self, ctx, rule_id: str) -> dict:
        with self.db.session() as session:
            found = session.execute(self._query(ctx).where(SecurityGroupRule.id == rule_id)).first()
            if found is None:
                raise errors.SecurityGroupRuleNotFound(id=rule_id)
            return rule_dict(*found)

    def list(self, ctx, filters: dict) -> list[dict]:
        wanted = filters.get("project_id") or filters.get("tenant_id")
        project = wanted[0] if wanted else ctx.project_id
        if project and (ctx.is_admin or project == ctx.project_id):
            ensure_default(self.db, project)
        query = self._query(ctx)
        for name in ("id", "security_group_id", "direction", "ethertype", "remote_group_id"):
            if name in filters:
                query = query.where(getattr(SecurityGroupRule, name).in_(filters[name]))
        with self.db.session() as session:
            rows = session.execute(query.order_by(SecurityGroupRule.created_at, SecurityGroupRule.id)).all()
            return [rule_dict(*found) for found in rows]

    def _group(self, session, ctx, group_id: str) -> SecurityGroup:
        query = select(SecurityGroup).where(SecurityGroup.id == group_id)
        if not ctx.is_admin:
            query = query.where(SecurityGroup.project_id == (ctx.project_id or ""))
        row = session.scalars(query).first()
        if row is None:
            raise errors.SecurityGroupNotFound(id=group_id)
        return row

    def create(self, ctx, items: list[dict]) -> list[dict]:
        rules = [dict(values) for values in items]
        if len({rule["security_group_id"] for rule in rules}) > 1:
            raise errors.SecurityGroupNotSingleGroupRules()
        if len({rule["project_id"] for rule in rules}) > 1:
            raise errors.SecurityGroupRulesNotSingleTenant()
        for rule in rules:
            rule_checks.validate(rule)
        with self.db.session() as session:
            for rule in rules:
                if rule.get("remote_group_id"):
                    self._group(session, ctx, rule["remote_group_id"])
            group = self._group(session, ctx, rules[0]["security_group_id"])
            self._check_duplicates(session, group.id, rules)
            rows = [SecurityGroupRule(**{name: rule.get(name) for name in FIELDS}, project_id=rule["project_id"],
                                      description=rule.get("description") or "") for rule in rules]
            session.add_all(rows)
            bump(group)
            session.flush()
            for project_id in {row.project_id for row in rows}:
                self.quotas.check(session, project_id, "security_group_rule")
            result = [rule_dict(row, group.project_id) for row in rows]
        self.service.agents.security_groups_changed([group.id])
        return result

    @staticmethod
    def _check_duplicates(session, group_id: str, rules: list[dict]) -> None:
        new: set[tuple] = set()
        for rule in rules:
            key = rule_checks.key(rule)
            if key in new:
                raise errors.DuplicateSecurityGroupRuleInPost()
            new.add(key)
        for row in session.scalars(select(SecurityGroupRule).where(SecurityGroupRule.security_group_id == group_id)):
            if rule_checks.key({name: getattr(row, name) for name in (*FIELDS, "remote_address_group_id")}) in new:
                raise errors.SecurityGroupRuleExists(rule_id=row.id)

    def update(self, ctx, rule_id: str, values: dict) -> dict:
        raise errors.HTTPBadRequest("Cannot update read-only attribute")

    def delete(self, ctx, rule_id: str) -> None:
        with self.db.session() as session:
            row = session.get(SecurityGroupRule, rule_id)
            if row is None:
                raise errors.SecurityGroupRuleNotFound(id=rule_id)
            group_id = row.security_group_id
            group = session.get(SecurityGroup, group_id)
            if group is not None:
                bump(group)
            session.delete(row)
        self.service.agents.security_groups_changed([group_id])
