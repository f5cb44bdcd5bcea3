"""Volumes: create (blank, from a snapshot, a volume or an image), list, show, update and
delete. Rows are written here in a thread; the work on the backend is cast to the volume
agent of the volume's host (``volume.<host@backend>``), which reports back through the
conductor. Nothing here waits for a backend."""

from __future__ import annotations

import json
import uuid

from sqlalchemy import func, select

from overcast.common.db import utcnow
from overcast.volume import errors
from overcast.volume.key_manager.base import IMAGE_KEY
from overcast.volume.models import Attachment, Snapshot, Volume
from overcast.volume.service import messages
from overcast.volume.service.hosts import queue_of
from overcast.volume.service.paging import page

DELETABLE = ("available", "error", "error_restoring", "error_extending", "error_managing")
SORT_KEYS = {"created_at": Volume.created_at, "updated_at": Volume.updated_at, "name": Volume.name,
             "display_name": Volume.name, "size": Volume.size, "status": Volume.status, "id": Volume.id,
             "availability_zone": Volume.availability_zone, "bootable": Volume.bootable}
LUKS_HEADER_ALLOWANCE = 16 * 1024 * 1024
IMAGE_FIELDS = ("checksum", "container_format", "disk_format", "min_disk", "min_ram", "size")
GiB = 1 << 30


def image_metadata(image) -> dict:
    """A volume's ``volume_image_metadata`` for an image (Cinder's glance metadata)."""
    meta = {"image_id": image.id, "image_name": image.name or ""}
    for key in IMAGE_FIELDS:
        value = getattr(image, key, None)
        if value is not None:
            meta[key] = str(value)
    for key, value in (getattr(image, "properties", None) or {}).items():
        meta[key] = str(value)
    return meta


def _size_of(value) -> int:
    """A volume size in GiB from the request; Cinder accepts integers and integer strings."""
    if isinstance(value, bool):
        raise errors.InvalidInput(f"Invalid input for field/attribute size. Value: {value}.")
    try:
        size = int(value)
        if isinstance(value, float) and value != size:
            raise ValueError
    except (TypeError, ValueError):
        raise errors.InvalidInput(f"Invalid input for field/attribute size. Value: {value}. "
                                  f"{value!r} is not of type 'integer', 'string'") from None
    if size <= 0:
        raise errors.InvalidInput(f"Invalid input for field/attribute size. Value: {value}. "
                                  f"{size} is less than the minimum of 1")
    return size


