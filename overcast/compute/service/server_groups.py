"""Server groups: named sets of servers with a placement policy the scheduler honours.

Who sees a group: its project, and admins (Nova's rule: anyone else gets "not found",
never "forbidden"). A member is shown while its server is not deleted; a member with no
server row yet counts as live, like Nova's not-yet-scheduled build requests.

Server create uses :meth:`ServerGroups.plan` for the ``group`` scheduler hint and
:meth:`ServerGroups.add_members` once its instance rows are written; the scheduler asks
:meth:`ServerGroups.spec` when it places each instance, so later members of one request
see where earlier ones landed; server delete calls :meth:`ServerGroups.remove_member`.
"""

from __future__ import annotations

import uuid as uuidlib
from typing import Iterable

from sqlalchemy import delete, func, or_, select

from overcast.common.db import Database
from overcast.compute import errors
from overcast.compute.models import Instance, ServerGroup, ServerGroupMember
from overcast.compute.scheduler import GroupSpec

POLICIES = ("affinity", "anti-affinity", "soft-affinity", "soft-anti-affinity")


def canonical_uuid(value) -> str | None:
    """``value`` as a lower-case hyphenated uuid, or None when it is not one (the spellings
    Nova's ``is_uuid_like`` accepts: with or without hyphens, braces, ``urn:uuid:``)."""
    if not isinstance(value, str):
        return None
    try:
        return str(uuidlib.UUID(value))
    except ValueError:
        return None


def _live(query):
    """Restrict a query over ServerGroupMember to members whose server is not deleted."""
    return (query.outerjoin(Instance, Instance.uuid == ServerGroupMember.instance_uuid)
            .where(or_(Instance.uuid.is_(None), Instance.deleted.is_(False))))


