"""Generic volume groups (3.13) and group snapshots (3.14).

A group holds volumes of its volume types; it needs no backend work of its own, so a
plain create is ``available`` at once. A group snapshot is one snapshot per volume (each
made by its volume's backend and carrying the group snapshot's id); a group made from a
group snapshot or another group is one new volume per source. Their statuses follow
their members: :meth:`Groups.settle` and :meth:`GroupSnapshots.settle` run in the
conductor's transaction after each member's report (all available: available; one
failed: error; deleting and no member left: gone).
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from overcast.common.db import utcnow
from overcast.volume import errors
from overcast.volume.models import Attachment, Group, GroupSnapshot, Snapshot, Volume
from overcast.volume.service.group_types import CGSNAPSHOT_TYPE
from overcast.volume.service.hosts import queue_of
from overcast.volume.service.paging import page

GROUP_STATUSES = ("creating", "available", "deleting", "error", "error_deleting", "updating", "in-use")
SNAPSHOT_STATUSES = ("creating", "available", "deleting", "error", "error_deleting")
SORT_KEYS = {"created_at": Group.created_at, "name": Group.name, "id": Group.id, "status": Group.status}
GS_SORT_KEYS = {"created_at": GroupSnapshot.created_at, "name": GroupSnapshot.name, "id": GroupSnapshot.id,
                "status": GroupSnapshot.status}


def _ids(value) -> list[str]:
    """``add_volumes``/``remove_volumes``: a comma-separated string of volume ids."""
    if value is None:
        return []
    if not isinstance(value, str):
        raise errors.InvalidInput(f"Invalid input for field/attribute volumes. Value: {value}.")
    return [part.strip() for part in value.split(",") if part.strip()]


class Groups:
    def __init__(self, service):
        self.service = service
        self.db = service.db

    # -- reading ---------------------------------------------------------------------

    def get(self, ctx, group_id: str, session=None) -> Group:
        query = select(Group).where(Group.id == group_id)
        if not ctx.is_admin:
            query = query.where(Group.project_id == ctx.project_id)
        row = self.db.first(query, session)
        if row is None:
            raise errors.GroupNotFound(group_id)
        return row

    def list(self, ctx, filters: dict, sort, limit, marker, offset=0, all_projects=False) -> list[Group]:
        query = select(Group)
        project = filters.pop("project_id", None)
        if not (ctx.is_admin and all_projects):
            query = query.where(Group.project_id == ctx.project_id)
        elif project:
            query = query.where(Group.project_id == project)
        for key in ("name", "status", "availability_zone", "group_type_id"):
            if key in filters:
                query = query.where(getattr(Group, key) == filters[key])
        order = [(SORT_KEYS[key], direction) for key, direction in sort] + [(Group.id, "desc")]
        query = query.order_by(*[col.asc() if d == "asc" else col.desc() for col, d in order])
        with self.db.session() as session:
            rows = list(session.scalars(query))
        return page(rows, marker, limit, offset)

    def volume_ids(self, group_ids) -> dict[str, list[str]]:
        ids = list(group_ids)
        found: dict[str, list[str]] = {i: [] for i in ids}
        if ids:
            with self.db.session() as session:
                for volume_id, group_id in session.execute(select(Volume.id, Volume.group_id)
                                                           .where(Volume.group_id.in_(ids))):
                    found[group_id].append(volume_id)
        return found

    # -- create ----------------------------------------------------------------------

    def _check_quota(self, session, project_id: str) -> None:
        limit = self.service.quotas.limits(project_id, session)["groups"]
        used = session.scalar(select(func.count()).select_from(Group).where(Group.project_id == project_id))
        if 0 <= limit <= used:
            raise errors.QuotaOverLimit(f"Maximum number of groups allowed ({limit}) exceeded")

    def create(self, ctx, fields: dict, consistency_group: bool = False) -> Group:
        """A group of ``fields["group_type"]``; with ``consistency_group`` (the CG API) one of
        ``default_cgsnapshot_type``, which the groups API may not use."""
        type_ref, type_refs = fields.get("group_type"), fields.get("volume_types")
        if not type_ref and not consistency_group:
            raise errors.InvalidInput("group_type must be provided to create group.")
        if not type_refs or not isinstance(type_refs, list):
            raise errors.InvalidInput("volume_types must be provided to create group.")
        with self.db.session() as session:
            if consistency_group:
                type_id = self.service.group_types.cgsnapshot_type_id()
                if type_id is None:
                    raise errors.InvalidInput(f"Group type {CGSNAPSHOT_TYPE} not found. Rerun migration script to "
                                              f"create the default cgsnapshot type.")
                type_ref = type_id
            group_type = self.service.group_types.resolve(ctx, type_ref, session)
            if not consistency_group:
                self.service.group_types.check_not_cgsnapshot_type(group_type.id)
            volume_types = [self.service.types.resolve(ctx, ref, session).id for ref in type_refs]
            zone = fields.get("availability_zone") or self.service.default_zone
            if zone not in self.service.hosts.zone_names():
                raise errors.InvalidInput(f"Availability zone '{zone}' is invalid.")
            self._check_quota(session, ctx.project_id)
            row = Group(id=str(uuid.uuid4()), project_id=ctx.project_id, user_id=ctx.user_id, name=fields.get("name"),
                        description=fields.get("description"), status="available", availability_zone=zone,
                        group_type_id=group_type.id, volume_type_ids=volume_types, created_at=utcnow())
            session.add(row)
            return row

    def check_member(self, ctx, group_id: str, volume_type_id: str, session) -> Group:
        """A volume create names this group: it must be available and take the volume's type."""
        group = self.get(ctx, group_id, session)
        if group.status != "available":
            raise errors.InvalidGroup(f"Group {group.id} status must be available, but current status is: "
                                      f"{group.status}.")
        if volume_type_id not in (group.volume_type_ids or []):
            raise errors.InvalidInput(f"Invalid volume_type provided: {volume_type_id} (the group's volume types "
                                      f"are {', '.join(group.volume_type_ids or [])}).")
        return group

    def create_from_source(self, ctx, fields: dict, consistency_group: bool = False) -> tuple[Group, list[tuple]]:
        """A new group with one volume per volume of ``source_group_id`` or per snapshot
        of ``group_snapshot_id``; (group, the volume casts). Only the CG API
        (``consistency_group``) copies groups of ``default_cgsnapshot_type``."""
        snapshot_id, source_id = fields.get("group_snapshot_id"), fields.get("source_group_id")
        if snapshot_id and source_id:
            raise errors.InvalidInput("Cannot specify both group_snapshot and source_group.")
        if not (snapshot_id or source_id):
            raise errors.InvalidInput("Either 'group_snapshot_id' or 'source_group_id' must be provided to create "
                                      "group from source.")
        with self.db.session() as session:
            if snapshot_id:
                source_snapshot = self.service.group_snapshots.get(ctx, snapshot_id, session)
                if source_snapshot.status != "available":
                    raise errors.InvalidGroupSnapshot("Group snapshot status must be available.")
                source = self.get(ctx, source_snapshot.group_id, session)
                members = [("snapshot_id", s.id) for s in session.scalars(
                    select(Snapshot).where(Snapshot.group_snapshot_id == snapshot_id).order_by(Snapshot.created_at))]
            else:
                source = self.get(ctx, source_id, session)
                if source.status != "available":
                    raise errors.InvalidGroup(f"Source group {source.id} status must be available.")
                members = [("source_volid", v.id) for v in session.scalars(
                    select(Volume).where(Volume.group_id == source.id).order_by(Volume.created_at))]
            if not consistency_group:
                self.service.group_types.check_not_cgsnapshot_type(source.group_type_id)
            self._check_quota(session, ctx.project_id)
            row = Group(id=str(uuid.uuid4()), project_id=ctx.project_id, user_id=ctx.user_id, name=fields.get("name"),
                        description=fields.get("description"), status="creating" if members else "available",
                        availability_zone=source.availability_zone, group_type_id=source.group_type_id,
                        volume_type_ids=list(source.volume_type_ids or []), group_snapshot_id=snapshot_id,
                        source_group_id=source_id, created_at=utcnow())
            session.add(row)
        casts = []
        try:
            for key, ident in members:
                _, cast = self.service.volumes.create(ctx, {key: ident, "group_id": row.id, "in_new_group": True})
                casts.append(cast)
        except Exception:
            self.reset_status(ctx, row.id, "error")
            raise
        return row, [c for c in casts if c is not None]

    # -- change ----------------------------------------------------------------------

    def update(self, ctx, group_id: str, fields: dict) -> None:
        adding, removing = _ids(fields.get("add_volumes")), _ids(fields.get("remove_volumes"))
        with self.db.session() as session:
            group = self.get(ctx, group_id, session)
            if (adding or removing) and group.status != "available":
                raise errors.InvalidGroup(f"Group {group.id} status must be available, but current status is: "
                                          f"{group.status}.")
            for key in ("name", "description"):
                if key in fields:
                    setattr(group, key, fields[key])
            for volume_id in adding:
                volume = session.get(Volume, volume_id)
                if volume is None or volume.project_id != group.project_id:
                    raise errors.InvalidVolume(f"Cannot add volume {volume_id} to group {group.id} because volume "
                                               f"cannot be found.")
                if volume.group_id and volume.group_id != group.id:
                    raise errors.InvalidVolume(f"Volume {volume_id} is already in a group.")
                if volume.volume_type_id not in (group.volume_type_ids or []):
                    raise errors.InvalidVolume(f"Cannot add volume {volume_id} to group {group.id} because volume "
                                               f"type {volume.volume_type_id} is not supported by the group.")
                if volume.status not in ("available", "in-use"):
                    raise errors.InvalidVolume(f"Cannot add volume {volume_id} to group {group.id} because volume is "
                                               f"in an invalid state: {volume.status}. Valid states are: "
                                               f"('available', 'in-use').")
                volume.group_id, volume.updated_at = group.id, utcnow()
            for volume_id in removing:
                volume = session.get(Volume, volume_id)
                if volume is None or volume.group_id != group.id:
                    raise errors.InvalidVolume(f"Cannot remove volume {volume_id} from group {group.id} because it "
                                               f"is not in the group.")
                volume.group_id, volume.updated_at = None, utcnow()
            group.updated_at = utcnow()

    def reset_status(self, ctx, group_id: str, status: str) -> None:
        if status not in GROUP_STATUSES:
            raise errors.InvalidGroup(f"Group status {status} is not valid.")
        with self.db.session() as session:
            row = self.get(ctx, group_id, session)
            row.status, row.updated_at = status, utcnow()

    def delete(self, ctx, group_id: str, delete_volumes: bool) -> list[tuple]:
        """Mark the group (and with ``delete_volumes`` its volumes) deleting; the casts."""
        with self.db.session() as session:
            group = self.get(ctx, group_id, session)
            if not delete_volumes and group.status not in ("available", "error"):
                raise errors.InvalidGroup(f"Group status must be available or error, but current status is: "
                                          f"{group.status}")
            if session.scalar(select(func.count()).select_from(GroupSnapshot)
                              .where(GroupSnapshot.group_id == group.id)):
                raise errors.InvalidGroup("Group has existing snapshots.")
            volumes = list(session.scalars(select(Volume).where(Volume.group_id == group.id)))
            if volumes and not delete_volumes:
                raise errors.InvalidGroup(f"Group {group.id} still contains volumes. The delete-volumes flag is "
                                          f"required to delete it.")
            ids = [v.id for v in volumes]
            attached = session.scalar(select(func.count()).select_from(Attachment)
                                      .where(Attachment.volume_id.in_(ids))) if ids else 0
            if attached or any(v.attach_status == "attached" for v in volumes):
                raise errors.InvalidGroup(f"Volume in group {group.id} is attached. Need to detach first.")
            if ids and session.scalar(select(func.count()).select_from(Snapshot).where(Snapshot.volume_id.in_(ids))):
                raise errors.InvalidGroup("Volume in group still has dependent snapshots.")
            casts = []
            for volume in volumes:
                if volume.host is None:
                    session.delete(volume)
                    continue
                volume.status, volume.updated_at = "deleting", utcnow()
                casts.append((queue_of(volume), {"id": volume.id, "snapshots": []}))
            if casts:
                group.status, group.updated_at = "deleting", utcnow()
            else:
                session.delete(group)
            return casts

    # -- following the members -----------------------------------------------------------

    @staticmethod
    def settle(session, group_id: str) -> None:
        group = session.get(Group, group_id)
        if group is None or group.status not in ("creating", "deleting"):
            return
        statuses = list(session.scalars(select(Volume.status).where(Volume.group_id == group_id)))
        if group.status == "deleting":
            if not statuses:
                session.delete(group)
            elif "error_deleting" in statuses and "deleting" not in statuses:
                group.status = "error_deleting"
        elif "error" in statuses:
            group.status = "error"
        elif all(s == "available" for s in statuses):
            group.status = "available"
        group.updated_at = utcnow()


