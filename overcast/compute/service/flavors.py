"""Flavors: the sizes servers come in; private ones are shared with projects by access."""

from __future__ import annotations

from sqlalchemy import delete, or_, select

from overcast.common.db import Database
from overcast.compute import errors
from overcast.compute.models import Flavor, FlavorAccess, FlavorExtraSpec

# (id, name, MB of RAM, vCPUs, GB of disk): DevStack's set plus m1.nano for a 32 MB test guest
DEFAULTS = [
    ("42", "m1.nano", 64, 1, 1),
    ("1", "m1.tiny", 512, 1, 1),
    ("2", "m1.small", 2048, 1, 20),
    ("3", "m1.medium", 4096, 2, 40),
    ("4", "m1.large", 8192, 4, 80),
    ("5", "m1.xlarge", 16384, 8, 160),
]
SORT_KEYS = {"flavorid": Flavor.flavorid, "name": Flavor.name, "memory_mb": Flavor.memory_mb,
             "vcpus": Flavor.vcpus, "root_gb": Flavor.root_gb, "swap": Flavor.swap, "created_at": Flavor.created_at,
             "id": Flavor.flavorid, "rxtx_factor": Flavor.rxtx_factor, "ephemeral_gb": Flavor.ephemeral_gb}


class Flavors:
    def __init__(self, db: Database):
        self.db = db

    def ensure_defaults(self) -> None:
        with self.db.session() as session:
            if session.scalars(select(Flavor.flavorid).limit(1)).first() is not None:
                return
            for flavorid, name, ram, vcpus, disk in DEFAULTS:
                session.add(Flavor(flavorid=flavorid, name=name, memory_mb=ram, vcpus=vcpus, root_gb=disk))

    def _visible(self, ctx):
        if ctx.is_admin:
            return None
        access = select(FlavorAccess.flavorid).where(FlavorAccess.project_id == ctx.project_id)
        return or_(Flavor.is_public.is_(True), Flavor.flavorid.in_(access))

    def get(self, ctx, flavorid: str) -> Flavor:
        query = select(Flavor).where(Flavor.flavorid == flavorid)
        visible = self._visible(ctx)
        if visible is not None:
            query = query.where(visible)
        with self.db.session() as session:
            row = session.scalars(query).first()
            if row is None:
                raise errors.FlavorNotFound(flavorid)
            row.extra_specs = self._specs(session, [row.flavorid]).get(row.flavorid, {})
            return row

    def _specs(self, session, ids: list[str]) -> dict[str, dict]:
        specs: dict[str, dict] = {}
        for flavorid, key, value in session.execute(
            select(FlavorExtraSpec.flavorid, FlavorExtraSpec.key, FlavorExtraSpec.value)
            .where(FlavorExtraSpec.flavorid.in_(ids))
        ):
            specs.setdefault(flavorid, {})[key] = value
        return specs

    def list(self, ctx, is_public: bool | None, min_ram: int, min_disk: int, sort_key: str, sort_dir: str,
             limit: int | None, marker: str | None) -> list[Flavor]:
        """Flavors the caller may use. ``is_public``: True (the default) public ones, False
        private ones, None both; a project also sees the private flavors shared with it."""
        query = select(Flavor).where(Flavor.memory_mb >= min_ram, Flavor.root_gb >= min_disk)
        visible = self._visible(ctx)
        if visible is not None:
            query = query.where(visible)
        if is_public is False or (is_public is True and ctx.is_admin):
            query = query.where(Flavor.is_public.is_(is_public))
        column = SORT_KEYS[sort_key]
        order = [column.asc() if sort_dir == "asc" else column.desc(), Flavor.flavorid.asc()]
        with self.db.session() as session:
            rows = list(session.scalars(query.order_by(*order)))
            if marker is not None:
                ids = [row.flavorid for row in rows]
                if marker not in ids:
                    raise errors.ComputeInvalid(f"Marker {marker} could not be found.")
                rows = rows[ids.index(marker) + 1:]
            if limit is not None:
                rows = rows[:limit]
            specs = self._specs(session, [row.flavorid for row in rows])
            for row in rows:
                row.extra_specs = specs.get(row.flavorid, {})
            return rows

    def create(self, fields: dict) -> Flavor:
        with self.db.session() as session:
            if session.get(Flavor, fields["flavorid"]) is not None:
                raise errors.ComputeConflict(f"Flavor with ID {fields['flavorid']} already exists.")
            if session.scalars(select(Flavor).where(Flavor.name == fields["name"])).first() is not None:
                raise errors.ComputeConflict(f"Flavor with name {fields['name']} already exists.")
            row = Flavor(**fields)
            session.add(row)
            session.flush()
            row.extra_specs = {}
            return row

    def update_description(self, ctx, flavorid: str, description: str | None) -> Flavor:
        with self.db.session() as session:
            row = session.get(Flavor, flavorid)
            if row is None:
                raise errors.FlavorNotFound(flavorid)
            row.description = description
        return self.get(ctx, flavorid)

    def delete(self, flavorid: str) -> None:
        with self.db.session() as session:
            row = session.get(Flavor, flavorid)
            if row is None:
                raise errors.FlavorNotFound(flavorid)
            session.execute(delete(FlavorExtraSpec).where(FlavorExtraSpec.flavorid == flavorid))
            session.execute(delete(FlavorAccess).where(FlavorAccess.flavorid == flavorid))
            session.delete(row)

    # extra specs

    def extra_specs(self, ctx, flavorid: str) -> dict[str, str]:
        return self.get(ctx, flavorid).extra_specs

    def set_extra_specs(self, ctx, flavorid: str, specs: dict[str, str]) -> dict[str, str]:
        self.get(ctx, flavorid)
        with self.db.session() as session:
            for key, value in specs.items():
                row = session.get(FlavorExtraSpec, (flavorid, key))
                if row is None:
                    session.add(FlavorExtraSpec(flavorid=flavorid, key=key, value=value))
                else:
                    row.value = value
        return specs

    def delete_extra_spec(self, ctx, flavorid: str, key: str) -> None:
        self.get(ctx, flavorid)
        with self.db.session() as session:
            row = session.get(FlavorExtraSpec, (flavorid, key))
            if row is None:
                raise errors.FlavorExtraSpecNotFound(flavorid, key)
            session.delete(row)

    # access

    def access(self, flavorid: str) -> list[str]:
        with self.db.session() as session:
            row = session.get(Flavor, flavorid)
            if row is None:
                raise errors.FlavorNotFound(flavorid)
            if row.is_public:
                raise errors.FlavorNotFound(flavorid)  # Nova: access lists exist for private flavors only
            return sorted(session.scalars(select(FlavorAccess.project_id).where(FlavorAccess.flavorid == flavorid)))

    def add_access(self, flavorid: str, project_id: str) -> list[str]:
        with self.db.session() as session:
            row = session.get(Flavor, flavorid)
            if row is None:
                raise errors.FlavorNotFound(flavorid)
            if row.is_public:
                raise errors.ComputeConflict("Can not add access to a public flavor.")
            if session.get(FlavorAccess, (flavorid, project_id)) is not None:
                raise errors.ComputeConflict(f"Flavor access already exists for flavor {flavorid} and project "
                                             f"{project_id} combination.")
            session.add(FlavorAccess(flavorid=flavorid, project_id=project_id))
        return self.access(flavorid)

    def remove_access(self, flavorid: str, project_id: str) -> list[str]:
        with self.db.session() as session:
            if session.get(Flavor, flavorid) is None:
                raise errors.FlavorNotFound(flavorid)
            row = session.get(FlavorAccess, (flavorid, project_id))
            if row is None:
                raise errors.FlavorAccessNotFound(flavorid, project_id)
            session.delete(row)
        return self.access(flavorid)
