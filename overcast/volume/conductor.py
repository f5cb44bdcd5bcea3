"""The controller's end of the volume bus (topic ``volume-conductor``): volume agents
register their backend and report what their driver did; the rows change here, in
threads. Reports are idempotent by id: a report about a row that is gone is dropped.
"""

from __future__ import annotations

import asyncio
import logging

from overcast.common.api.context import RequestContext
from overcast.common.db import utcnow
from overcast.common.errors import NotFound
from overcast.volume.models import Attachment, Backup, Snapshot, Volume
from overcast.volume.service import messages
from overcast.volume.service.groups import Groups, GroupSnapshots
from overcast.volume.service.hosts import VOLUME

TOPIC = "volume-conductor"
COMPUTE_CONDUCTOR = "compute-conductor"
log = logging.getLogger("overcast.volume.conductor")
VOLUME_COLUMNS = ("status", "size", "error", "bootable", "attach_status", "host", "image_id", "image_metadata")
SNAPSHOT_COLUMNS = ("status", "progress", "error", "size")
BACKUP_COLUMNS = ("status", "object_count", "fail_reason")
ADMIN = RequestContext(user_id="cinder", roles=["admin"])
# (table, status before, status reported) -> the user message's action and detail
FAILURES = {
    ("Volume", "creating", "error"): (messages.CREATE_VOLUME_FROM_BACKEND, messages.DRIVER_FAILED_CREATE),
    ("Volume", "extending", "error_extending"): (messages.EXTEND_VOLUME, messages.DRIVER_FAILED_EXTEND),
    ("Snapshot", "creating", "error"): (messages.SNAPSHOT_CREATE, messages.SNAPSHOT_CREATE_ERROR),
    ("Snapshot", "deleting", "error_deleting"): (messages.SNAPSHOT_DELETE, messages.SNAPSHOT_DELETE_ERROR),
}


