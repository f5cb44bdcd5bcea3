"""Compute quotas: per-project limits (defaults unless set) and what is in use.

Usage is counted from the rows themselves (instances, cores and RAM from the live
instances, keypairs per user, server groups per project), so there is no usage table to
drift; like Nova's counting quotas, a create checks before it writes and again after, and
undoes its rows when a racing request took the last slot. -1 means unlimited.

Defaults are the configured values overlaid with the ``default`` quota class
(os-quota-class-sets), as Nova's DbQuotaDriver reads them; other classes are stored and
shown but nothing reads them.
"""

from __future__ import annotations

import re

from sqlalchemy import delete, func, select

from overcast.common.db import Database
from overcast.compute import errors
from overcast.compute.models import Instance, KeyPair, QuotaClass, QuotaLimit, ServerGroup

DEFAULTS = {
    "instances": 10,
    "cores": 20,
    "ram": 51200,
    "metadata_items": 128,
    "injected_files": 5,
    "injected_file_content_bytes": 10240,
    "injected_file_path_bytes": 255,
    "key_pairs": 100,
    "server_groups": 10,
    "server_group_members": 10,
    # the network proxy quotas, shown below microversion 2.36
    "floating_ips": 10,
    "fixed_ips": -1,
    "security_groups": 10,
    "security_group_rules": 20,
}
DEFAULT_CLASS = "default"  # the quota class whose values are the defaults
LIMIT = re.compile(r"^-?[0-9]+$")  # Nova's quota schema pattern
MAX_LIMIT = 0x7FFFFFFF  # the largest limit the database holds (Nova's MAX_INT)
NETWORK_PROXIED = ("floating_ips", "fixed_ips", "security_groups", "security_group_rules")
INJECTED = ("injected_files", "injected_file_content_bytes", "injected_file_path_bytes")


def visible(version) -> list[str]:
    """The quota names a microversion shows (2.36 drops the network ones, 2.57 injected files)."""
    names = list(DEFAULTS)
    if version.at_least("2.36"):
        names = [n for n in names if n not in NETWORK_PROXIED]
    if version.at_least("2.57"):
        names = [n for n in names if n not in INJECTED]
    return names


def check_limit(name: str, value) -> int:
    """A limit as Nova's quota schema takes it: an integer (or its string) from -1 to 2**31-1."""
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not LIMIT.match(str(value)):
        raise errors.ComputeInvalid(f"Invalid input for field/attribute {name}. Value: {value}.")
    if int(value) < -1:
        raise errors.ComputeInvalid(f"Quota limit {value} for {name} must be -1 or greater.")
    if int(value) > MAX_LIMIT:
        raise errors.ComputeInvalid(f"Invalid input for field/attribute {name}. Value: {value}. "
                                    f"{value} is greater than the maximum of {MAX_LIMIT}")
    return int(value)


