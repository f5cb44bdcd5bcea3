"""Backups: a volume's data copied into the object store, restored into a new or an
existing volume. The rows change here; the volume agent moves the bytes (agent_backups)."""

from __future__ import annotations

import base64
import json
import uuid

from sqlalchemy import func, select

from overcast.common.db import utcnow
from overcast.volume import errors
from overcast.volume.models import Backup, Volume
from overcast.volume.service.hosts import queue_of, topic_for

DEFAULT_CONTAINER = "volumebackups"
SERVICE_NAME = "cinder.backup.drivers.swift"  # what export_record names (clients check the prefix)
STATUSES = ("creating", "available", "deleting", "error", "restoring", "error_deleting")


class BackupNotFound(errors.NotFound):
    def __init__(self, backup_id: str):
        super().__init__(f"Backup {backup_id} could not be found.")


def account_of(project_id: str) -> str:
    return f"AUTH_{project_id}"


def location(row) -> dict:
    """Where a backup's objects are: ``object_prefix`` is ``<account>/<container>/<prefix>``
    (an imported record keeps pointing at the data of the backup it was exported from)."""
    account, container, prefix = row.object_prefix.split("/", 2)
    return {"account": account, "container": container, "prefix": prefix}


class Backups:
    def __init__(self, service):
        self.service = service
        self.db = service.db

    def _store(self):
        if self.service.objectstore is None:
            raise errors.InvalidInput("Backups need the object storage service, which this cloud does not run.")
        return self.service.objectstore

    def get(self, ctx, backup_id: str, session=None) -> Backup:
        query = select(Backup).where(Backup.id == backup_id)
        if not ctx.is_admin:
            query = query.where(Backup.project_id == ctx.project_id)
        row = self.db.first(query, session)
        if row is None:
            raise BackupNotFound(backup_id)
        return row

    def list(self, ctx, filters: dict, all_projects: bool = False) -> list[Backup]:
        query = select(Backup).order_by(Backup.created_at.desc(), Backup.id)
        if not (ctx.is_admin and all_projects):
            query = query.where(Backup.project_id == ctx.project_id)
        for key in ("name", "status", "volume_id"):
            if filters.get(key):
                query = query.where(getattr(Backup, key) == filters[key])
        with self.db.session() as session:
            return list(session.scalars(query))

    def usage(self, session, project_id: str) -> tuple[int, int]:
        count, size = session.execute(select(func.count(), func.coalesce(func.sum(Backup.size), 0))
                                      .where(Backup.project_id == project_id)).one()
        return count, int(size)

    def dependents(self, backup_ids: list[str]) -> set[str]:
        """Which of ``backup_ids`` an incremental backup builds on."""
        if not backup_ids:
            return set()
        with self.db.session() as session:
            return set(session.scalars(select(Backup.parent_id).where(Backup.parent_id.in_(backup_ids))))

    def _parent(self, session, ctx, volume_id: str) -> Backup:
        """The backup an incremental one builds on: the volume's newest (as Cinder, by data
        timestamp), which must be available."""
        rows = list(session.scalars(select(Backup).where(Backup.volume_id == volume_id,
                                                         Backup.project_id == ctx.project_id)))
        if not rows:
            raise errors.InvalidInput("Invalid backup: No backups available to do an incremental backup.")
        latest = max(rows, key=lambda r: (r.data_timestamp or r.created_at, r.created_at))
        if latest.status != "available":
            raise errors.InvalidInput("Invalid backup: The parent backup must be available for incremental "
                                      "backup.")
        return latest

    def create(self, ctx, volume_id: str, fields: dict, force: bool,
               incremental: bool = False) -> tuple[Backup, tuple]:
        """A backup row (creating) and the agent's cast. An incremental backup names its
        parent; the agent stores only the chunks that changed since it."""
        self._store()
        with self.db.session() as session:
            volume = self.service.volumes.get(ctx, volume_id, session)
            allowed = ("available", "in-use") if force else ("available",)
            if volume.status not in allowed:
                raise errors.InvalidVolume(f"Volume to be backed up must be available or in-use, but the current "
                                           f"status is '{volume.status}'.")
            parent = self._parent(session, ctx, volume.id) if incremental else None
            limits = self.service.quotas.limits(ctx.project_id, session)
            count, size = self.usage(session, ctx.project_id)
            if 0 <= limits["backups"] < count + 1:
                raise errors.QuotaOverLimit(f"Maximum number of backups allowed ({limits['backups']}) exceeded")
            if 0 <= limits["backup_gigabytes"] < size + volume.size:
                raise errors.QuotaOverLimit(f"Requested backup exceeds allowed Backup gigabytes quota. Requested "
                                            f"{volume.size}G, quota is {limits['backup_gigabytes']}G and {size}G "
                                            f"has been consumed.")
            now = utcnow()
            backup_id = str(uuid.uuid4())
            container = fields.get("container") or DEFAULT_CONTAINER
            if not isinstance(container, str) or "/" in container or len(container) > 255:
                raise errors.InvalidInput("Invalid backup container name.")
            row = Backup(id=backup_id, object_prefix=f"{account_of(ctx.project_id)}/{container}/{backup_id}",
                         volume_id=volume.id, project_id=ctx.project_id, user_id=ctx.user_id,
                         name=fields.get("name"), description=fields.get("description"), status="creating",
                         size=volume.size, container=container,
                         availability_zone=volume.availability_zone, meta=dict(fields.get("metadata") or {}),
                         snapshot_id=fields.get("snapshot_id"), data_timestamp=now, created_at=now, updated_at=now,
                         parent_id=parent.id if parent else None)
            if volume.encryption_key_id:  # the backup's own copy of the key, gone with the backup
                row.encryption_key_id = self.service.keys.copy(ctx, volume.encryption_key_id)
            session.add(row)
            status_after = volume.status
            volume.status, volume.updated_at = "backing-up", now
            cast = {"id": row.id, "volume_id": volume.id, "status_after": status_after, **location(row),
                    "volume_meta": dict(volume.meta or {})}
            if parent is not None:
                cast["parent"] = location(parent)
            if row.encryption_key_id:
                cast["encrypted"] = True
            return row, (queue_of(volume), cast)

    def update(self, ctx, backup_id: str, fields: dict) -> Backup:
        with self.db.session() as session:
            row = self.get(ctx, backup_id, session)
            for key in ("name", "description"):
                if key in fields:
                    setattr(row, key, fields[key])
            if "metadata" in fields:
                row.meta = dict(fields["metadata"] or {})
            row.updated_at = utcnow()
            return row

    def begin_delete(self, ctx, backup_id: str, force: bool = False) -> tuple | None:
        with self.db.session() as session:
            row = self.get(ctx, backup_id, session)
            if not force and row.status not in ("available", "error"):
                raise errors.InvalidInput(f"Backup status must be available or error, but the current status is "
                                          f"'{row.status}'.")
            if session.scalar(select(func.count()).select_from(Backup).where(Backup.parent_id == row.id)):
                raise errors.InvalidInput("Invalid backup: Incremental backups exist for this backup.")
            volume = session.get(Volume, row.volume_id)
            host = volume.host if volume is not None and volume.host else self.service.hosts.pick(None)
            row.status, row.updated_at = "deleting", utcnow()
            shared = session.scalar(select(func.count()).select_from(Backup)
                                    .where(Backup.object_prefix == row.object_prefix, Backup.id != row.id))
            queue = queue_of(volume) if volume is not None and volume.host else topic_for(host)
            return queue, {"id": row.id, **location(row), "keep_data": bool(shared)}

    def restore(self, ctx, backup_id: str, volume_id: str | None, name: str | None) -> tuple[dict, tuple]:
        with self.db.session() as session:
            backup = self.get(ctx, backup_id, session)
            if backup.status != "available":
                raise errors.InvalidInput(f"Backup status must be available, but the current status is "
                                          f"'{backup.status}'.")
            key_id = backup.encryption_key_id
            original = session.get(Volume, backup.volume_id) if key_id else None
            original_type = original.volume_type_id if original is not None else None
        new = volume_id is None
        if new:
            fields = {"size": backup.size, "name": name or f"restore_backup_{backup.id}", "restore": True}
            if key_id:  # a new volume of the backed-up volume's (encrypted) type, holding a copy of the key
                fields["backup_key"] = key_id
                if original_type is not None:
                    fields["volume_type"] = original_type
            volume, cast = self.service.volumes.create(ctx, fields)
            volume_id = volume.id
        forget = None
        with self.db.session() as session:
            backup = self.get(ctx, backup_id, session)
            volume = self.service.volumes.get(ctx, volume_id, session)
            if not new:
                if volume.status != "available":
                    raise errors.InvalidVolume(f"Volume to be restored to must be available, but the current status "
                                               f"is '{volume.status}'.")
                if volume.size < backup.size:
                    raise errors.InvalidVolume(f"Volume to be restored to is smaller than the backup to be "
                                               f"restored.")
                if bool(key_id) != bool(volume.encryption_key_id):
                    raise errors.InvalidVolume("Volume to be restored to must be encrypted if and only if the backup "
                                               "is: an encrypted backup restores into an encrypted volume.")
            if volume.host is None:
                raise errors.NoValidBackend()
            if key_id and not new:  # the volume takes a copy of the backup's key; its own goes
                forget, volume.encryption_key_id = volume.encryption_key_id, self.service.keys.copy(ctx, key_id)
            volume.status, volume.updated_at = "restoring-backup", utcnow()
            backup.status, backup.updated_at = "restoring", utcnow()
            answer = {"backup_id": backup.id, "volume_id": volume.id, "volume_name": volume.name or ""}
            cast = {"id": backup.id, "volume_id": volume.id, "size": volume.size, "new": new, **location(backup)}
            if key_id:
                cast["encrypted"] = True
            topic = queue_of(volume)
        self.service.keys.forget(forget)
        return answer, (topic, cast)

    def reset_status(self, ctx, backup_id: str, status: str) -> None:
        if status not in ("available", "error"):
            raise errors.InvalidInput(f"Invalid backup status {status}: must be available or error.")
        with self.db.session() as session:
            row = self.get(ctx, backup_id, session)
            row.status, row.updated_at = status, utcnow()

    def export_record(self, ctx, backup_id: str) -> dict:
        row = self.get(ctx, backup_id)
        if row.status != "available":
            raise errors.InvalidInput("Backup status must be available to export it.")
        record = {"id": row.id, "volume_id": row.volume_id, "size": row.size, "container": row.container,
                  "name": row.name, "description": row.description, "object_count": row.object_count,
                  "project_id": row.project_id, "object_prefix": row.object_prefix, "parent_id": row.parent_id}
        return {"backup_service": SERVICE_NAME,
                "backup_url": base64.b64encode(json.dumps(record).encode()).decode()}

    def import_record(self, ctx, service_name: str, url: str) -> Backup:
        if service_name != SERVICE_NAME:
            raise errors.InvalidInput(f"Backup service {service_name} is not served.")
        try:
            record = json.loads(base64.b64decode(url))
            if not isinstance(record["id"], str) or str(record["object_prefix"]).count("/") < 2:
                raise ValueError(record)
        except (ValueError, KeyError, TypeError):
            raise errors.InvalidInput("Can't parse backup record.") from None
        with self.db.session() as session:
            if session.get(Backup, record["id"]) is not None:
                raise errors.InvalidInput(f"Backup {record['id']} already exists.")
            row = Backup(id=record["id"], object_prefix=record["object_prefix"],
                         volume_id=record["volume_id"], project_id=ctx.project_id, user_id=ctx.user_id,
                         name=record.get("name"), description=record.get("description"), status="available",
                         size=int(record["size"]), object_count=int(record.get("object_count", 0)),
                         container=record.get("container") or DEFAULT_CONTAINER, meta={}, created_at=utcnow(),
                         updated_at=utcnow(), parent_id=record.get("parent_id"))
            session.add(row)
            return row
