"""Quota sets: limits per project (defaults from the config), usage counted from the rows.

Resources: volumes, snapshots, gigabytes (volumes and snapshots together, as Cinder
counts them), per_volume_gigabytes, backups, backup_gigabytes, groups, and per volume
type ``volumes_<type>``, ``gigabytes_<type>``, ``snapshots_<type>``. A check runs in the
caller's transaction right before the insert it guards; -1 means no limit.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select

from overcast.volume import errors
from overcast.volume.models import Backup, Group, QuotaLimit, Snapshot, Volume, VolumeType

FIXED = ("volumes", "snapshots", "gigabytes", "backups", "backup_gigabytes", "groups", "per_volume_gigabytes")
PER_TYPE = ("volumes", "gigabytes", "snapshots")
CLASS = "class:"  # quota class limits live beside project limits, under this prefix


class Quotas:
    def __init__(self, db, config):
        self.db = db
        volume = config.volume
        self.defaults = {"volumes": volume.quota_volumes, "snapshots": volume.quota_snapshots,
                         "gigabytes": volume.quota_gigabytes, "backups": 10, "backup_gigabytes": 1000, "groups": 10,
                         "per_volume_gigabytes": volume.quota_per_volume_gigabytes}

    def _type_names(self, session) -> list[str]:
        return list(session.scalars(select(VolumeType.name).order_by(VolumeType.name)))

    def default_limits(self, session=None) -> dict[str, int]:
        if session is None:
            with self.db.session() as own:
                return self.default_limits(own)
        limits = dict(self.defaults)
        for name in self._type_names(session):
            for resource in PER_TYPE:
                limits[f"{resource}_{name}"] = -1
        for row in session.scalars(select(QuotaLimit).where(QuotaLimit.project_id == CLASS + "default")):
            if row.resource in limits:
                limits[row.resource] = row.hard_limit
        return limits

    def update_class(self, name: str, values: dict[str, int]) -> dict[str, int]:
        """Quota class ``name``'s limits; the ``default`` class is every project's default."""
        with self.db.session() as session:
            limits = self.default_limits(session)
            for resource, value in values.items():
                if resource not in limits:
                    raise errors.InvalidInput(f"Bad key(s) in quota class set: {resource}")
                if value < -1:
                    raise errors.InvalidInput(f"Quota limit {value} for {resource} must be -1 or greater.")
                row = session.get(QuotaLimit, (CLASS + name, resource))
                if row is None:
                    session.add(QuotaLimit(project_id=CLASS + name, resource=resource, hard_limit=value))
                else:
                    row.hard_limit = value
                limits[resource] = value
            return limits

    def limits(self, project_id: str, session=None) -> dict[str, int]:
        if session is None:
            with self.db.session() as own:
                return self.limits(project_id, own)
        limits = self.default_limits(session)
        for row in session.scalars(select(QuotaLimit).where(QuotaLimit.project_id == project_id)):
            if row.resource in limits:
                limits[row.resource] = row.hard_limit
        return limits

    def usage(self, project_id: str, session=None) -> dict[str, int]:
        if session is None:
            with self.db.session() as own:
                return self.usage(project_id, own)
        used = {resource: 0 for resource in self.defaults}
        names = dict(session.execute(select(VolumeType.id, VolumeType.name)).all())
        for type_id, count, size in session.execute(
                select(Volume.volume_type_id, func.count(), func.coalesce(func.sum(Volume.size), 0))
                .where(Volume.project_id == project_id).group_by(Volume.volume_type_id)):
            used["volumes"] += count
            used["gigabytes"] += int(size)
            if type_id in names:
                used[f"volumes_{names[type_id]}"] = count
                used[f"gigabytes_{names[type_id]}"] = used.get(f"gigabytes_{names[type_id]}", 0) + int(size)
        for type_id, count, size in session.execute(
                select(Volume.volume_type_id, func.count(), func.coalesce(func.sum(Snapshot.size), 0))
                .join(Volume, Volume.id == Snapshot.volume_id, isouter=True)
                .where(Snapshot.project_id == project_id).group_by(Volume.volume_type_id)):
            used["snapshots"] += count
            used["gigabytes"] += int(size)
            if type_id in names:
                used[f"snapshots_{names[type_id]}"] = count
                used[f"gigabytes_{names[type_id]}"] = used.get(f"gigabytes_{names[type_id]}", 0) + int(size)
        backups, backup_gb = session.execute(select(func.count(), func.coalesce(func.sum(Backup.size), 0))
                                             .where(Backup.project_id == project_id)).one()
        used["backups"], used["backup_gigabytes"] = backups, int(backup_gb)
        used["groups"] = session.scalar(select(func.count()).select_from(Group).where(Group.project_id == project_id))
        return used

    def check(self, session, project_id: str, type_name: str | None, volumes: int = 0, snapshots: int = 0,
              gigabytes: int = 0, volume_size: int | None = None) -> None:
        """Raise QuotaOverLimit (413) if adding these would pass a limit."""
        limits = self.limits(project_id, session)
        per_volume = limits["per_volume_gigabytes"]
        if volume_size is not None and 0 <= per_volume < volume_size:
            raise errors.QuotaOverLimit(f"Requested volume size {volume_size}G is larger than maximum allowed "
                                        f"limit {per_volume}G.")
        used = self.usage(project_id, session)
        checks = [("gigabytes", gigabytes), ("volumes", volumes), ("snapshots", snapshots)]
        if type_name:
            checks += [(f"gigabytes_{type_name}", gigabytes), (f"volumes_{type_name}", volumes),
                       (f"snapshots_{type_name}", snapshots)]
        for resource, delta in checks:
            limit = limits.get(resource, -1)
            if delta <= 0 or limit < 0 or used.get(resource, 0) + delta <= limit:
                continue
            if resource.startswith("gigabytes"):
                raise errors.QuotaOverLimit(
                    f"Requested volume or snapshot exceeds allowed {resource} quota. Requested {delta}G, quota is "
                    f"{limit}G and {used.get(resource, 0)}G has been consumed.")
            if resource.startswith("volumes"):
                raise errors.QuotaOverLimit(f"Maximum number of volumes allowed ({limit}) exceeded for quota "
                                            f"'{resource}'.")
            raise errors.QuotaOverLimit(f"Maximum number of snapshots allowed ({limit}) exceeded for quota "
                                        f"'{resource}'.")

    def update(self, project_id: str, values: dict[str, int]) -> dict[str, int]:
        with self.db.session() as session:
            limits = self.limits(project_id, session)
            used = self.usage(project_id, session)
            for resource, value in values.items():
                if resource not in limits:
                    raise errors.InvalidInput(f"Bad key(s) in quota set: {resource}")
                if value < -1:
                    raise errors.InvalidInput(f"Quota limit {value} for {resource} must be -1 or greater.")
                if resource != "per_volume_gigabytes" and 0 <= value < used.get(resource, 0):
                    raise errors.InvalidInput(f"Quota limit {value} for {resource} must be equal or greater than "
                                              f"existing resources. Current usage is {used.get(resource, 0)}.")
            for resource, value in values.items():
                row = session.get(QuotaLimit, (project_id, resource))
                if row is None:
                    session.add(QuotaLimit(project_id=project_id, resource=resource, hard_limit=value))
                else:
                    row.hard_limit = value
                limits[resource] = value
            return limits

    def reset(self, project_id: str) -> None:
        with self.db.session() as session:
            session.execute(delete(QuotaLimit).where(QuotaLimit.project_id == project_id))