class Volumes:
    def __init__(self, service):
        self.service = service
        self.db = service.db

    # -- reading -------------------------------------------------------------------

    def get(self, ctx, volume_id: str, session=None) -> Volume:
        query = select(Volume).where(Volume.id == volume_id)
        if not ctx.is_admin:
            query = query.where(Volume.project_id == ctx.project_id)
        row = self.db.first(query, session)
        if row is None:
            raise errors.VolumeNotFound(volume_id)
        return row

    def attachments(self, volume_ids, session=None) -> dict[str, list[Attachment]]:
        ids = list(volume_ids)
        found: dict[str, list[Attachment]] = {i: [] for i in ids}
        if not ids:
            return found
        query = select(Attachment).where(Attachment.volume_id.in_(ids)).order_by(Attachment.created_at)
        if session is None:
            with self.db.session() as own:
                rows = list(own.scalars(query))
        else:
            rows = list(session.scalars(query))
        for row in rows:
            found[row.volume_id].append(row)
        return found

    def list(self, ctx, filters: dict, sort: list[tuple[str, str]], limit: int | None, marker: str | None,
             offset: int = 0, all_projects: bool = False) -> list[Volume]:
        query = select(Volume)
        project = filters.pop("project_id", None)
        if not (ctx.is_admin and all_projects):
            query = query.where(Volume.project_id == ctx.project_id)
        elif project:
            query = query.where(Volume.project_id == project)
        metadata = filters.pop("metadata", None)
        for key, value in filters.items():
            if key in ("name", "display_name"):
                query = query.where(Volume.name == value)
            elif key == "status":
                query = query.where(Volume.status == value)
            elif key == "availability_zone":
                query = query.where(Volume.availability_zone == value)
            elif key == "bootable":
                query = query.where(Volume.bootable.is_(str(value).lower() in ("true", "1", "yes")))
            elif key in ("volume_type", "volume_type_id"):
                query = query.where(Volume.volume_type_id.in_(self._type_ids(ctx, value)))
            elif key == "name~":
                query = query.where(Volume.name.like(f"%{value}%"))
        order = [(SORT_KEYS[key], direction) for key, direction in sort] + [(Volume.id, "desc")]
        query = query.order_by(*[col.asc() if d == "asc" else col.desc() for col, d in order])
        with self.db.session() as session:
            rows = list(session.scalars(query))
        if metadata:
            rows = [r for r in rows if all((r.meta or {}).get(k) == v for k, v in metadata.items())]
        return page(rows, marker, limit, offset)

    def _type_ids(self, ctx, ref: str) -> list[str]:
        with self.db.session() as session:
            try:
                return [self.service.types.resolve(ctx, ref, session).id]
            except (errors.VolumeTypeNotFound, errors.VolumeTypeNotFoundByName):
                return []

    def summary(self, ctx, all_projects: bool) -> dict:
        query = select(func.count(), func.coalesce(func.sum(Volume.size), 0))
        if not (ctx.is_admin and all_projects):
            query = query.where(Volume.project_id == ctx.project_id)
        with self.db.session() as session:
            count, size = session.execute(query).one()
        return {"total_count": count, "total_size": int(size)}

    # -- create --------------------------------------------------------------------

    def find_image(self, ctx, image_ref: str):
        """The image service's record of ``image_ref``, or None when it has none for ``ctx``."""
        image_service = self.service.image
        if image_service is None:
            raise errors.InvalidInput("The image service is not available.")
        from overcast.common.errors import NotFound

        try:
            return image_service.images.get(ctx, image_ref)
        except NotFound:
            return None

    def _image_source(self, ctx, image_ref: str) -> tuple[object, dict]:
        image = self.find_image(ctx, image_ref)
        if image is None:
            raise errors.InvalidInput("Invalid image identifier or unable to access requested image.")
        if image.status != "active":
            raise errors.InvalidImage(f"Image {image.id} is not active.")
        return image, image_metadata(image)

    def create(self, ctx, fields: dict) -> tuple[Volume, tuple | None]:
        """Write the volume (creating) after the checks; (row, (topic, payload) or None).
        A volume no backend can take is written as ``error`` (202 all the same, as Cinder)."""
        snapshot_id, source_id = fields.get("snapshot_id"), fields.get("source_volid")
        image_ref = fields.get("imageRef") or fields.get("image_id")
        image, image_meta = (None, None)
        if image_ref:
            image, image_meta = self._image_source(ctx, image_ref)
        with self.db.session() as session:
            source = snapshot = None
            if snapshot_id:
                snapshot = self.service.snapshots.get(ctx, snapshot_id, session)
                if snapshot.status != "available":
                    raise errors.InvalidSnapshot("Originating snapshot status must be one of 'available' values")
            if source_id:
                source = self.get(ctx, source_id, session)
                if source.status not in ("available", "in-use"):
                    raise errors.InvalidVolume("Volume source status must be available or in-use.")
            size = fields.get("size")
            if size is None:
                if snapshot is not None:
                    size = snapshot.size
                elif source is not None:
                    size = source.size
                elif image is not None:
                    size = max(_image_gb(image), image.min_disk or 0, 1)
                else:
                    raise errors.InvalidInput("Invalid input for field/attribute size. Value: None. "
                                              "None is not of type 'integer', 'string'")
            size = _size_of(size)
            if snapshot is not None and size < snapshot.size:
                raise errors.InvalidInput(f"Volume size '{size}'GB cannot be smaller than the snapshot size "
                                          f"{snapshot.size}GB. They must be >= original snapshot size.")
            if source is not None and size < source.size:
                raise errors.InvalidInput(f"Volume size '{size}'GB cannot be smaller than original volume size  "
                                          f"{source.size}GB. They must be >= original volume size.")
            if image is not None:
                needed = max(_image_gb(image), image.min_disk or 0)
                if size < needed:
                    raise errors.InvalidInput(f"Size of specified image {needed}GB is larger than volume size "
                                              f"{size}GB.")
            parent = source or (self.get(ctx, snapshot.volume_id, session) if snapshot is not None else None)
            vtype = self.service.types.resolve(ctx, fields.get("volume_type") or
                                               (parent.volume_type_id if parent is not None else None), session)
            zone = fields.get("availability_zone") or (parent.availability_zone if parent is not None else None)
            if zone and zone not in self.service.hosts.zone_names():
                raise errors.InvalidInput(f"Availability zone '{zone}' is invalid.")
            multiattach = bool(fields.get("multiattach")) or vtype.extra_specs.get("multiattach") == "<is> True"
            self.service.quotas.check(session, ctx.project_id, vtype.name, volumes=1, gigabytes=size,
                                      volume_size=size)
            group_id = fields.get("group_id")
            if group_id and not fields.get("in_new_group"):
                group = self.service.groups.check_member(ctx, group_id, vtype.id, session)
                zone = zone or group.availability_zone
            host, error = None, None
            try:
                host = (parent.host if parent is not None and parent.host else
                        self.service.hosts.pick(zone, specs=vtype.extra_specs))
            except errors.NoValidBackend as failure:
                error = failure.text
            parent_key = snapshot.encryption_key_id if snapshot is not None else \
                (source.encryption_key_id if source is not None else None)
            parent_encrypted = parent is not None and bool(self.service.types.encrypted([parent.volume_type_id]))
            image_key = ((getattr(image, "properties", None) or {}).get(IMAGE_KEY) if image is not None else None)
            copied = image_key or fields.get("backup_key")
            if copied:  # an encrypted volume's upload or backup: its LUKS container opens with a copy of the key
                parent_key, parent_encrypted = copied, True
            key_id = self.service.keys.key_for_new_volume(ctx, vtype.encryption, parent_key, parent_encrypted,
                                                          copy=bool(copied))
            row = Volume(id=str(uuid.uuid4()), project_id=ctx.project_id, user_id=ctx.user_id,
                         name=fields.get("name"), description=fields.get("description"), size=size,
                         status="creating" if host else "error", availability_zone=zone or self.service.default_zone,
                         host=host, volume_type_id=vtype.id, snapshot_id=snapshot_id, source_volid=source_id,
                         image_id=image.id if image is not None else None, image_metadata=image_meta,
                         bootable=image is not None or bool(parent is not None and parent.bootable),
                         multiattach=multiattach, meta=dict(fields.get("metadata") or {}), error=error,
                         group_id=group_id or None, encryption_key_id=key_id,
                         cluster_name=(parent.cluster_name if parent is not None and parent.host else
                                       self.service.hosts.cluster_of(host) if host else None),
                         created_at=utcnow(), updated_at=utcnow())
            if parent is not None and parent.image_metadata and image_meta is None:
                row.image_metadata = dict(parent.image_metadata)
            session.add(row)
            if host is None:
                self.service.messages.record(ctx.project_id, messages.SCHEDULE_ALLOCATE_VOLUME,
                                             messages.NO_BACKEND_AVAILABLE, row.id, request_id=ctx.request_id,
                                             session=session)
        if host is None:
            return row, None
        source_spec = {"kind": "blank"}
        if snapshot is not None:
            source_spec = {"kind": "snapshot", "id": snapshot.id}
        elif source is not None:
            source_spec = {"kind": "volume", "id": source.id}
        elif image is not None:
            source_spec = {"kind": "image", "id": image.id}
        if parent_key:
            source_spec["encrypted"] = True
        payload = {"id": row.id, "size": size, "source": source_spec}
        if key_id:
            payload["encrypted"] = True
        return row, (queue_of(row), payload)

    # -- change ----------------------------------------------------------------------

    def update(self, ctx, volume_id: str, fields: dict) -> Volume:
        with self.db.session() as session:
            row = self.get(ctx, volume_id, session)
            for key, column in (("name", "name"), ("display_name", "name"), ("description", "description"),
                                ("display_description", "description")):
                if key in fields:
                    setattr(row, column, fields[key])
            if "metadata" in fields:
                row.meta = dict(fields["metadata"] or {})
            row.updated_at = utcnow()
            return row

    def set_metadata(self, ctx, volume_id: str, metadata: dict, replace: bool) -> dict:
        with self.db.session() as session:
            row = self.get(ctx, volume_id, session)
            self._check_meta_status(row)
            row.meta = dict(metadata) if replace else {**(row.meta or {}), **metadata}
            row.updated_at = utcnow()
            return dict(row.meta)

    def delete_metadata(self, ctx, volume_id: str, key: str) -> None:
        with self.db.session() as session:
            row = self.get(ctx, volume_id, session)
            self._check_meta_status(row)
            if key not in (row.meta or {}):
                raise errors.MetadataNotFound(key, "Volume", volume_id)
            row.meta = {k: v for k, v in row.meta.items() if k != key}
            row.updated_at = utcnow()

    @staticmethod
    def _check_meta_status(row: Volume) -> None:
        if row.status == "maintenance":
            raise errors.InvalidVolume("Volume is in maintenance, metadata cannot be changed.")

    def begin_delete(self, ctx, volume_id: str, cascade: bool = False, force: bool = False) -> tuple | None:
        """Mark the volume (and with ``cascade`` its snapshots) deleting; the cast to make,
        or None when the volume never reached a backend and is simply gone."""
        with self.db.session() as session:
            row = self.get(ctx, volume_id, session)
            attached = session.scalar(select(func.count()).select_from(Attachment)
                                      .where(Attachment.volume_id == row.id))
            if attached or row.attach_status == "attached" or row.group_id:
                raise errors.InvalidVolume("Volume status must be available or error or error_restoring or "
                                           "error_extending or error_managing and must not be migrating, attached, "
                                           "belong to a group, have snapshots, awaiting a transfer, or be "
                                           "disassociated from snapshots after volume transfer.")
            if not force and row.status not in DELETABLE:
                raise errors.InvalidVolume(f"Volume status must be available or error or error_restoring or "
                                           f"error_extending or error_managing and must not be migrating, attached, "
                                           f"belong to a group, have snapshots, awaiting a transfer, or be "
                                           f"disassociated from snapshots after volume transfer.")
            snapshots = list(session.scalars(select(Snapshot).where(Snapshot.volume_id == row.id)))
            if snapshots and not cascade:
                raise errors.InvalidVolume("Volume has snapshots and cannot be deleted; delete them first or use "
                                           "cascade.")
            if any(s.status not in ("available", "error") for s in snapshots) and not force:
                raise errors.InvalidVolume("Snapshot(s) must be available or error to cascade delete.")
            if row.host is None:
                for snap in snapshots:
                    session.delete(snap)
                session.delete(row)
                self.service.keys.forget(row.encryption_key_id)
                return None
            row.status, row.updated_at = "deleting", utcnow()
            for snap in snapshots:
                snap.status, snap.updated_at = "deleting", utcnow()
            return queue_of(row), {"id": row.id, "snapshots": [s.id for s in snapshots]}


def _image_gb(image) -> int:
    """The GiB a volume needs for an image's disk: an encrypted volume's upload is a LUKS
    container whose header (qemu writes LUKS1: at most a few MiB) is not volume data."""
    size = int(image.virtual_size or image.size or 0)
    if (getattr(image, "properties", None) or {}).get(IMAGE_KEY):
        size = max(size - LUKS_HEADER_ALLOWANCE, 0)
    return -(-size // GiB)