class ServerGroups:
    def __init__(self, db: Database, quotas):
        self.db = db
        self.quotas = quotas

    # --- the os-server-groups resource -------------------------------------------

    def create(self, ctx, name: str, policy: str, rules: dict | None = None) -> ServerGroup:
        """A new group in the caller's project. QuotaExceeded (403) past ``server_groups``;
        the quota is checked before the insert and again after it (a racing create that
        took the last slot makes this one undo itself), as Nova's recheck does."""
        if policy not in POLICIES:
            raise errors.ComputeInvalid(f"Invalid input for field/attribute policy. Value: {policy}.")
        project_id = ctx.project_id
        self._check_group_quota(project_id, already=False)
        row = ServerGroup(uuid=str(uuidlib.uuid4()), name=name, project_id=project_id, user_id=ctx.user_id,
                          policy=policy, rules=dict(rules or {}))
        with self.db.session() as session:
            session.add(row)
        try:
            self._check_group_quota(project_id, already=True)
        except errors.QuotaExceeded:
            self._delete_rows(row.uuid)
            raise
        return row

    def get(self, ctx, group_id: str) -> ServerGroup:
        """The group, if the caller may see it; ServerGroupNotFound (404) otherwise."""
        with self.db.session() as session:
            row = session.scalars(select(ServerGroup).where(ServerGroup.uuid == str(group_id))).first()
        if row is None or not (ctx.is_admin or row.project_id == ctx.project_id):
            raise errors.ServerGroupNotFound(group_id)
        return row

    def list(self, ctx, all_projects: bool = False, limit: int | None = None, offset: int = 0) -> list[ServerGroup]:
        """The caller's project's groups (every project's with ``all_projects``), oldest
        first, ``offset`` skipped and at most ``limit`` (None: all)."""
        query = select(ServerGroup).order_by(ServerGroup.id).offset(offset)
        if not all_projects:
            query = query.where(ServerGroup.project_id == ctx.project_id)
        if limit is not None:
            query = query.limit(limit)
        with self.db.session() as session:
            return list(session.scalars(query))

    def delete(self, ctx, group_id: str) -> None:
        """Delete a visible group and its member rows (the servers stay)."""
        row = self.get(ctx, group_id)
        if not self._delete_rows(row.uuid):
            raise errors.ServerGroupNotFound(group_id)

    def members(self, group_uuids: Iterable[str]) -> dict[str, list[str]]:
        """Each group's live member instance uuids, in the order they joined."""
        wanted = list(group_uuids)
        found: dict[str, list[str]] = {group: [] for group in wanted}
        if not wanted:
            return found
        query = _live(select(ServerGroupMember.group_uuid, ServerGroupMember.instance_uuid)
                      .where(ServerGroupMember.group_uuid.in_(wanted))
                      .order_by(ServerGroupMember.created_at, ServerGroupMember.instance_uuid))
        with self.db.session() as session:
            for group, instance in session.execute(query):
                found[group].append(instance)
        return found

    # --- what server create, the scheduler and server delete call -------------------

    def plan(self, ctx, group_id) -> tuple[str, GroupSpec]:
        """Check the ``group`` scheduler hint of a server create and return the group's
        uuid and its GroupSpec. The hint must be a uuid (or a one-item list of one) naming
        a group the caller can see; otherwise ComputeInvalid (400), as Nova answers."""
        value = group_id[0] if isinstance(group_id, list) and len(group_id) == 1 else group_id
        canonical = canonical_uuid(value)
        if canonical is None:
            raise errors.ComputeInvalid(f"Invalid input for field/attribute group. Value: {group_id}. "
                                        f"{group_id!r} is not valid under any of the given schemas")
        try:
            row = self.get(ctx, canonical)
        except errors.ServerGroupNotFound as missing:
            raise errors.ComputeInvalid(str(missing)) from None
        return row.uuid, self.spec(row.uuid)

    def spec(self, group_uuid: str, exclude: Iterable[str] = ()) -> GroupSpec:
        """The group as the scheduler needs it now: its policy, ``max_server_per_host``
        and one host entry per live, placed member (members in ``exclude``, such as the
        instance being placed, left out). ServerGroupNotFound if the group is gone."""
        skip = set(exclude)
        with self.db.session() as session:
            row = session.scalars(select(ServerGroup).where(ServerGroup.uuid == group_uuid)).first()
            if row is None:
                raise errors.ServerGroupNotFound(group_uuid)
            placed = session.execute(
                select(ServerGroupMember.instance_uuid, Instance.host)
                .join(Instance, Instance.uuid == ServerGroupMember.instance_uuid)
                .where(ServerGroupMember.group_uuid == group_uuid, Instance.deleted.is_(False),
                       Instance.host.is_not(None))
                .order_by(ServerGroupMember.created_at, ServerGroupMember.instance_uuid)
            ).all()
        hosts = [host for instance, host in placed if instance not in skip]
        return GroupSpec(policy=row.policy, hosts=hosts,
                         max_server_per_host=int((row.rules or {}).get("max_server_per_host", 1)))

    def add_members(self, group_uuid: str, instance_uuids: list[str], project_id: str) -> None:
        """Make the instances members. QuotaExceeded (403, "Quota exceeded, too many
        servers in group") when the group would pass ``project_id``'s
        ``server_group_members`` limit; checked before and after the insert, and a
        losing racer removes its own rows. Instances already members are skipped."""
        with self.db.session() as session:
            present = set(session.scalars(select(ServerGroupMember.instance_uuid).where(
                ServerGroupMember.group_uuid == group_uuid, ServerGroupMember.instance_uuid.in_(instance_uuids))))
        new = [instance for instance in dict.fromkeys(instance_uuids) if instance not in present]
        if not new:
            return
        limit = self.quotas.limits(project_id)["server_group_members"]
        if limit >= 0 and self._count_members(group_uuid) + len(new) > limit:
            raise errors.QuotaExceeded("Quota exceeded, too many servers in group", over=["server_group_members"])
        with self.db.session() as session:
            session.add_all(ServerGroupMember(group_uuid=group_uuid, instance_uuid=instance) for instance in new)
        if limit >= 0 and self._count_members(group_uuid) > limit:
            with self.db.session() as session:
                session.execute(delete(ServerGroupMember).where(ServerGroupMember.group_uuid == group_uuid,
                                                                ServerGroupMember.instance_uuid.in_(new)))
            raise errors.QuotaExceeded("Quota exceeded, too many servers in group", over=["server_group_members"])

    def remove_member(self, instance_uuid: str) -> None:
        """Take the instance out of whatever group holds it; safe to repeat."""
        with self.db.session() as session:
            session.execute(delete(ServerGroupMember).where(ServerGroupMember.instance_uuid == instance_uuid))

    def group_of(self, instance_uuid: str) -> str | None:
        """The uuid of the group the instance belongs to, or None."""
        with self.db.session() as session:
            return session.scalar(select(ServerGroupMember.group_uuid)
                                  .where(ServerGroupMember.instance_uuid == instance_uuid)
                                  .order_by(ServerGroupMember.created_at).limit(1))

    # --- internals ----------------------------------------------------------------

    def _count_members(self, group_uuid: str) -> int:
        query = _live(select(func.count()).select_from(ServerGroupMember)
                      .where(ServerGroupMember.group_uuid == group_uuid))
        with self.db.session() as session:
            return session.scalar(query)

    def _check_group_quota(self, project_id: str, already: bool) -> None:
        limit = self.quotas.limits(project_id)["server_groups"]
        used = self.quotas.usage(project_id)["server_groups"]
        if limit >= 0 and used + (0 if already else 1) > limit:
            raise errors.QuotaExceeded("Quota exceeded, too many server groups.", over=["server_groups"])

    def _delete_rows(self, group_uuid: str) -> bool:
        """Delete the group and its members; False if it was already gone."""
        with self.db.session() as session:
            session.execute(delete(ServerGroupMember).where(ServerGroupMember.group_uuid == group_uuid))
            gone = session.execute(delete(ServerGroup).where(ServerGroup.uuid == group_uuid))
            return gone.rowcount == 1


__all__ = ["POLICIES", "ServerGroups", "canonical_uuid"]
