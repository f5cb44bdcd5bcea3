"""Manage and unmanage (3.8+): volumes and snapshots a backend holds but the cloud does not.

Listing asks the host's volume agent (a bus call: only the agent sees its backend);
managing writes the record (``managing``) and casts to the agent, which takes the object
over and reports its size; unmanaging forgets the record once the agent let go, leaving
the data on the backend.
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from overcast.common.bus import BusTimeout, RemoteError
from overcast.common.db import utcnow
from overcast.common.errors import NotFound, ServiceUnavailable
from overcast.volume import errors
from overcast.volume.models import Attachment, ServiceRow, Snapshot, Volume
from overcast.volume.service.hosts import VOLUME, queue_of, topic_for

SORT_KEYS = ("reference", "size")
UNMANAGEABLE = ("available", "error", "error_managing")


class HostNotFound(NotFound):
    def __init__(self, host: str):
        super().__init__(f"Host '{host}' not found")


class Manage:
    def __init__(self, service):
        self.service = service
        self.db = service.db

    def backend(self, host: str | None) -> ServiceRow:
        """The cinder-volume service of ``host@backend[#pool]``; raises HostNotFound."""
        if not host or not isinstance(host, str):
            raise errors.InvalidInput("Missing required element 'host' in request body.")
        with self.db.session() as session:
            row = session.get(ServiceRow, (host.split("#", 1)[0], VOLUME))
        if row is None:
            raise HostNotFound(host)
        return row

    # -- listing -----------------------------------------------------------------------

    async def listing(self, host: str | None, kind: str, sort: list[tuple[str, str]], limit: int | None,
                      marker: str | None, offset: int) -> list[dict]:
        """What the backend of ``host`` could manage (``kind``: volumes or snapshots)."""
        import asyncio

        if not host:
            raise errors.InvalidInput("Either 'host' or 'cluster' must be specified.")
        backend = await asyncio.to_thread(self.backend, host)
        managed = await asyncio.to_thread(self._managed, backend.host, kind)
        try:
            found = await self.service.bus.call(topic_for(backend.host), f"list_manageable_{kind}",
                                                {"managed": sorted(managed)}, timeout=30)
        except (BusTimeout, RemoteError) as error:
            raise ServiceUnavailable(f"The volume service on {backend.host} did not answer: {error}") from None
        for key, direction in reversed(sort or [("reference", "asc")]):
            found.sort(key=lambda e: (e["size"] if key == "size" else str(e["reference"])),
                       reverse=direction == "desc")
        if marker:
            index = next((i for i, e in enumerate(found) if marker in (str(e["reference"]),
                                                                        e["reference"].get("source-name"))), None)
            if index is None:
                raise errors.InvalidInput(f"Marker {marker} is not in the list.")
            found = found[index + 1:]
        found = found[offset:]
        return found[:limit] if limit is not None else found

    def _managed(self, host: str, kind: str) -> set[str]:
        with self.db.session() as session:
            if kind == "volumes":
                return set(session.scalars(select(Volume.id).where(Volume.host.like(f"{host}#%"))))
            return set(session.scalars(select(Snapshot.id).join(Volume, Volume.id == Snapshot.volume_id)
                                       .where(Volume.host.like(f"{host}#%"))))

    # -- volumes -------------------------------------------------------------------------

    def manage_volume(self, ctx, fields: dict) -> tuple[Volume, tuple]:
        ref = fields.get("ref")
        if not isinstance(ref, dict) or not ref:
            raise errors.InvalidInput("Missing required element 'ref' in request body.")
        backend = self.backend(fields.get("host"))
        pool = fields["host"] if "#" in fields["host"] else \
            f"{backend.host}#{(backend.capabilities or {}).get('pool', backend.host.partition('@')[2])}"
        with self.db.session() as session:
            vtype = self.service.types.resolve(ctx, fields.get("volume_type"), session)
            zone = fields.get("availability_zone") or backend.zone
            if zone != backend.zone:
                raise errors.InvalidInput(f"Availability zone '{zone}' is invalid.")
            self.service.quotas.check(session, ctx.project_id, vtype.name, volumes=1)
            row = Volume(id=str(uuid.uuid4()), project_id=ctx.project_id, user_id=ctx.user_id,
                         name=fields.get("name"), description=fields.get("description"), size=0, status="managing",
                         availability_zone=zone, host=pool, volume_type_id=vtype.id,
                         bootable=bool(fields.get("bootable")), meta=dict(fields.get("metadata") or {}),
                         created_at=utcnow(), updated_at=utcnow())
            session.add(row)
        return row, (topic_for(pool), {"id": row.id, "ref": ref})

    def begin_unmanage(self, ctx, volume_id: str) -> tuple | None:
        with self.db.session() as session:
            row = self.service.volumes.get(ctx, volume_id, session)
            attached = session.scalar(select(func.count()).select_from(Attachment)
                                      .where(Attachment.volume_id == row.id))
            if attached or row.attach_status == "attached" or row.status not in UNMANAGEABLE or row.group_id:
                raise errors.InvalidVolume(f"Volume status must be available or error or error_managing and must not "
                                           f"be attached or belong to a group, but current status is: {row.status}.")
            if session.scalar(select(func.count()).select_from(Snapshot).where(Snapshot.volume_id == row.id)):
                raise errors.InvalidVolume("Volume cannot be unmanaged while it has snapshots.")
            if self.service.types.encrypted([row.volume_type_id]):
                raise errors.InvalidVolume("Unmanaging encrypted volumes is not supported.")
            if row.host is None:
                session.delete(row)
                return None
            row.status, row.updated_at = "unmanaging", utcnow()
            return queue_of(row), {"id": row.id}

    # -- snapshots -------------------------------------------------------------------------

    def manage_snapshot(self, ctx, fields: dict) -> tuple[Snapshot, tuple]:
        ref = fields.get("ref")
        if not isinstance(ref, dict) or not ref:
            raise errors.InvalidInput("Missing required element 'ref' in request body.")
        if not fields.get("volume_id"):
            raise errors.InvalidInput("Missing required element 'volume_id' in request body.")
        with self.db.session() as session:
            volume = self.service.volumes.get(ctx, fields["volume_id"], session)
            if volume.host is None or volume.status not in ("available", "in-use"):
                raise errors.InvalidVolume(f"Volume {volume.id} status must be available or in-use, but current "
                                           f"status is: {volume.status}.")
            self.service.quotas.check(session, ctx.project_id, None, snapshots=1, gigabytes=volume.size)
            row = Snapshot(id=str(uuid.uuid4()), volume_id=volume.id, project_id=ctx.project_id,
                           user_id=ctx.user_id, name=fields.get("name"), description=fields.get("description"),
                           size=volume.size, status="managing", progress="0%", meta=dict(fields.get("metadata") or {}),
                           created_at=utcnow(), updated_at=None)
            session.add(row)
            return row, (queue_of(volume), {"id": row.id, "volume_id": volume.id, "ref": ref})

    def begin_unmanage_snapshot(self, ctx, snapshot_id: str) -> tuple | None:
        with self.db.session() as session:
            row = self.service.snapshots.get(ctx, snapshot_id, session)
            if row.status not in ("available", "error") or row.group_snapshot_id:
                raise errors.InvalidSnapshot(f"Snapshot status must be available or error and must not be part of a "
                                             f"group snapshot, but current status is: {row.status}.")
            volume = session.get(Volume, row.volume_id)
            if volume is None or volume.host is None:
                session.delete(row)
                return None
            row.status, row.updated_at = "unmanaging", utcnow()
            return queue_of(volume), {"id": row.id, "volume_id": volume.id}
