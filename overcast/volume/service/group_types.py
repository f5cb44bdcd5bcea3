"""Group types (3.11): name, description, public or not, group specs; the default one, and
Cinder's ``default_cgsnapshot_type`` that consistency groups are made with (its groups and
group snapshots are served by the consistency group API only)."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from overcast.common.db import utcnow
from overcast.volume import errors
from overcast.volume.models import Group, GroupType

DEFAULT_DESCRIPTION = "Default group type"
CGSNAPSHOT_TYPE = "default_cgsnapshot_type"
CGSNAPSHOT_SPECS = {"consistent_group_snapshot_enabled": "<is> True"}
SORT_KEYS = {"name": GroupType.name, "id": GroupType.id, "created_at": GroupType.created_at,
             "description": GroupType.description, "is_public": GroupType.is_public}


class GroupTypes:
    def __init__(self, db, default_name: str):
        self.db = db
        self.default_name = default_name

    def ensure_default(self) -> None:
        """The configured default group type and the cgsnapshot type, made once."""
        wanted = [(CGSNAPSHOT_TYPE, "Default group type for migrating cgsnapshot", CGSNAPSHOT_SPECS)]
        if self.default_name:
            wanted.append((self.default_name, DEFAULT_DESCRIPTION, {}))
        with self.db.session() as session:
            for name, description, specs in wanted:
                if session.scalar(select(GroupType).where(GroupType.name == name)) is None:
                    session.add(GroupType(id=str(uuid.uuid4()), name=name, description=description, is_public=True,
                                          group_specs=dict(specs)))

    def cgsnapshot_type_id(self) -> str | None:
        """The id of ``default_cgsnapshot_type`` (None once an admin deleted it)."""
        with self.db.session() as session:
            return session.scalar(select(GroupType.id).where(GroupType.name == CGSNAPSHOT_TYPE))

    def check_not_cgsnapshot_type(self, type_id: str | None, what: str = "group") -> None:
        """The groups and group snapshots APIs refuse what the consistency group API owns."""
        if type_id is not None and type_id == self.cgsnapshot_type_id():
            raise errors.CgsnapshotTypeReserved(type_id, what)

    def default(self) -> GroupType:
        """The configured default group type; 404 as Cinder when there is none."""
        with self.db.session() as session:
            row = session.scalar(select(GroupType).where(GroupType.name == self.default_name)) \
                if self.default_name else None
        if row is None:
            raise errors.GroupTypeNotFoundByName(self.default_name or "default")
        return row

    def get(self, ctx, type_id: str, session=None) -> GroupType:
        query = select(GroupType).where(GroupType.id == type_id)
        if not ctx.is_admin:
            query = query.where(GroupType.is_public.is_(True))
        row = self.db.first(query, session)
        if row is None:
            raise errors.GroupTypeNotFound(type_id)
        return row

    def resolve(self, ctx, ref: str, session) -> GroupType:
        """By id or by name, as a group create names it."""
        query = select(GroupType).where((GroupType.id == ref) | (GroupType.name == ref))
        if not ctx.is_admin:
            query = query.where(GroupType.is_public.is_(True))
        row = session.scalar(query)
        if row is None:
            raise errors.GroupTypeNotFound(ref)
        return row

    def list(self, ctx, is_public: bool | None, sort: list[tuple[str, str]]) -> list[GroupType]:
        query = select(GroupType)
        if not ctx.is_admin:
            query = query.where(GroupType.is_public.is_(True))
        elif is_public is not None:
            query = query.where(GroupType.is_public.is_(is_public))
        order = [(SORT_KEYS[key], direction) for key, direction in sort] + [(GroupType.id, "asc")]
        query = query.order_by(*[col.asc() if d == "asc" else col.desc() for col, d in order])
        with self.db.session() as session:
            return list(session.scalars(query))

    def create(self, name: str, description: str | None, is_public: bool, specs: dict) -> GroupType:
        with self.db.session() as session:
            if session.scalar(select(GroupType).where(GroupType.name == name)) is not None:
                raise errors.GroupTypeExists(name)
            row = GroupType(id=str(uuid.uuid4()), name=name, description=description, is_public=is_public,
                            group_specs=dict(specs), created_at=utcnow())
            session.add(row)
            return row

    def _row(self, session, type_id: str) -> GroupType:
        row = session.get(GroupType, type_id)
        if row is None:
            raise errors.GroupTypeNotFound(type_id)
        return row

    def update(self, type_id: str, fields: dict) -> GroupType:
        with self.db.session() as session:
            row = self._row(session, type_id)
            if "name" in fields and fields["name"] != row.name:
                if row.name == self.default_name:
                    raise errors.InvalidGroupType("The default group type cannot be renamed.")
                if session.scalar(select(GroupType).where(GroupType.name == fields["name"])) is not None:
                    raise errors.GroupTypeExists(fields["name"])
            for key in ("name", "description", "is_public"):
                if key in fields:
                    setattr(row, key, fields[key])
            row.updated_at = utcnow()
            return row

    def delete(self, type_id: str) -> None:
        with self.db.session() as session:
            row = self._row(session, type_id)
            if row.name == self.default_name:
                raise errors.InvalidGroupType("Default group type can not be deleted.")
            if session.scalar(select(func.count()).select_from(Group).where(Group.group_type_id == type_id)):
                raise errors.GroupTypeInUse(type_id)
            session.delete(row)

    def set_specs(self, type_id: str, specs: dict) -> dict:
        with self.db.session() as session:
            row = self._row(session, type_id)
            row.group_specs = {**(row.group_specs or {}), **specs}
            row.updated_at = utcnow()
            return dict(row.group_specs)

    def delete_spec(self, type_id: str, key: str) -> None:
        with self.db.session() as session:
            row = self._row(session, type_id)
            if key not in (row.group_specs or {}):
                raise errors.GroupTypeSpecNotFound(type_id, key)
            row.group_specs = {k: v for k, v in row.group_specs.items() if k != key}
            row.updated_at = utcnow()
