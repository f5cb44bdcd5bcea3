"""Attachments: a volume connected to a server (Cinder's v3 attachments API, the legacy
os-attach/os-detach actions and Nova's os-volume_attachments all land here).

States: an attachment is ``reserved`` (no connector yet), ``attaching`` (connection
made), ``attached`` (the hypervisor has it), then deleted. The volume follows:
available -> reserved -> attaching -> in-use -> detaching -> available; a multiattach
volume stays in-use while any attachment is left.
"""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import select

from overcast.common.db import utcnow
from overcast.volume import errors
from overcast.volume.models import Attachment, Volume
from overcast.volume.service.hosts import queue_of

CONNECT_TIMEOUT = 60.0


class Attachments:
    def __init__(self, service):
        self.service = service
        self.db = service.db

    def get(self, ctx, attachment_id: str, session=None) -> Attachment:
        row = self.db.first(select(Attachment).where(Attachment.id == attachment_id), session)
        if row is None:
            raise errors.AttachmentNotFound(attachment_id)
        try:
            self.service.volumes.get(ctx, row.volume_id, session)
        except errors.VolumeNotFound:
            raise errors.AttachmentNotFound(attachment_id) from None
        return row

    def list(self, ctx, filters: dict, all_projects: bool = False) -> list[Attachment]:
        query = select(Attachment).join(Volume, Volume.id == Attachment.volume_id).order_by(Attachment.created_at)
        if not (ctx.is_admin and all_projects):
            query = query.where(Volume.project_id == ctx.project_id)
        if filters.get("volume_id"):
            query = query.where(Attachment.volume_id == filters["volume_id"])
        if filters.get("instance_id"):
            query = query.where(Attachment.instance_uuid == filters["instance_id"])
        if filters.get("status"):
            query = query.where(Attachment.attach_status == filters["status"])
        with self.db.session() as session:
            return list(session.scalars(query))

    def for_instance(self, instance_uuid: str) -> list[Attachment]:
        """Every attachment of a server (Nova's block device list), oldest first."""
        with self.db.session() as session:
            return list(session.scalars(select(Attachment).where(Attachment.instance_uuid == instance_uuid)
                                        .order_by(Attachment.created_at)))

    def for_instances(self, instance_uuids: list[str]) -> dict[str, list[Attachment]]:
        found: dict[str, list[Attachment]] = {}
        with self.db.session() as session:
            for start in range(0, len(instance_uuids), 500):
                chunk = instance_uuids[start:start + 500]
                for row in session.scalars(select(Attachment).where(Attachment.instance_uuid.in_(chunk))
                                           .order_by(Attachment.created_at)):
                    found.setdefault(row.instance_uuid, []).append(row)
        return found

    def reserve(self, ctx, volume_id: str, instance_uuid: str | None, mode: str = "rw", mountpoint: str | None = None,
                status: str = "reserved", delete_on_termination: bool = False, tag: str | None = None) -> Attachment:
        """A new attachment; the volume goes ``reserved`` (or stays in-use when multiattach)."""
        if mode not in ("rw", "ro"):
            raise errors.InvalidInput(f"Invalid attach mode {mode!r}, it must be rw or ro.")
        with self.db.session() as session:
            volume = self.service.volumes.get(ctx, volume_id, session)
            others = list(session.scalars(select(Attachment).where(Attachment.volume_id == volume.id)))
            if volume.status == "in-use" and volume.multiattach:
                if any(a.instance_uuid == instance_uuid and instance_uuid for a in others):
                    raise errors.InvalidVolume(f"Volume {volume.id} is already attached to server {instance_uuid}.")
            elif volume.status not in ("available", "downloading") or (others and not volume.multiattach):
                raise errors.InvalidVolume(f"Volume {volume.id} status must be available or downloading to reserve, "
                                           f"but the current status is {volume.status}.")
            if volume.readonly and mode == "rw":
                mode = "ro"
            row = Attachment(id=str(uuid.uuid4()), volume_id=volume.id, instance_uuid=instance_uuid,
                             mountpoint=mountpoint, attach_status=status, attach_mode=mode,
                             delete_on_termination=delete_on_termination, tag=tag, created_at=utcnow())
            session.add(row)
            if volume.status != "in-use":
                volume.status = "attaching" if status == "attaching" else "reserved"
            volume.updated_at = utcnow()
            return row

    async def connect(self, ctx, attachment_id: str, connector: dict) -> Attachment:
        """Make the connection for ``connector``'s host: the backend's connection info is
        stored on the attachment (the volume goes ``attaching``)."""
        row = await asyncio.to_thread(self.get, ctx, attachment_id)
        volume = await asyncio.to_thread(self.service.volumes.get, ctx, row.volume_id)
        if volume.host is None or volume.status in ("error", "creating", "deleting"):
            raise errors.InvalidVolume(f"Volume {volume.id} status must be available to connect, but the current "
                                       f"status is {volume.status}.")
        info = await self.service.bus.call(queue_of(volume), "initialize_connection",
                                           {"id": volume.id, "connector": connector, "mode": row.attach_mode},
                                           timeout=CONNECT_TIMEOUT)
        qos = await asyncio.to_thread(self.service.qos.for_volume, volume)
        info = {**info, "data": {**(info.get("data") or {}), "qos_specs": qos}, "attachment_id": row.id,
                "volume_id": volume.id, "serial": volume.id}
        return await asyncio.to_thread(self._connected, attachment_id, connector, info)

    def _connected(self, attachment_id: str, connector: dict, info: dict) -> Attachment:
        with self.db.session() as session:
            row = session.get(Attachment, attachment_id)
            if row is None:
                raise errors.AttachmentNotFound(attachment_id)
            row.connector, row.connection_info = connector, info
            row.attached_host = connector.get("host")
            if connector.get("mountpoint"):
                row.mountpoint = connector["mountpoint"]
            if row.attach_status == "reserved":
                row.attach_status = "attaching"
            volume = session.get(Volume, row.volume_id)
            if volume.status != "in-use":
                volume.status = "attaching"
            return row

    def complete(self, ctx, attachment_id: str, mountpoint: str | None = None) -> Attachment:
        with self.db.session() as session:
            row = self.get(ctx, attachment_id, session)
            row.attach_status, row.attached_at = "attached", utcnow()
            if mountpoint:
                row.mountpoint = mountpoint
            volume = session.get(Volume, row.volume_id)
            volume.status, volume.attach_status, volume.updated_at = "in-use", "attached", utcnow()
            return row

    def remove(self, ctx, attachment_id: str) -> tuple | None:
        """Delete the attachment; the volume goes back to available when it was the last.
        Returns the terminate_connection cast to make (or None)."""
        with self.db.session() as session:
            row = self.get(ctx, attachment_id, session)
            return self.drop(session, row)

    def drop(self, session, row: Attachment) -> tuple | None:
        """Delete ``row`` in ``session``; the volume's status follows; the terminate_connection cast."""
        volume = session.get(Volume, row.volume_id)
        session.delete(row)
        session.flush()
        left = session.scalars(select(Attachment).where(Attachment.volume_id == volume.id)).all()
        if not left:
            volume.status, volume.attach_status = "available", "detached"
        elif not any(a.attach_status == "attached" for a in left):
            volume.status, volume.attach_status = "reserved", "detached"
        volume.updated_at = utcnow()
        if volume.host and row.connector:
            return queue_of(volume), {"id": volume.id, "connector": row.connector}
        return None

    def detach_instance(self, ctx, volume_id: str, instance_uuid: str | None,
                        attachment_id: str | None = None) -> list[tuple]:
        """Remove the attachments of ``volume_id`` to ``instance_uuid`` (or ``attachment_id``,
        or all of them); the casts to make. Raises InvalidVolume when a given attachment or
        server matches none; a volume with no attachment at all just goes back to available
        (Cinder's legacy os-detach: "Volume detach called, but volume not attached")."""
        with self.db.session() as session:
            volume = self.service.volumes.get(ctx, volume_id, session)
            rows = list(session.scalars(select(Attachment).where(Attachment.volume_id == volume.id)))
            if not rows and not attachment_id and not instance_uuid:
                if volume.status == "maintenance":
                    raise errors.InvalidVolume("The volume cannot be detached in maintenance mode.")
                volume.status, volume.attach_status, volume.updated_at = "available", "detached", utcnow()
                return []
            if attachment_id:
                rows = [r for r in rows if r.id == attachment_id]
            elif instance_uuid:
                rows = [r for r in rows if r.instance_uuid == instance_uuid]
            if not rows:
                raise errors.InvalidVolume("Volume must be attached in order to detach.")
            return [cast for cast in (self.drop(session, r) for r in rows) if cast]

    def server_gone(self, instance_uuid: str) -> list[str]:
        """A server was deleted: its attachments go; the volume ids to delete with it
        (``delete_on_termination``)."""
        doomed = []
        with self.db.session() as session:
            for row in session.scalars(select(Attachment).where(Attachment.instance_uuid == instance_uuid)).all():
                if row.delete_on_termination:
                    doomed.append(row.volume_id)
                self.drop(session, row)
        return doomed
