"""Volume types: name, description, public or private (with project access), extra specs."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, func, or_, select

from overcast.common.db import utcnow
from overcast.volume import errors
from overcast.volume.models import Volume, VolumeType, VolumeTypeAccess

DEFAULT_DESCRIPTION = "Default Volume Type"


def is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
        return True
    except (ValueError, AttributeError, TypeError):
        return False


class Types:
    def __init__(self, db, default_name: str):
        self.db = db
        self.default_name = default_name

    def ensure_default(self) -> None:
        with self.db.session() as session:
            if session.scalar(select(VolumeType).where(VolumeType.name == self.default_name)) is None:
                session.add(VolumeType(id=str(uuid.uuid4()), name=self.default_name, description=DEFAULT_DESCRIPTION,
                                       is_public=True, extra_specs={}))

    def default(self, session) -> VolumeType:
        row = session.scalar(select(VolumeType).where(VolumeType.name == self.default_name))
        if row is None:
            raise errors.VolumeTypeNotFoundByName(self.default_name)
        return row

    def _visible(self, ctx):
        if ctx.is_admin:
            return True
        access = select(VolumeTypeAccess.volume_type_id).where(VolumeTypeAccess.project_id == ctx.project_id)
        return or_(VolumeType.is_public.is_(True), VolumeType.id.in_(access))

    def get(self, ctx, type_id: str, session=None) -> VolumeType:
        """By id (or, as Cinder's volume create accepts, by name)."""
        query = select(VolumeType).where(VolumeType.id == type_id, self._visible(ctx))
        row = self.db.first(query, session)
        if row is None:
            raise errors.VolumeTypeNotFound(type_id)
        return row

    def resolve(self, ctx, ref: str | None, session) -> VolumeType:
        """The type a volume create names (id or name); the default one when None."""
        if not ref:
            return self.default(session)
        clause = VolumeType.id == ref if is_uuid(ref) else VolumeType.name == ref
        row = session.scalar(select(VolumeType).where(clause, self._visible(ctx)))
        if row is None:
            if is_uuid(ref):
                raise errors.VolumeTypeNotFound(ref)
            raise errors.VolumeTypeNotFoundByName(ref)
        return row

    def list(self, ctx, is_public: bool | None = None) -> list[VolumeType]:
        query = select(VolumeType).where(self._visible(ctx)).order_by(VolumeType.created_at, VolumeType.name)
        if is_public is not None and ctx.is_admin:
            query = query.where(VolumeType.is_public.is_(is_public))
        with self.db.session() as session:
            return list(session.scalars(query))

    def create(self, name: str, description: str | None, is_public: bool, extra_specs: dict) -> VolumeType:
        with self.db.session() as session:
            if session.scalar(select(VolumeType).where(VolumeType.name == name)) is not None:
                raise errors.VolumeTypeExists(name)
            row = VolumeType(id=str(uuid.uuid4()), name=name, description=description, is_public=is_public,
                             extra_specs=dict(extra_specs))
            session.add(row)
            return row

    def update(self, type_id: str, fields: dict) -> VolumeType:
        with self.db.session() as session:
            row = session.get(VolumeType, type_id)
            if row is None:
                raise errors.VolumeTypeNotFound(type_id)
            if "name" in fields and fields["name"] != row.name:
                if session.scalar(select(VolumeType).where(VolumeType.name == fields["name"])) is not None:
                    raise errors.VolumeTypeExists(fields["name"])
                if row.name == self.default_name:
                    raise errors.InvalidVolumeType("The default volume type cannot be renamed.")
            for key in ("name", "description", "is_public"):
                if key in fields:
                    setattr(row, key, fields[key])
            row.updated_at = utcnow()
            return row

    def delete(self, type_id: str) -> None:
        with self.db.session() as session:
            row = session.get(VolumeType, type_id)
            if row is None:
                raise errors.VolumeTypeNotFound(type_id)
            if row.name == self.default_name:
                raise errors.VolumeForbidden("Default volume type can not be deleted")
            used = session.scalar(select(func.count()).select_from(Volume).where(Volume.volume_type_id == type_id))
            if used:
                raise errors.VolumeTypeInUse(type_id)
            session.delete(row)

    # -- extra specs ---------------------------------------------------------------

    def set_specs(self, type_id: str, specs: dict) -> dict:
        with self.db.session() as session:
            row = session.get(VolumeType, type_id)
            if row is None:
                raise errors.VolumeTypeNotFound(type_id)
            row.extra_specs = {**row.extra_specs, **specs}
            row.updated_at = utcnow()
            return dict(row.extra_specs)

    def delete_spec(self, type_id: str, key: str) -> None:
        with self.db.session() as session:
            row = session.get(VolumeType, type_id)
            if row is None:
                raise errors.VolumeTypeNotFound(type_id)
            if key not in row.extra_specs:
                raise errors.ExtraSpecNotFound(type_id, key)
            row.extra_specs = {k: v for k, v in row.extra_specs.items() if k != key}

    # -- encryption ------------------------------------------------------------------

    def set_encryption(self, type_id: str, values: dict | None, create: bool = False) -> dict | None:
        """Create, change (``values``) or remove (None) a type's encryption. Refused while
        volumes of the type exist, as Cinder does."""
        with self.db.session() as session:
            row = session.get(VolumeType, type_id)
            if row is None:
                raise errors.VolumeTypeNotFound(type_id)
            if create and row.encryption:
                raise errors.InvalidVolumeType(f"Volume type encryption for type {type_id} already exists.")
            if not create and not row.encryption:
                raise errors.NotFound(f"Volume type encryption for type {type_id} does not exist.")
            used = session.scalar(select(func.count()).select_from(Volume).where(Volume.volume_type_id == type_id))
            if used:
                raise errors.InvalidVolumeType("Cannot change the encryption of a volume type in use.")
            now = utcnow().isoformat(timespec="microseconds")
            if values is None:
                row.encryption = None
                return None
            base = dict(row.encryption or {"encryption_id": str(uuid.uuid4()), "created_at": now})
            base.update(values)
            base["updated_at"] = None if create else now
            row.encryption = base
            return dict(base)

    # -- access ------------------------------------------------------------------

    def list_access(self, type_id: str) -> list[str]:
        with self.db.session() as session:
            row = session.get(VolumeType, type_id)
            if row is None:
                raise errors.VolumeTypeNotFound(type_id)
            if row.is_public:
                raise errors.InvalidVolumeType("Access list not available for public volume types.")
            return list(session.scalars(select(VolumeTypeAccess.project_id)
                                        .where(VolumeTypeAccess.volume_type_id == type_id)))

    def add_access(self, type_id: str, project_id: str) -> None:
        with self.db.session() as session:
            row = session.get(VolumeType, type_id)
            if row is None:
                raise errors.VolumeTypeNotFound(type_id)
            if row.is_public:
                raise errors.InvalidVolumeType("Type access modification is not applicable to public volume type.")
            if session.get(VolumeTypeAccess, (type_id, project_id)) is not None:
                raise errors.TypeAccessExists(type_id, project_id)
            session.add(VolumeTypeAccess(volume_type_id=type_id, project_id=project_id))

    def remove_access(self, type_id: str, project_id: str) -> None:
        with self.db.session() as session:
            row = session.get(VolumeType, type_id)
            if row is None:
                raise errors.VolumeTypeNotFound(type_id)
            if row.is_public:
                raise errors.InvalidVolumeType("Type access modification is not applicable to public volume type.")
            gone = session.execute(delete(VolumeTypeAccess).where(VolumeTypeAccess.volume_type_id == type_id,
                                                                  VolumeTypeAccess.project_id == project_id))
            if not gone.rowcount:
                raise errors.TypeAccessNotFound(type_id, project_id)

    def encrypted(self, ids) -> frozenset:
        """Which of these type ids have encryption."""
        ids = {i for i in ids if i}
        if not ids:
            return frozenset()
        with self.db.session() as session:
            return frozenset(i for i, enc in session.execute(select(VolumeType.id, VolumeType.encryption)
                                                             .where(VolumeType.id.in_(ids))) if enc)

    def names(self, ids) -> dict[str, str]:
        ids = {i for i in ids if i}
        if not ids:
            return {}
        with self.db.session() as session:
            return dict(session.execute(select(VolumeType.id, VolumeType.name).where(VolumeType.id.in_(ids))).all())
