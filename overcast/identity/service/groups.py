"""Groups and their members."""

from __future__ import annotations

from sqlalchemy import delete, select

from overcast.common.db import new_id
from overcast.identity import errors
from overcast.identity.models import Assignment, Domain, Group, GroupMember, User
from overcast.identity.service.base import SubService, dump_json, load_json, must_get, split_extra

COLUMNS = {"name", "domain_id", "description"}


class Groups(SubService):
    def get(self, group_id: str) -> Group:
        with self.db.session() as session:
            return must_get(session, Group, group_id, errors.GroupNotFound)

    def list(self, filters: dict | None = None, user_id: str | None = None) -> list[Group]:
        filters = filters or {}
        query = select(Group).order_by(Group.name)
        for key in ("name", "domain_id"):
            if filters.get(key) is not None:
                query = query.where(getattr(Group, key) == filters[key])
        if user_id is not None:
            query = query.join(GroupMember, GroupMember.group_id == Group.id).where(GroupMember.user_id == user_id)
        with self.db.session() as session:
            return list(session.scalars(query))

    def create(self, fields: dict) -> Group:
        known, extra = split_extra(fields, COLUMNS)
        with self.db.session() as session:
            if session.get(Domain, known["domain_id"]) is None:
                raise errors.DomainNotFound(known["domain_id"])
            row = Group(id=new_id(), extra=dump_json(extra), **known)
            session.add(row)
            self.commit_unique(session, "group", known["name"])
            return row

    def update(self, group_id: str, fields: dict) -> Group:
        known, extra = split_extra(fields, COLUMNS - {"domain_id"})
        with self.db.session() as session:
            row = must_get(session, Group, group_id, errors.GroupNotFound)
            for key, value in known.items():
                setattr(row, key, value)
            if extra:
                row.extra = dump_json({**load_json(row.extra, {}), **extra})
            self.commit_unique(session, "group", row.name)
            return row

    def delete(self, group_id: str) -> None:
        with self.db.session() as session:
            row = must_get(session, Group, group_id, errors.GroupNotFound)
            members = list(session.scalars(select(GroupMember.user_id).where(GroupMember.group_id == group_id)))
            session.execute(delete(Assignment).where(Assignment.actor_id == group_id))
            session.execute(delete(GroupMember).where(GroupMember.group_id == group_id))
            session.delete(row)
        for user_id in members:
            self.identity.revocations.revoke(user_id=user_id)

    def members(self, group_id: str) -> list[User]:
        self.get(group_id)
        with self.db.session() as session:
            query = (
                select(User)
                .join(GroupMember, GroupMember.user_id == User.id)
                .where(GroupMember.group_id == group_id)
                .order_by(User.name)
            )
            return list(session.scalars(query))

    def add_member(self, group_id: str, user_id: str) -> None:
        with self.db.session() as session:
            if session.get(Group, group_id) is None:
                raise errors.GroupNotFound(group_id)
            if session.get(User, user_id) is None:
                raise errors.UserNotFound(user_id)
            if session.get(GroupMember, (group_id, user_id)) is None:
                session.add(GroupMember(group_id=group_id, user_id=user_id))

    def check_member(self, group_id: str, user_id: str) -> None:
        with self.db.session() as session:
            if session.get(Group, group_id) is None:
                raise errors.GroupNotFound(group_id)
            if session.get(User, user_id) is None:
                raise errors.UserNotFound(user_id)
            if session.get(GroupMember, (group_id, user_id)) is None:
                raise errors.IdentityNotFound(f"user {user_id} in group {group_id}")

    def remove_member(self, group_id: str, user_id: str) -> None:
        self.check_member(group_id, user_id)
        with self.db.session() as session:
            session.execute(
                delete(GroupMember).where(GroupMember.group_id == group_id, GroupMember.user_id == user_id)
            )
        self.identity.revocations.revoke(user_id=user_id)

    def group_ids_of(self, user_id: str) -> list[str]:
        with self.db.session() as session:
            return list(session.scalars(select(GroupMember.group_id).where(GroupMember.user_id == user_id)))
