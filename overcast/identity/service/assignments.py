"""Role assignments: a role given to a user or group on a project, a domain or the system."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select

from overcast.identity import errors
from overcast.identity.models import Assignment, Domain, Group, GroupMember, Project, Role, User
from overcast.identity.service.base import SubService

SYSTEM = "system"
ACTORS = {"user": ("User", User, errors.UserNotFound), "group": ("Group", Group, errors.GroupNotFound)}
TARGETS = {
    "project": ("Project", Project, errors.ProjectNotFound),
    "domain": ("Domain", Domain, errors.DomainNotFound),
    "system": ("System", None, None),
}


@dataclass
class Grant:
    """One assignment as /v3/role_assignments reports it."""

    role_id: str
    actor_kind: str  # user | group
    actor_id: str
    target_kind: str  # project | domain | system
    target_id: str
    inherited: bool = False
    via_group: str | None = None  # set in effective listings for roles a group gave


def _split(kind: str) -> tuple[str, str]:
    for actor in ("User", "Group"):
        if kind.startswith(actor):
            return actor.lower(), kind[len(actor):].lower()
    raise ValueError(kind)


class Assignments(SubService):
    def _check(self, session, actor_kind, actor_id, target_kind, target_id, role_id) -> str:
        actor_prefix, actor_model, actor_missing = ACTORS[actor_kind]
        target_prefix, target_model, target_missing = TARGETS[target_kind]
        if session.get(Role, role_id) is None:
            raise errors.RoleNotFound(role_id)
        if session.get(actor_model, actor_id) is None:
            raise actor_missing(actor_id)
        if target_model is not None and session.get(target_model, target_id) is None:
            raise target_missing(target_id)
        return actor_prefix + target_prefix

    def grant(self, actor_kind, actor_id, target_kind, target_id, role_id, inherited=False) -> None:
        target_id = SYSTEM if target_kind == "system" else target_id
        with self.db.session() as session:
            kind = self._check(session, actor_kind, actor_id, target_kind, target_id, role_id)
            key = (kind, actor_id, target_id, role_id, inherited)
            if session.get(Assignment, key) is None:
                session.add(
                    Assignment(type=kind, actor_id=actor_id, target_id=target_id, role_id=role_id, inherited=inherited)
                )

    def check(self, actor_kind, actor_id, target_kind, target_id, role_id, inherited=False) -> None:
        target_id = SYSTEM if target_kind == "system" else target_id
        with self.db.session() as session:
            kind = self._check(session, actor_kind, actor_id, target_kind, target_id, role_id)
            if session.get(Assignment, (kind, actor_id, target_id, role_id, inherited)) is None:
                raise errors.RoleAssignmentNotFound(role_id=role_id, actor_id=actor_id, target_id=target_id)

    def revoke(self, actor_kind, actor_id, target_kind, target_id, role_id, inherited=False) -> None:
        self.check(actor_kind, actor_id, target_kind, target_id, role_id, inherited)
        target_id = SYSTEM if target_kind == "system" else target_id
        kind = ACTORS[actor_kind][0] + TARGETS[target_kind][0]
        with self.db.session() as session:
            session.execute(
                delete(Assignment).where(
                    Assignment.type == kind,
                    Assignment.actor_id == actor_id,
                    Assignment.target_id == target_id,
                    Assignment.role_id == role_id,
                    Assignment.inherited == inherited,
                )
            )
            users = [actor_id]
            if actor_kind == "group":
                users = list(session.scalars(select(GroupMember.user_id).where(GroupMember.group_id == actor_id)))
        scope = {"project_id": target_id} if target_kind == "project" else {}
        if target_kind == "domain":
            scope = {"domain_id": target_id}
        for user_id in users:
            self.identity.revocations.revoke(user_id=user_id, **scope)

    def roles_of(self, actor_kind, actor_id, target_kind, target_id, inherited=False) -> list[Role]:
        """Roles given directly to the actor on the target (a grant listing)."""
        target_id = SYSTEM if target_kind == "system" else target_id
        with self.db.session() as session:
            self._check_parties(session, actor_kind, actor_id, target_kind, target_id)
            kind = ACTORS[actor_kind][0] + TARGETS[target_kind][0]
            query = (
                select(Role)
                .join(Assignment, Assignment.role_id == Role.id)
                .where(
                    Assignment.type == kind,
                    Assignment.actor_id == actor_id,
                    Assignment.target_id == target_id,
                    Assignment.inherited == inherited,
                )
                .order_by(Role.name)
            )
            return list(session.scalars(query))

    def _check_parties(self, session, actor_kind, actor_id, target_kind, target_id) -> None:
        _, actor_model, actor_missing = ACTORS[actor_kind]
        _, target_model, target_missing = TARGETS[target_kind]
        if session.get(actor_model, actor_id) is None:
            raise actor_missing(actor_id)
        if target_model is not None and session.get(target_model, target_id) is None:
            raise target_missing(target_id)

    def delete_for_role(self, session, role_id: str) -> None:
        session.execute(delete(Assignment).where(Assignment.role_id == role_id))

    # effective roles

    def effective_roles(self, user_id: str, project_id=None, domain_id=None, system=False) -> list[str]:
        """Role ids the user holds on the scope, through groups, inheritance and implication."""
        actors = [user_id] + self.identity.groups.group_ids_of(user_id)
        with self.db.session() as session:
            if system:
                conditions = [(Assignment.target_id == SYSTEM) & (Assignment.inherited.is_(False))]
            elif domain_id:
                conditions = [(Assignment.target_id == domain_id) & (Assignment.inherited.is_(False))]
            else:
                project = session.get(Project, project_id)
                if project is None:
                    return []
                parents = self.identity.projects.ancestors(project_id)
                conditions = [
                    (Assignment.target_id == project_id) & (Assignment.inherited.is_(False)),
                    (Assignment.target_id.in_(parents + [project.domain_id])) & (Assignment.inherited.is_(True)),
                ]
            found: list[str] = []
            for condition in conditions:
                query = select(Assignment.role_id, Assignment.type).where(
                    Assignment.actor_id.in_(actors), condition
                )
                for role_id, kind in session.execute(query):
                    expected = "System" if system else ("Domain" if domain_id else None)
                    if expected and not kind.endswith(expected):
                        continue
                    if role_id not in found:
                        found.append(role_id)
        roles = self.identity.roles
        return roles.strip_domain_roles(roles.expand(found)) if found else []

    def targets_of(self, user_id: str, target_kind: str) -> list[str]:
        """Project or domain ids where the user holds any role (directly or by group)."""
        actors = [user_id] + self.identity.groups.group_ids_of(user_id)
        suffix = TARGETS[target_kind][0]
        with self.db.session() as session:
            rows = session.execute(
                select(Assignment.target_id, Assignment.type, Assignment.inherited).where(
                    Assignment.actor_id.in_(actors)
                )
            ).all()
            direct = {t for t, kind, inherited in rows if kind.endswith(suffix) and not inherited}
            if target_kind == "project":
                inherited_domains = {t for t, kind, inherited in rows if kind.endswith("Domain") and inherited}
                if inherited_domains:
                    direct |= set(
                        session.scalars(select(Project.id).where(Project.domain_id.in_(inherited_domains)))
                    )
        return sorted(direct)

    # listing

    def list(self, filters: dict, effective: bool = False) -> list[Grant]:
        """Assignments matching filters: user_id, group_id, role_id, project_id, domain_id, system."""
        query = select(Assignment)
        if filters.get("role_id"):
            query = query.where(Assignment.role_id == filters["role_id"])
        target = filters.get("project_id") or filters.get("domain_id")
        if filters.get("system"):
            target = SYSTEM
        with self.db.session() as session:
            rows = list(session.scalars(query))
            grants = [
                Grant(r.role_id, *_split(r.type)[:1], r.actor_id, _split(r.type)[1], r.target_id, r.inherited)
                for r in rows
            ]
            if effective:
                grants = self._effective(session, grants)
                kept = set(self.identity.roles.strip_domain_roles(list({g.role_id for g in grants})))
                grants = [g for g in grants if g.role_id in kept]
        result = []
        for grant in grants:
            if filters.get("user_id") and (grant.actor_kind != "user" or grant.actor_id != filters["user_id"]):
                continue
            if filters.get("group_id") and (grant.actor_kind != "group" or grant.actor_id != filters["group_id"]):
                continue
            if target and grant.target_id != target:
                continue
            if filters.get("project_id") and grant.target_kind != "project":
                continue
            if filters.get("domain_id") and grant.target_kind != "domain":
                continue
            result.append(grant)
        return result

    def _effective(self, session, grants: list[Grant]) -> list[Grant]:
        """Expand groups into their members and implied roles; inherited grants onto projects."""
        members: dict[str, list[str]] = {}
        for group_id, user_id in session.execute(select(GroupMember.group_id, GroupMember.user_id)):
            members.setdefault(group_id, []).append(user_id)
        implied = self.identity.roles.implications()
        expanded: list[Grant] = []
        for grant in grants:
            targets = [(grant.target_kind, grant.target_id)]
            if grant.inherited:
                query = select(Project.id).where(
                    Project.domain_id == grant.target_id
                    if grant.target_kind == "domain"
                    else Project.parent_id == grant.target_id
                )
                targets = [("project", pid) for pid in session.scalars(query)]
            actors = [("user", grant.actor_id, None)]
            if grant.actor_kind == "group":
                actors = [("user", uid, grant.actor_id) for uid in members.get(grant.actor_id, [])]
            roles, pending = [], [grant.role_id]
            while pending:
                role = pending.pop(0)
                if role not in roles:
                    roles.append(role)
                    pending.extend(implied.get(role, []))
            for target_kind, target_id in targets:
                for actor_kind, actor_id, via in actors:
                    for role in roles:
                        expanded.append(Grant(role, actor_kind, actor_id, target_kind, target_id, False, via))
        return expanded
