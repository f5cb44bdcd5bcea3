"""Migrations of instances between hosts, as os-migrations and /servers/{id}/migrations show them.

Whoever moves an instance records it here: ``record`` when a resize, cold migration, live
migration or evacuation starts and ``set_status`` as it goes (a resize ends ``finished``,
then ``confirmed`` or ``reverted``; a live migration ``completed``). Listing follows Nova's
``migration_get_all_by_filters``; a deleted instance's migrations are no longer listed
(Nova soft-deletes them with the instance).
"""

from __future__ import annotations

import datetime
import uuid as uuids
from dataclasses import dataclass, field

from sqlalchemy import and_, delete, or_, select

from overcast.common.db import Database, utcnow
from overcast.compute import errors
from overcast.compute.models import ComputeNode, Instance, Migration

TYPES = ("migration", "resize", "live-migration", "evacuation")
LIVE_IN_PROGRESS = ("queued", "preparing", "running", "post-migrating")
POST_COPY = "running (post-copy)"  # Nova's: not listed as in progress, but abort/force say 400


@dataclass
class MigrationQuery:
    """os-migrations filters; ``paged`` is the 2.59 form (newest first, limit and marker)."""

    filters: dict = field(default_factory=dict)  # status host source_compute node migration_type hidden ...
    changes_since: datetime.datetime | None = None
    changes_before: datetime.datetime | None = None
    paged: bool = False
    limit: int | None = None
    marker: str | None = None


class Migrations:
    def __init__(self, db: Database):
        self.db = db

    def record(self, instance_uuid: str, project_id: str, user_id: str, source_host: str | None,
               dest_host: str | None, old_flavor: dict, new_flavor: dict, migration_type: str,
               status: str) -> str:
        """Add a migration of ``instance_uuid`` and return its uuid. Nodes (and the
        destination's IP, Nova's ``dest_host``) come from the hosts' compute nodes; a host
        may be None while unknown (a cold migration not yet scheduled). ValueError for a
        ``migration_type`` Nova does not know."""
        if migration_type not in TYPES:
            raise ValueError(f"migration_type must be one of {TYPES}, not {migration_type!r}")
        with self.db.session() as session:
            nodes = {node.host: node for node in session.scalars(
                select(ComputeNode).where(ComputeNode.host.in_([h for h in (source_host, dest_host) if h])))}
            source, dest = nodes.get(source_host), nodes.get(dest_host)
            row = Migration(uuid=str(uuids.uuid4()), instance_uuid=instance_uuid, project_id=project_id,
                            user_id=user_id, source_compute=source_host, dest_compute=dest_host,
                            source_node=source.hypervisor_hostname if source else source_host,
                            dest_node=dest.hypervisor_hostname if dest else dest_host,
                            dest_host=dest.host_ip if dest else None, old_flavor=dict(old_flavor or {}),
                            new_flavor=dict(new_flavor or {}), migration_type=migration_type, status=status,
                            created_at=utcnow())
            session.add(row)
            return row.uuid

    def forget(self, migration_uuid: str) -> None:
        """Drop a migration recorded for a move the API then refused (no trace, as Nova
        records none for a request it rejects)."""
        with self.db.session() as session:
            session.execute(delete(Migration).where(Migration.uuid == migration_uuid))

    def set_status(self, instance_uuid: str, status: str) -> str | None:
        """Set the status of the instance's latest migration; its uuid, or None when it has none."""
        with self.db.session() as session:
            row = session.scalars(select(Migration).where(Migration.instance_uuid == instance_uuid)
                                  .order_by(Migration.created_at.desc(), Migration.id.desc())).first()
            if row is None:
                return None
            row.status = status
            row.updated_at = utcnow()
            return row.uuid

    def list_migrations(self, query: MigrationQuery) -> list[Migration]:
        """Matching migrations: in id order, or with ``paged`` newest first from after the
        ``marker`` migration (uuid; ComputeInvalid when unknown), at most ``limit``."""
        if query.limit == 0:
            return []
        f = query.filters
        live = select(Instance.uuid).where(Instance.deleted.is_(False))
        stmt = select(Migration).where(Migration.instance_uuid.in_(live))
        if "status" in f:
            stmt = stmt.where(Migration.status == f["status"])
        if "host" in f:
            stmt = stmt.where(or_(Migration.source_compute == f["host"], Migration.dest_compute == f["host"]))
        elif "source_compute" in f:
            stmt = stmt.where(Migration.source_compute == f["source_compute"])
        if "node" in f:
            stmt = stmt.where(or_(Migration.source_node == f["node"], Migration.dest_node == f["node"]))
        for name in ("migration_type", "instance_uuid", "user_id", "project_id"):
            if name in f:
                stmt = stmt.where(getattr(Migration, name) == f[name])
        if f.get("hidden", "").lower() in ("1", "true", "t", "yes", "y", "on"):
            return []  # nothing here is hidden (Nova hides a cross-cell move's source copy)
        if query.changes_since is not None:
            stmt = stmt.where(Migration.updated_at >= query.changes_since)
        if query.changes_before is not None:
            stmt = stmt.where(Migration.updated_at <= query.changes_before)
        with self.db.session() as session:
            if not query.paged:
                return list(session.scalars(stmt.order_by(Migration.id)))
            if query.marker is not None:
                marker = session.scalars(select(Migration).where(Migration.uuid == query.marker)).first()
                if marker is None:
                    raise errors.ComputeInvalid(f"Marker {query.marker} could not be found.")
                stmt = stmt.where(or_(Migration.created_at < marker.created_at,
                                      and_(Migration.created_at == marker.created_at, Migration.id < marker.id)))
            stmt = stmt.order_by(Migration.created_at.desc(), Migration.id.desc())
            return list(session.scalars(stmt.limit(query.limit) if query.limit else stmt))

    def live_in_progress(self, instance_uuid: str) -> list[Migration]:
        """The instance's live migrations still under way (what /servers/{id}/migrations lists)."""
        with self.db.session() as session:
            return list(session.scalars(
                select(Migration).where(Migration.instance_uuid == instance_uuid,
                                        Migration.migration_type == "live-migration",
                                        Migration.status.in_(LIVE_IN_PROGRESS)).order_by(Migration.id)))

    def get_live_in_progress(self, instance_uuid: str, migration_id: str, also: tuple = ()) -> Migration:
        """One in-progress live migration of the instance by id (or in a status of ``also``),
        else NotFound with Nova's reason."""
        with self.db.session() as session:
            row = None
            if migration_id.isdigit() and int(migration_id) < 1 << 63:
                row = session.scalars(select(Migration).where(Migration.id == int(migration_id),
                                                              Migration.instance_uuid == instance_uuid)).first()
        if row is None:
            raise errors.ComputeNotFound(f"In-progress live migration {migration_id} is not found for server "
                                         f"{instance_uuid}.")
        if row.migration_type != "live-migration":
            raise errors.ComputeNotFound(f"Migration {migration_id} for server {instance_uuid} is not "
                                         "live-migration.")
        if row.status not in LIVE_IN_PROGRESS + tuple(also):
            raise errors.ComputeNotFound(f"Live migration {migration_id} for server {instance_uuid} is not in "
                                         "progress.")
        return row