class GroupSnapshots:
    def __init__(self, service):
        self.service = service
        self.db = service.db

    def get(self, ctx, group_snapshot_id: str, session=None) -> GroupSnapshot:
        query = select(GroupSnapshot).where(GroupSnapshot.id == group_snapshot_id)
        if not ctx.is_admin:
            query = query.where(GroupSnapshot.project_id == ctx.project_id)
        row = self.db.first(query, session)
        if row is None:
            raise errors.GroupSnapshotNotFound(group_snapshot_id)
        return row

    def list(self, ctx, filters: dict, sort, limit, marker, offset=0, all_projects=False) -> list[GroupSnapshot]:
        query = select(GroupSnapshot)
        project = filters.pop("project_id", None)
        if not (ctx.is_admin and all_projects):
            query = query.where(GroupSnapshot.project_id == ctx.project_id)
        elif project:
            query = query.where(GroupSnapshot.project_id == project)
        for key in ("name", "status", "group_id"):
            if key in filters:
                query = query.where(getattr(GroupSnapshot, key) == filters[key])
        order = [(GS_SORT_KEYS[key], direction) for key, direction in sort] + [(GroupSnapshot.id, "desc")]
        query = query.order_by(*[col.asc() if d == "asc" else col.desc() for col, d in order])
        with self.db.session() as session:
            rows = list(session.scalars(query))
        return page(rows, marker, limit, offset)

    def create(self, ctx, group_id: str, name: str | None, description: str | None) -> tuple[GroupSnapshot, list]:
        with self.db.session() as session:
            group = self.service.groups.get(ctx, group_id, session)
            if group.status != "available":
                raise errors.InvalidGroup(f"Group {group.id} status must be available, but current status is: "
                                          f"{group.status}.")
            volumes = list(session.scalars(select(Volume).where(Volume.group_id == group.id)
                                           .order_by(Volume.created_at)))
            for volume in volumes:
                if volume.status not in ("available", "in-use"):
                    raise errors.InvalidVolume(f"Volume {volume.id} status must be available or in-use, but current "
                                               f"status is: {volume.status}.")
            self.service.quotas.check(session, ctx.project_id, None, snapshots=len(volumes),
                                      gigabytes=sum(v.size for v in volumes))
            row = GroupSnapshot(id=str(uuid.uuid4()), group_id=group.id, project_id=ctx.project_id,
                                user_id=ctx.user_id, name=name, description=description,
                                status="creating" if volumes else "available", group_type_id=group.group_type_id,
                                created_at=utcnow())
            session.add(row)
            casts = []
            for volume in volumes:
                snap = Snapshot(id=str(uuid.uuid4()), volume_id=volume.id, project_id=ctx.project_id,
                                user_id=ctx.user_id, name=f"snapshot-{row.id}", description=None, size=volume.size,
                                status="creating", progress="0%", meta={}, created_at=utcnow(),
                                group_snapshot_id=row.id)
                session.add(snap)
                casts.append((queue_of(volume), {"id": snap.id, "volume_id": volume.id}))
            return row, casts

    def delete(self, ctx, group_snapshot_id: str) -> list[tuple]:
        with self.db.session() as session:
            row = self.get(ctx, group_snapshot_id, session)
            if row.status not in ("available", "error"):
                raise errors.InvalidGroupSnapshot("Group snapshot status must be available or error")
            if session.scalar(select(func.count()).select_from(Group).where(Group.group_snapshot_id == row.id,
                                                                            Group.status == "creating")):
                raise errors.InvalidGroupSnapshot("Cannot delete group snapshot while a group is being created from "
                                                  "it.")
            casts = []
            for snap in session.scalars(select(Snapshot).where(Snapshot.group_snapshot_id == row.id)):
                volume = session.get(Volume, snap.volume_id)
                if volume is None or volume.host is None:
                    session.delete(snap)
                    continue
                snap.status, snap.updated_at = "deleting", utcnow()
                casts.append((queue_of(volume), {"id": snap.id, "volume_id": snap.volume_id}))
            if casts:
                row.status, row.updated_at = "deleting", utcnow()
            else:
                session.delete(row)
            return casts

    def reset_status(self, ctx, group_snapshot_id: str, status: str) -> None:
        if status not in SNAPSHOT_STATUSES:
            raise errors.InvalidGroupSnapshot(f"Group snapshot status {status} is not valid.")
        with self.db.session() as session:
            row = self.get(ctx, group_snapshot_id, session)
            row.status, row.updated_at = status, utcnow()

    @staticmethod
    def settle(session, group_snapshot_id: str) -> None:
        row = session.get(GroupSnapshot, group_snapshot_id)
        if row is None or row.status not in ("creating", "deleting"):
            return
        statuses = list(session.scalars(select(Snapshot.status).where(Snapshot.group_snapshot_id == row.id)))
        if row.status == "deleting":
            if not statuses:
                session.delete(row)
            elif "error_deleting" in statuses and "deleting" not in statuses:
                row.status = "error_deleting"
        elif "error" in statuses:
            row.status = "error"
        elif all(s == "available" for s in statuses):
            row.status = "available"
        row.updated_at = utcnow()
