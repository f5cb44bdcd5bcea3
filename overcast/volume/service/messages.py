"""User messages (3.3): why an asynchronous request failed, kept for the project to read.

Each message names an *action* (what was being done) and a *detail* (what went wrong)
by Cinder's numbers, so ``event_id`` reads ``VOLUME_<resource>_<action>_<detail>`` and
``user_message`` reads ``<action text>:<detail text>`` as Cinder's do. Messages expire
after ``TTL`` (Cinder's ``message_ttl``, 30 days); expired ones are not listed and are
removed when the next message is written.
"""

from __future__ import annotations

import datetime
import uuid

from sqlalchemy import delete, select

from overcast.common.db import utcnow
from overcast.volume import errors
from overcast.volume.models import Message
from overcast.volume.service.paging import page

TTL = datetime.timedelta(seconds=2592000)

# (id, text) as Cinder's message_field.Action and message_field.Detail
SCHEDULE_ALLOCATE_VOLUME = ("001", "schedule allocate volume")
ATTACH_VOLUME = ("002", "attach volume")
COPY_VOLUME_TO_IMAGE = ("003", "copy volume to image")
COPY_IMAGE_TO_VOLUME = ("005", "copy image to volume")
UNMANAGE_VOLUME = ("006", "unmanage volume")
EXTEND_VOLUME = ("007", "extend volume")
CREATE_VOLUME_FROM_BACKEND = ("008", "create volume from backend storage")
SNAPSHOT_CREATE = ("009", "create snapshot")
SNAPSHOT_DELETE = ("010", "delete snapshot")
ACTIONS = (SCHEDULE_ALLOCATE_VOLUME, ATTACH_VOLUME, COPY_VOLUME_TO_IMAGE, COPY_IMAGE_TO_VOLUME, UNMANAGE_VOLUME,
           EXTEND_VOLUME, CREATE_VOLUME_FROM_BACKEND, SNAPSHOT_CREATE, SNAPSHOT_DELETE)

UNKNOWN_ERROR = ("001", "An unknown error occurred.")
NO_BACKEND_AVAILABLE = ("003", "Could not find any available weighted backend.")
FAILED_TO_UPLOAD_VOLUME = ("004", "Failed to upload volume to image at backend.")
DRIVER_FAILED_EXTEND = ("010", "Volume Driver failed to extend volume.")
DRIVER_FAILED_CREATE = ("012", "Driver failed to create the volume.")
SNAPSHOT_CREATE_ERROR = ("013", "Snapshot failed to create.")
SNAPSHOT_DELETE_ERROR = ("016", "Snapshot failed to delete.")
DETAILS = (UNKNOWN_ERROR, NO_BACKEND_AVAILABLE, FAILED_TO_UPLOAD_VOLUME, DRIVER_FAILED_EXTEND, DRIVER_FAILED_CREATE,
           SNAPSHOT_CREATE_ERROR, SNAPSHOT_DELETE_ERROR)

VOLUME = "VOLUME"
VOLUME_SNAPSHOT = "VOLUME_SNAPSHOT"
SORT_KEYS = {"created_at": Message.created_at, "id": Message.id, "event_id": Message.event_id,
             "resource_type": Message.resource_type, "message_level": Message.message_level,
             "resource_uuid": Message.resource_uuid}
FILTERS = ("event_id", "resource_type", "resource_uuid", "message_level", "request_id")


def user_message(row: Message) -> str:
    action = next((text for ident, text in ACTIONS if ident == row.action_id), "unknown action")
    detail = next((text for ident, text in DETAILS if ident == row.detail_id), UNKNOWN_ERROR[1])
    return f"{action}:{detail}"


class Messages:
    def __init__(self, db):
        self.db = db

    def record(self, project_id: str, action: tuple[str, str], detail: tuple[str, str] = UNKNOWN_ERROR,
               resource_uuid: str | None = None, resource_type: str = VOLUME, request_id: str | None = None,
               session=None) -> None:
        """Write one message for ``project_id`` (in ``session`` if given)."""
        now = utcnow()
        row = Message(id=str(uuid.uuid4()), project_id=project_id, request_id=request_id or f"req-{uuid.uuid4()}",
                      resource_type=resource_type, resource_uuid=resource_uuid,
                      event_id=f"VOLUME_{resource_type}_{action[0]}_{detail[0]}", action_id=action[0],
                      detail_id=detail[0], message_level="ERROR", created_at=now, expires_at=now + TTL)
        if session is not None:
            session.add(row)
            return
        with self.db.session() as own:
            own.execute(delete(Message).where(Message.expires_at < now))
            own.add(row)

    def get(self, ctx, message_id: str) -> Message:
        query = select(Message).where(Message.id == message_id, Message.expires_at >= utcnow())
        if not ctx.is_admin:
            query = query.where(Message.project_id == ctx.project_id)
        row = self.db.first(query)
        if row is None:
            raise errors.MessageNotFound(message_id)
        return row

    def list(self, ctx, filters: dict, sort: list[tuple[str, str]], limit: int | None, marker: str | None,
             offset: int = 0) -> list[Message]:
        query = select(Message).where(Message.expires_at >= utcnow())
        if not ctx.is_admin:
            query = query.where(Message.project_id == ctx.project_id)
        for key, value in filters.items():
            query = query.where(getattr(Message, key) == value)
        order = [(SORT_KEYS[key], direction) for key, direction in sort] + [(Message.id, "desc")]
        query = query.order_by(*[col.asc() if d == "asc" else col.desc() for col, d in order])
        with self.db.session() as session:
            rows = list(session.scalars(query))
        return page(rows, marker, limit, offset)

    def delete(self, ctx, message_id: str) -> None:
        row = self.get(ctx, message_id)
        with self.db.session() as session:
            session.execute(delete(Message).where(Message.id == row.id))
