"""Each project's ``default`` security group, made on first need (listing groups,
creating a port) with Neutron's four default rules: all egress and ingress from the
group itself, for IPv4 and IPv6. ``DefaultSecurityGroup`` (project as primary key)
makes two first requests racing each other create one group, not two."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from overcast.network.models import DefaultSecurityGroup, SecurityGroup, SecurityGroupRule

DESCRIPTION = "Default security group"


def default_rules(group: SecurityGroup) -> list[SecurityGroupRule]:
    return [SecurityGroupRule(security_group_id=group.id, project_id=group.project_id, direction=direction,
                              ethertype=ethertype, remote_group_id=group.id if direction == "ingress" else None)
            for direction in ("ingress", "egress") for ethertype in ("IPv4", "IPv6")]


def ensure_default(db, project_id: str) -> str:
    """The id of ``project_id``'s default group, created (in its own transaction) if needed."""
    if not project_id:
        return ""
    with db.session() as session:
        found = session.scalar(select(DefaultSecurityGroup.security_group_id)
                               .where(DefaultSecurityGroup.project_id == project_id))
    if found:
        return found
    try:
        with db.session() as session:
            group = SecurityGroup(project_id=project_id, name="default", description=DESCRIPTION)
            session.add(group)
            session.flush()
            session.add(DefaultSecurityGroup(project_id=project_id, security_group_id=group.id))
            session.add_all(default_rules(group))
            return group.id
    except IntegrityError:  # another request made it first
        with db.session() as session:
            return session.scalar(select(DefaultSecurityGroup.security_group_id)
                                  .where(DefaultSecurityGroup.project_id == project_id))