class Quotas:
    def __init__(self, db: Database, defaults: dict[str, int] | None = None):
        self.db = db
        self.configured = {**DEFAULTS, **(defaults or {})}

    @property
    def defaults(self) -> dict[str, int]:
        """What a project without its own limits gets: the ``default`` class over the config."""
        return self.class_limits(DEFAULT_CLASS)

    def class_limits(self, class_name: str, session=None) -> dict[str, int]:
        """A quota class's values; resources it does not set keep the configured default."""
        if session is None:
            with self.db.session() as own:
                return self.class_limits(class_name, own)
        rows = session.execute(select(QuotaClass.resource, QuotaClass.hard_limit)
                               .where(QuotaClass.class_name == class_name)).all()
        return {**self.configured, **{name: limit for name, limit in rows if name in self.configured}}

    def update_class(self, class_name: str, values: dict) -> dict[str, int]:
        """Set a class's limits (the caller checked the names); each value as ``check_limit`` takes it."""
        limits = {name: check_limit(name, value) for name, value in values.items()}
        with self.db.session() as session:
            for name, value in limits.items():
                row = session.get(QuotaClass, (class_name, name))
                if row is None:
                    session.add(QuotaClass(class_name=class_name, resource=name, hard_limit=value))
                else:
                    row.hard_limit = value
        return self.class_limits(class_name)

    def limits(self, project_id: str, session=None) -> dict[str, int]:
        if session is None:
            with self.db.session() as own:
                return self.limits(project_id, own)
        defaults = self.class_limits(DEFAULT_CLASS, session)
        rows = session.execute(
            select(QuotaLimit.resource, QuotaLimit.hard_limit).where(QuotaLimit.project_id == project_id)
        ).all()
        return {**defaults, **{resource: limit for resource, limit in rows if resource in defaults}}

    def _instance_usage(self, session, project_id: str) -> dict[str, int]:
        """Live instances, cores and RAM of a project (one indexed aggregate query)."""
        count, cores, ram = session.execute(
            select(func.count(), func.coalesce(func.sum(Instance.vcpus), 0),
                   func.coalesce(func.sum(Instance.memory_mb), 0))
            .where(Instance.project_id == project_id, Instance.deleted.is_(False))
        ).one()
        return {"instances": count, "cores": int(cores), "ram": int(ram)}

    def usage(self, project_id: str, user_id: str | None = None) -> dict[str, int]:
        used = {name: 0 for name in self.configured}
        with self.db.session() as session:
            used.update(self._instance_usage(session, project_id))
            used["server_groups"] = self._count_server_groups(session, project_id)
        if user_id:
            with self.db.session() as session:
                used["key_pairs"] = session.scalar(
                    select(func.count()).select_from(KeyPair).where(KeyPair.user_id == user_id)
                )
        return used

    def _count_server_groups(self, session, project_id: str) -> int:
        return session.scalar(select(func.count()).select_from(ServerGroup).where(ServerGroup.project_id == project_id))

    def check_instances(self, project_id: str, count: int, vcpus: int, memory_mb: int, already: bool = False) -> None:
        """403 naming the resource when ``count`` more instances of this size do not fit.
        ``already``: the rows are written, so they are part of the usage (the recheck)."""
        wanted = {"instances": count, "cores": count * vcpus, "ram": count * memory_mb}
        with self.db.session() as session:
            limits = self.limits(project_id, session)
            if all(limits[name] < 0 for name in wanted):
                return
            used = self._instance_usage(session, project_id)
        over = [name for name, extra in wanted.items()
                if limits[name] >= 0 and used[name] + (0 if already else extra) > limits[name]]
        if over:
            name = over[0]
            raise errors.QuotaExceeded(
                f"Quota exceeded for {name}: Requested {wanted[name]}, but already used "
                f"{used[name] - (wanted[name] if already else 0)} of {limits[name]} {name}", over=over)

    def update(self, project_id: str, values: dict, allowed: list[str]) -> dict[str, int]:
        """Set limits; each must be an integer >= -1 and a known, visible resource (400)."""
        for name, value in values.items():
            if name not in allowed:
                raise errors.ComputeInvalid(f"Bad key(s) {name} in quota_set")
            check_limit(name, value)
        with self.db.session() as session:
            for name, value in values.items():
                row = session.get(QuotaLimit, (project_id, name))
                if row is None:
                    session.add(QuotaLimit(project_id=project_id, resource=name, hard_limit=int(value)))
                else:
                    row.hard_limit = int(value)
        return self.limits(project_id)

    def reset(self, project_id: str) -> None:
        with self.db.session() as session:
            session.execute(delete(QuotaLimit).where(QuotaLimit.project_id == project_id))

    def check_key_pairs(self, project_id: str | None, user_id: str) -> None:
        """403 when the user already holds as many keypairs as the project allows."""
        limit = self.limits(project_id)["key_pairs"] if project_id else self.defaults["key_pairs"]
        if limit >= 0 and self.usage(project_id, user_id)["key_pairs"] >= limit:
            raise errors.QuotaExceeded("Quota exceeded, too many key pairs.")