class Conductor:
    def __init__(self, volume):
        self.volume = volume
        self.db = volume.db

    def handlers(self) -> dict:
        return {"register_backend": self.register_backend, "volume_update": self.volume_update,
                "snapshot_update": self.snapshot_update, "backup_update": self.backup_update, "attachment_update": self.attachment_update,
                "attachment_complete": self.attachment_complete, "attachment_delete": self.attachment_delete,
                "attachment_roll_detaching": self.attachment_roll_detaching,
                "boot_volume": self.boot_volume, "unfinished": self.unfinished,
                "reimage_boot_volume": self.reimage_boot_volume,
                "attachment_info": self.attachment_info,
                "volume_encryption": self.volume_encryption, "attachment_encryption": self.attachment_encryption}

    # -- keys of encrypted volumes (never logged) ---------------------------------------

    async def volume_encryption(self, payload: dict) -> dict | None:
        """For the volume agent writing the volume (or reading a clone's source volume or
        snapshot, ``kind``): its passphrase, cipher and key size."""
        if payload.get("kind") == "snapshot":
            return await asyncio.to_thread(self.volume.keys.for_snapshot, payload["id"])
        return await asyncio.to_thread(self.volume.keys.for_volume, payload["id"])

    async def attachment_encryption(self, payload: dict) -> dict | None:
        """For the compute agent attaching the volume to the server the attachment names."""
        return await asyncio.to_thread(self.volume.keys.for_attachment, payload["attachment_id"],
                                       payload["instance_uuid"])

    async def register_backend(self, payload: dict) -> dict:
        await asyncio.to_thread(self.volume.hosts.register, payload["host"], VOLUME, payload.get("zone"),
                                payload.get("capabilities"), payload.get("cluster"))
        return {"registered": payload["host"]}

    async def volume_update(self, payload: dict) -> None:
        servers = await asyncio.to_thread(self._apply, Volume, VOLUME_COLUMNS, payload)
        # an attached volume grew, a reserved one was reimaged: Nova's side is told, as
        # Cinder posts the event to Nova
        name = "volume-reimaged" if payload.get("values", {}).get("reimaged") else "volume-extended"
        if servers:
            events = [{"name": name, "server_uuid": uuid, "tag": payload["id"]} for uuid in servers]
            await self.volume.bus.cast(COMPUTE_CONDUCTOR, "external_events", {"events": events})

    async def reimage_boot_volume(self, payload: dict) -> dict:
        """A compute agent rebuilds a volume-backed server (Nova 2.93): the root volume's
        attachment swapped for a reserved one and the volume reimaged; the new attachment."""
        owner = payload.get("owner") or {}
        ctx = RequestContext(user_id=owner.get("user_id"), project_id=owner.get("project_id"),
                             roles=["member", "reader"])
        found = await asyncio.to_thread(self.volume.reimage.for_rebuild, ctx, payload["instance_uuid"],
                                        payload["volume_id"], payload["image_id"])
        await self.volume.send("terminate_connection", found["terminate"])
        await self.volume.send("reimage_volume", found["reimage"])
        return {"attachment_id": found["attachment_id"]}

    async def attachment_info(self, payload: dict) -> dict | None:
        """The volume's size (GiB) and its connection info on the server, for a compute
        agent told that it grew; None when it is not attached there."""
        def find() -> dict | None:
            from sqlalchemy import select

            with self.db.session() as session:
                volume = session.get(Volume, payload["volume_id"])
                row = session.scalar(select(Attachment).where(Attachment.volume_id == payload["volume_id"],
                                                              Attachment.instance_uuid == payload["instance_uuid"]))
                if volume is None or row is None or not row.connection_info:
                    return None
                return {"size": volume.size, "connection_info": row.connection_info}

        return await asyncio.to_thread(find)

    async def backup_update(self, payload: dict) -> None:
        await asyncio.to_thread(self._apply, Backup, BACKUP_COLUMNS, payload)

    async def snapshot_update(self, payload: dict) -> None:
        await asyncio.to_thread(self._apply, Snapshot, SNAPSHOT_COLUMNS, payload)

    # -- attachments, for the compute agents (Nova's side of an attach) -------------------

    async def attachment_update(self, payload: dict) -> dict:
        """Connect a reserved attachment for the connector's host; its connection info."""
        row = await self.volume.attachments.connect(ADMIN, payload["attachment_id"], payload["connector"])
        return row.connection_info

    async def attachment_complete(self, payload: dict) -> None:
        await asyncio.to_thread(self.volume.attachments.complete, ADMIN, payload["attachment_id"],
                                payload.get("mountpoint"))

    async def attachment_delete(self, payload: dict) -> None:
        try:
            cast = await asyncio.to_thread(self.volume.attachments.remove, ADMIN, payload["attachment_id"])
        except NotFound:  # already gone (a retried message)
            return
        await self.volume.send("terminate_connection", cast)

    async def attachment_roll_detaching(self, payload: dict) -> None:
        """The guest did not let go of the volume: it stays attached and in-use."""
        def roll() -> None:
            try:
                attachment = self.volume.attachments.get(ADMIN, payload["attachment_id"])
            except NotFound:
                return
            self.volume.actions.roll_detaching(ADMIN, attachment.volume_id)

        await asyncio.to_thread(roll)

    async def boot_volume(self, payload: dict) -> dict:
        """A server boots from a volume: make it (or take the one named), wait until it is
        available, reserve it for the server and connect it to the agent's host."""
        return await self.volume.boot.prepare(payload["instance_uuid"], payload["bdm"], payload.get("owner") or {},
                                              payload["connector"])

    async def unfinished(self, payload: dict) -> dict:
        """Volumes and snapshots on an agent's backend left in a transient status (the agent
        restarted with work in flight): what it must finish or fail."""
        return await asyncio.to_thread(self._unfinished, payload["host"])

    def _unfinished(self, host: str) -> dict:
        from sqlalchemy import select

        transient = ("creating", "deleting", "extending", "uploading", "downloading")
        with self.db.session() as session:
            volumes = session.execute(select(Volume.id, Volume.status, Volume.attach_status)
                                      .where(Volume.host.like(f"{host}#%"), Volume.status.in_(transient))).all()
            snapshots = session.execute(select(Snapshot.id, Snapshot.status).join(Volume, Volume.id == Snapshot.volume_id)
                                        .where(Volume.host.like(f"{host}#%"),
                                               Snapshot.status.in_(("creating", "deleting")))).all()
        return {"volumes": [{"id": v.id, "status": v.status, "attached": v.attach_status == "attached"}
                            for v in volumes],
                "snapshots": [{"id": s.id, "status": s.status} for s in snapshots]}

    def _apply(self, model, columns, payload: dict) -> list[str]:
        """Write the report; the servers to tell when an attached volume finished growing."""
        forget = None
        with self.db.session() as session:
            row = session.get(model, payload["id"])
            if row is None:
                return []
            before = row.status
            if payload.get("deleted"):
                if model is Volume or model is Backup:  # (a snapshot's key is its volume's)
                    forget = row.encryption_key_id
                session.delete(row)
            else:
                for key, value in payload.get("values", {}).items():
                    if key in columns:
                        setattr(row, key, value)
                    elif key == "meta" and model is Volume and isinstance(value, dict):  # a restore's metadata
                        row.meta = {**(row.meta or {}), **value}
                row.updated_at = utcnow()
                self._message(session, model, row, before, payload.get("values", {}))
            session.flush()
            if model is Volume and row.group_id:
                Groups.settle(session, row.group_id)
            elif model is Snapshot and row.group_snapshot_id:
                GroupSnapshots.settle(session, row.group_snapshot_id)
            servers = []
            if model is Volume and before == "downloading" and row.status == "reserved" \
                    and payload.get("values", {}).get("reimaged"):
                servers = self.volume.reimage.servers_to_tell(session, row)
            elif model is Volume and before == "extending" and row.status == "in-use":
                from sqlalchemy import select

                servers = [uuid for uuid in session.scalars(select(Attachment.instance_uuid).where(
                    Attachment.volume_id == row.id, Attachment.attach_status == "attached")) if uuid]
        self.volume.keys.forget(forget)  # a deleted volume's or backup's key (a volume's snapshots went first)
        return servers

    def _message(self, session, model, row, before: str, values: dict) -> None:
        """A user message for the project when the agent reports a failure."""
        found = FAILURES.get((model.__name__, before, values.get("status")))
        if found is None and model is Volume and before == "uploading" and values.get("error"):
            found = (messages.COPY_VOLUME_TO_IMAGE, messages.FAILED_TO_UPLOAD_VOLUME)
        if found is not None:
            resource = messages.VOLUME_SNAPSHOT if model is Snapshot else messages.VOLUME
            self.volume.messages.record(row.project_id, found[0], found[1], row.id, resource, session=session)
