"""Volume transfers: a project offers an available volume (it goes ``awaiting-transfer``);
another project accepts it with the transfer id and the auth key, and the volume (with
its snapshots) becomes that project's, counted against its quotas."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid

from sqlalchemy import select

from overcast.common.db import utcnow
from overcast.volume import errors
from overcast.volume.models import Snapshot, Transfer, Volume, VolumeType


class TransferNotFound(errors.NotFound):
    def __init__(self, transfer_id: str):
        super().__init__(f"Transfer {transfer_id} could not be found.")


def _hash(salt: str, key: str) -> str:
    return hashlib.sha256((salt + key).encode()).hexdigest()


class Transfers:
    def __init__(self, service):
        self.service = service
        self.db = service.db

    def get(self, ctx, transfer_id: str, session=None) -> Transfer:
        query = select(Transfer).where(Transfer.id == transfer_id)
        if not ctx.is_admin:
            query = query.where(Transfer.project_id == ctx.project_id)
        row = self.db.first(query, session)
        if row is None:
            raise TransferNotFound(transfer_id)
        return row

    def list(self, ctx, all_projects: bool = False) -> list[Transfer]:
        query = select(Transfer).order_by(Transfer.created_at)
        if not (ctx.is_admin and all_projects):
            query = query.where(Transfer.project_id == ctx.project_id)
        with self.db.session() as session:
            return list(session.scalars(query))

    def create(self, ctx, volume_id: str, name: str | None, no_snapshots: bool = False) -> tuple[Transfer, str]:
        """The transfer and its auth key (shown once)."""
        with self.db.session() as session:
            volume = self.service.volumes.get(ctx, volume_id, session)
            if volume.status != "available":
                raise errors.InvalidVolume("status must be available")
            if volume.attach_status == "attached":
                raise errors.InvalidVolume("volume is attached")
            key = secrets.token_hex(8)
            salt = secrets.token_hex(8)
            row = Transfer(id=str(uuid.uuid4()), volume_id=volume.id, project_id=volume.project_id, name=name,
                           salt=salt, crypt_hash=_hash(salt, key), no_snapshots=no_snapshots, created_at=utcnow())
            session.add(row)
            volume.status, volume.updated_at = "awaiting-transfer", utcnow()
            return row, key

    def delete(self, ctx, transfer_id: str) -> None:
        with self.db.session() as session:
            row = self.get(ctx, transfer_id, session)
            volume = session.get(Volume, row.volume_id)
            if volume is not None and volume.status == "awaiting-transfer":
                volume.status, volume.updated_at = "available", utcnow()
            session.delete(row)

    def accept(self, ctx, transfer_id: str, auth_key: str) -> Transfer:
        with self.db.session() as session:
            row = session.get(Transfer, transfer_id)
            if row is None:
                raise TransferNotFound(transfer_id)
            if not hmac.compare_digest(_hash(row.salt, auth_key or ""), row.crypt_hash):
                raise errors.InvalidInput(f"Attempt to transfer {transfer_id} with invalid auth key.")
            volume = session.get(Volume, row.volume_id)
            if volume is None or volume.status != "awaiting-transfer":
                raise errors.InvalidVolume("Transfer volume is not awaiting a transfer.")
            snapshots = [] if row.no_snapshots else list(
                session.scalars(select(Snapshot).where(Snapshot.volume_id == volume.id)))
            vtype = session.get(VolumeType, volume.volume_type_id) if volume.volume_type_id else None
            self.service.quotas.check(session, ctx.project_id, vtype.name if vtype else None, volumes=1,
                                      snapshots=len(snapshots),
                                      gigabytes=volume.size + sum(s.size for s in snapshots),
                                      volume_size=volume.size)
            volume.project_id, volume.user_id = ctx.project_id, ctx.user_id
            volume.status, volume.updated_at = "available", utcnow()
            for snap in snapshots:
                snap.project_id, snap.user_id = ctx.project_id, ctx.user_id
            session.delete(row)
            return row
