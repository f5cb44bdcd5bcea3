"""Snapshots: point-in-time copies of a volume's data, made by the volume's backend."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from overcast.common.db import utcnow
from overcast.volume import errors
from overcast.volume.models import Snapshot, Volume, VolumeType
from overcast.volume.service.hosts import queue_of
from overcast.volume.service.paging import page

SORT_KEYS = {"created_at": Snapshot.created_at, "updated_at": Snapshot.updated_at, "name": Snapshot.name,
             "display_name": Snapshot.name, "size": Snapshot.size, "status": Snapshot.status, "id": Snapshot.id}
STATUSES = ("creating", "available", "deleting", "error", "error_deleting", "backing-up", "restoring", "unmanaging")


class Snapshots:
    def __init__(self, service):
        self.service = service
        self.db = service.db

    def get(self, ctx, snapshot_id: str, session=None) -> Snapshot:
        query = select(Snapshot).where(Snapshot.id == snapshot_id)
        if not ctx.is_admin:
            query = query.where(Snapshot.project_id == ctx.project_id)
        row = self.db.first(query, session)
        if row is None:
            raise errors.SnapshotNotFound(snapshot_id)
        return row

    def list(self, ctx, filters: dict, sort: list[tuple[str, str]], limit: int | None, marker: str | None,
             offset: int = 0, all_projects: bool = False) -> list[Snapshot]:
        query = select(Snapshot)
        project = filters.pop("project_id", None)
        if not (ctx.is_admin and all_projects):
            query = query.where(Snapshot.project_id == ctx.project_id)
        elif project:
            query = query.where(Snapshot.project_id == project)
        metadata = filters.pop("metadata", None)
        for key, value in filters.items():
            if key in ("name", "display_name"):
                query = query.where(Snapshot.name == value)
            elif key == "status":
                query = query.where(Snapshot.status == value)
            elif key == "volume_id":
                query = query.where(Snapshot.volume_id == value)
        order = [(SORT_KEYS[key], direction) for key, direction in sort] + [(Snapshot.id, "desc")]
        query = query.order_by(*[col.asc() if d == "asc" else col.desc() for col, d in order])
        with self.db.session() as session:
            rows = list(session.scalars(query))
        if metadata:
            rows = [r for r in rows if all((r.meta or {}).get(k) == v for k, v in metadata.items())]
        return page(rows, marker, limit, offset)

    def create(self, ctx, volume_id: str, name: str | None, description: str | None, force: bool,
               metadata: dict) -> tuple[Snapshot, tuple]:
        with self.db.session() as session:
            volume = self.service.volumes.get(ctx, volume_id, session)
            allowed = ("available", "in-use") if force else ("available",)
            if volume.status not in allowed:
                if volume.status == "in-use":
                    raise errors.InvalidVolume(f"Volume {volume.id} status must be available, but current status "
                                               f"is: in-use.")
                raise errors.InvalidVolume(f"Volume {volume.id} status must be available or in-use, but current "
                                           f"status is: {volume.status}.")
            vtype = session.get(VolumeType, volume.volume_type_id) if volume.volume_type_id else None
            self.service.quotas.check(session, ctx.project_id, vtype.name if vtype else None, snapshots=1,
                                      gigabytes=volume.size)
            row = Snapshot(id=str(uuid.uuid4()), volume_id=volume.id, project_id=ctx.project_id,
                           user_id=ctx.user_id, name=name, description=description, size=volume.size,
                           status="creating", progress="0%", meta=dict(metadata or {}), created_at=utcnow(),
                           updated_at=None, encryption_key_id=volume.encryption_key_id)
            session.add(row)
            payload = {"id": row.id, "volume_id": volume.id}
            if volume.encryption_key_id:
                payload["encrypted"] = True
            return row, (queue_of(volume), payload)

    def update(self, ctx, snapshot_id: str, fields: dict) -> Snapshot:
        with self.db.session() as session:
            row = self.get(ctx, snapshot_id, session)
            for key, column in (("name", "name"), ("display_name", "name"), ("description", "description"),
                                ("display_description", "description")):
                if key in fields:
                    setattr(row, column, fields[key])
            row.updated_at = utcnow()
            return row

    def set_metadata(self, ctx, snapshot_id: str, metadata: dict, replace: bool) -> dict:
        with self.db.session() as session:
            row = self.get(ctx, snapshot_id, session)
            row.meta = dict(metadata) if replace else {**(row.meta or {}), **metadata}
            row.updated_at = utcnow()
            return dict(row.meta)

    def delete_metadata(self, ctx, snapshot_id: str, key: str) -> None:
        with self.db.session() as session:
            row = self.get(ctx, snapshot_id, session)
            if key not in (row.meta or {}):
                raise errors.MetadataNotFound(key, "Snapshot", snapshot_id)
            row.meta = {k: v for k, v in row.meta.items() if k != key}

    def begin_delete(self, ctx, snapshot_id: str, force: bool = False) -> tuple | None:
        with self.db.session() as session:
            row = self.get(ctx, snapshot_id, session)
            if not force and row.status not in ("available", "error"):
                raise errors.InvalidSnapshot("Volume Snapshot status must be available or error")
            if row.group_snapshot_id and not force:
                raise errors.InvalidSnapshot(f"Snapshot {row.id} is part of group snapshot {row.group_snapshot_id}; "
                                             f"delete the group snapshot.")
            dependants = session.scalar(select(Volume.id).where(Volume.snapshot_id == row.id,
                                                                Volume.status == "creating"))
            if dependants:
                raise errors.InvalidSnapshot("A volume is being created from this snapshot.")
            volume = session.get(Volume, row.volume_id)
            if volume is None or volume.host is None:
                session.delete(row)
                return None
            row.status, row.updated_at = "deleting", utcnow()
            return queue_of(volume), {"id": row.id, "volume_id": row.volume_id}

    def reset_status(self, ctx, snapshot_id: str, status: str, progress: str | None = None) -> None:
        if status not in STATUSES:
            raise errors.InvalidInput(f"Invalid status for snapshot: {status}")
        with self.db.session() as session:
            row = self.get(ctx, snapshot_id, session)
            row.status, row.updated_at = status, utcnow()
            if progress is not None:
                row.progress = str(progress)
