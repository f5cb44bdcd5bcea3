"""What hangs off a server: metadata, tags, and its instance actions with their events."""

from __future__ import annotations

from sqlalchemy import delete, func, select

from overcast.common.db import utcnow
from overcast.compute import errors
from overcast.compute.models import InstanceAction, InstanceActionEvent, InstanceMetadata, InstanceTag

MAX_TAGS = 50


class Metadata:
    def __init__(self, compute):
        self.compute = compute
        self.db = compute.db

    def _check_quota(self, session, ctx, uuid: str, count: int) -> None:
        limit = self.compute.quotas.limits(ctx.project_id)["metadata_items"]
        if 0 <= limit < count:
            raise errors.QuotaExceeded(f"Quota exceeded for metadata_items: Maximum number of metadata items "
                                       f"exceeds {limit}", over=["metadata_items"])

    def _locked_server(self, session, ctx, uuid: str):
        row = self.compute.servers.get(ctx, uuid, session)
        self.compute.actions.check_lock(ctx, row)
        return row

    def list(self, ctx, uuid: str) -> dict[str, str]:
        with self.db.session() as session:
            self.compute.servers.get(ctx, uuid, session)
            return dict(session.execute(select(InstanceMetadata.key, InstanceMetadata.value)
                                        .where(InstanceMetadata.instance_uuid == uuid)).all())

    def get(self, ctx, uuid: str, key: str) -> str:
        value = self.list(ctx, uuid).get(key)
        if value is None:
            raise errors.ComputeNotFound("Metadata item was not found")
        return value

    def replace(self, ctx, uuid: str, items: dict[str, str]) -> dict[str, str]:
        with self.db.session() as session:
            row = self._locked_server(session, ctx, uuid)
            self._check_quota(session, ctx, uuid, len(items))
            session.execute(delete(InstanceMetadata).where(InstanceMetadata.instance_uuid == uuid))
            for key, value in items.items():
                session.add(InstanceMetadata(instance_uuid=uuid, key=key, value=value))
            row.updated_at = utcnow()
        return dict(items)

    def update(self, ctx, uuid: str, items: dict[str, str]) -> dict[str, str]:
        with self.db.session() as session:
            row = self._locked_server(session, ctx, uuid)
            current = dict(session.execute(select(InstanceMetadata.key, InstanceMetadata.value)
                                           .where(InstanceMetadata.instance_uuid == uuid)).all())
            merged = {**current, **items}
            self._check_quota(session, ctx, uuid, len(merged))
            for key, value in items.items():
                existing = session.get(InstanceMetadata, (uuid, key))
                if existing is None:
                    session.add(InstanceMetadata(instance_uuid=uuid, key=key, value=value))
                else:
                    existing.value = value
            row.updated_at = utcnow()
            return merged

    def delete(self, ctx, uuid: str, key: str) -> None:
        with self.db.session() as session:
            row = self._locked_server(session, ctx, uuid)
            gone = session.execute(delete(InstanceMetadata).where(InstanceMetadata.instance_uuid == uuid,
                                                                  InstanceMetadata.key == key))
            if gone.rowcount != 1:
                raise errors.ComputeNotFound("Metadata item was not found")
            row.updated_at = utcnow()


class Tags:
    def __init__(self, compute):
        self.compute = compute
        self.db = compute.db

    def list(self, ctx, uuid: str) -> list[str]:
        with self.db.session() as session:
            self.compute.servers.get(ctx, uuid, session)
            return sorted(session.scalars(select(InstanceTag.tag).where(InstanceTag.instance_uuid == uuid)))

    def replace(self, ctx, uuid: str, tags: list[str]) -> list[str]:
        with self.db.session() as session:
            row = self.compute.servers.get(ctx, uuid, session)
            session.execute(delete(InstanceTag).where(InstanceTag.instance_uuid == uuid))
            for tag in dict.fromkeys(tags):
                session.add(InstanceTag(instance_uuid=uuid, tag=tag))
            row.updated_at = utcnow()
        return sorted(set(tags))

    def add(self, ctx, uuid: str, tag: str) -> bool:
        """Add one tag; False if the server had it already."""
        with self.db.session() as session:
            row = self.compute.servers.get(ctx, uuid, session)
            if session.get(InstanceTag, (uuid, tag)) is not None:
                return False
            count = session.scalar(select(func.count()).select_from(InstanceTag)
                                   .where(InstanceTag.instance_uuid == uuid))
            if count >= MAX_TAGS:
                raise errors.ComputeInvalid(f"Instance {uuid} has too many tags: a server may have {MAX_TAGS} tags.")
            session.add(InstanceTag(instance_uuid=uuid, tag=tag))
            row.updated_at = utcnow()
            return True

    def has(self, ctx, uuid: str, tag: str) -> bool:
        with self.db.session() as session:
            self.compute.servers.get(ctx, uuid, session)
            return session.get(InstanceTag, (uuid, tag)) is not None

    def delete(self, ctx, uuid: str, tag: str | None = None) -> None:
        """One tag (404 if the server lacks it), or all of them."""
        with self.db.session() as session:
            row = self.compute.servers.get(ctx, uuid, session)
            query = delete(InstanceTag).where(InstanceTag.instance_uuid == uuid)
            if tag is not None:
                query = query.where(InstanceTag.tag == tag)
            gone = session.execute(query)
            if tag is not None and gone.rowcount != 1:
                raise errors.ComputeNotFound(f"Tag {tag} could not be found.")
            row.updated_at = utcnow()


class InstanceActions:
    def __init__(self, compute):
        self.compute = compute
        self.db = compute.db

    def list(self, ctx, uuid: str, limit: int | None = None, marker: str | None = None,
             changes_since=None, changes_before=None) -> list[InstanceAction]:
        with self.db.session() as session:
            self.compute.servers.get(ctx, uuid, session, deleted=True)
            query = (select(InstanceAction).where(InstanceAction.instance_uuid == uuid)
                     .order_by(InstanceAction.start_time.desc(), InstanceAction.id.desc()))
            if changes_since is not None:
                query = query.where(InstanceAction.updated_at >= changes_since)
            if changes_before is not None:
                query = query.where(InstanceAction.updated_at <= changes_before)
            if marker is not None:
                anchor = session.scalars(select(InstanceAction).where(InstanceAction.instance_uuid == uuid,
                                                                      InstanceAction.request_id == marker)).first()
                if anchor is None:
                    raise errors.ComputeInvalid(f"Marker {marker} could not be found.")
                query = query.where(InstanceAction.id < anchor.id)
            if limit is not None:
                query = query.limit(limit)
            return list(session.scalars(query))

    def get(self, ctx, uuid: str, request_id: str) -> tuple[InstanceAction, list[InstanceActionEvent]]:
        with self.db.session() as session:
            self.compute.servers.get(ctx, uuid, session, deleted=True)
            action = session.scalars(select(InstanceAction).where(InstanceAction.instance_uuid == uuid,
                                                                  InstanceAction.request_id == request_id)
                                     .order_by(InstanceAction.id.desc())).first()
            if action is None:
                raise errors.ComputeNotFound(f"Action for request_id {request_id} on instance {uuid} not found")
            events = list(session.scalars(select(InstanceActionEvent).where(InstanceActionEvent.action_id == action.id)
                                          .order_by(InstanceActionEvent.id)))
            return action, events
