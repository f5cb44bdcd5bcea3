"""Host aggregates (os-aggregates): named groups of compute hosts with metadata.

An aggregate with ``availability_zone`` metadata puts its hosts in that zone. A host may
be in many aggregates but in one zone only, and hosts with instances never change zone
through these calls (Nova's ``is_safe_to_update_az`` and its two ``ensure_no_instances``
checks). Every change that can move a host copies the result into the host's nova-compute
``compute_services.zone``: the zone of its aggregates, else the default zone.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, field
from typing import Callable

from sqlalchemy import delete, func, select, update

from overcast.common.db import Database, utcnow
from overcast.compute import errors
from overcast.compute.models import Aggregate, AggregateHost, AggregateMetadata, ComputeServiceRow, Instance
from overcast.compute.service.hosts import COMPUTE

ZONE_KEY = "availability_zone"
UNSET = object()


@dataclass
class AggregateView:
    id: int
    uuid: str
    name: str
    created_at: datetime.datetime
    updated_at: datetime.datetime | None
    hosts: list[str] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def availability_zone(self) -> str | None:
        return self.metadata.get(ZONE_KEY)


def _reject(kind: type, action: str, aggregate_id: int) -> Callable[[str], None]:
    """Raise ``kind`` with Nova's InvalidAggregateAction* message for ``action``."""
    def fail(reason: str) -> None:
        raise kind(f"Cannot {action} aggregate {aggregate_id}. Reason: {reason}.")
    return fail


class Aggregates:
    def __init__(self, db: Database, default_zone: str = "nova"):
        self.db = db
        self.default_zone = default_zone

    # -- reading -----------------------------------------------------------------------

    @staticmethod
    def _find(session, aggregate_id: int) -> Aggregate | None:
        return session.get(Aggregate, aggregate_id) if -(1 << 63) <= aggregate_id < (1 << 63) else None

    def _row(self, session, aggregate_id: int) -> Aggregate:
        row = self._find(session, aggregate_id)
        if row is None:
            raise errors.AggregateNotFound(aggregate_id)
        return row

    def _views(self, session, rows: list[Aggregate]) -> list[AggregateView]:
        ids = [row.id for row in rows]
        hosts: dict[int, list[str]] = {}
        for agg_id, host in session.execute(select(AggregateHost.aggregate_id, AggregateHost.host)
                                            .where(AggregateHost.aggregate_id.in_(ids))
                                            .order_by(AggregateHost.host)):
            hosts.setdefault(agg_id, []).append(host)
        metadata: dict[int, dict] = {}
        for agg_id, key, value in session.execute(select(AggregateMetadata.aggregate_id, AggregateMetadata.key,
                                                         AggregateMetadata.value)
                                                  .where(AggregateMetadata.aggregate_id.in_(ids))):
            metadata.setdefault(agg_id, {})[key] = value
        return [AggregateView(row.id, row.uuid, row.name, row.created_at, row.updated_at, hosts.get(row.id, []),
                              metadata.get(row.id, {})) for row in rows]

    def list(self) -> list[AggregateView]:
        with self.db.session() as session:
            return self._views(session, list(session.scalars(select(Aggregate).order_by(Aggregate.id))))

    def get(self, aggregate_id: int) -> AggregateView:
        with self.db.session() as session:
            return self._views(session, [self._row(session, aggregate_id)])[0]

    # -- writing -----------------------------------------------------------------------

    def _check_name(self, session, name: str, aggregate_id: int | None = None) -> None:
        other = session.scalar(select(Aggregate.id).where(Aggregate.name == name))
        if other is not None and other != aggregate_id:
            raise errors.ComputeConflict(f"Aggregate {name} already exists.")

    def create(self, name: str, zone: str | None = None) -> AggregateView:
        with self.db.session() as session:
            self._check_name(session, name)
            row = Aggregate(uuid=str(uuid.uuid4()), name=name)
            session.add(row)
            session.flush()
            if zone:
                session.add(AggregateMetadata(aggregate_id=row.id, key=ZONE_KEY, value=zone))
            session.flush()
            return self._views(session, [row])[0]

    def update(self, aggregate_id: int, name: str | None = None, zone=UNSET) -> AggregateView:
        """Rename and/or move to another zone (``zone`` None or empty is refused, as in Nova)."""
        with self.db.session() as session:
            row = self._row(session, aggregate_id)
            if name is not None:
                self._check_name(session, name, row.id)
                row.name = name
            if zone is not UNSET:
                fail = _reject(errors.ComputeInvalid, "update", row.id)
                self._write_metadata(session, row, {ZONE_KEY: zone}, fail)
            row.updated_at = utcnow()
            session.flush()
            return self._views(session, [row])[0]

    def set_metadata(self, aggregate_id: int, metadata: dict[str, str | None]) -> AggregateView:
        """Merge ``metadata`` into the aggregate's; a None value removes the key."""
        with self.db.session() as session:
            row = self._row(session, aggregate_id)
            self._write_metadata(session, row, metadata, _reject(errors.ComputeInvalid, "update metadata of",
                                                                 row.id))
            row.updated_at = utcnow()
            session.flush()
            return self._views(session, [row])[0]

    def delete(self, aggregate_id: int) -> None:
        with self.db.session() as session:
            row = self._row(session, aggregate_id)
            if session.scalar(select(AggregateHost.host).where(AggregateHost.aggregate_id == row.id).limit(1)):
                _reject(errors.ComputeInvalid, "remove host from", row.id)("Host aggregate is not empty")
            session.execute(delete(AggregateMetadata).where(AggregateMetadata.aggregate_id == row.id))
            session.delete(row)

    def add_host(self, aggregate_id: int, host: str) -> AggregateView:
        with self.db.session() as session:
            if not self._is_compute_host(session, host):
                raise errors.ComputeHostNotFound(host)
            row = self._row(session, aggregate_id)
            fail = _reject(errors.ComputeConflict, "add host to", row.id)
            metadata = self._metadata(session, row.id)
            self._check_zone(session, row, metadata, [host], fail)
            new_zone, count = metadata.get(ZONE_KEY), self._instance_count(session, [host])
            if new_zone and count:
                old_zone = self._aggregate_zone(session, host)
                if old_zone != new_zone:
                    fail(self._moving_instances("added to", old_zone, new_zone, count))
            if session.get(AggregateHost, (row.id, host)) is not None:
                raise errors.ComputeConflict(f"Aggregate {row.id} already has host {host}.")
            session.add(AggregateHost(aggregate_id=row.id, host=host))
            session.flush()
            self._sync_zones(session, [host])
            return self._views(session, [row])[0]

    def remove_host(self, aggregate_id: int, host: str) -> AggregateView:
        missing = errors.NotFound(f"Cannot remove host {host} in aggregate {aggregate_id}")
        with self.db.session() as session:
            row = self._find(session, aggregate_id)
            if row is None or not self._is_compute_host(session, host):
                raise missing
            zone = self._metadata(session, row.id).get(ZONE_KEY)
            count = self._instance_count(session, [host])
            if zone and count:
                new_zone = self._aggregate_zone(session, host, excluding=row.id)
                if new_zone != zone:
                    _reject(errors.ComputeConflict, "remove host from", row.id)(
                        self._moving_instances("removed from", zone, new_zone, count))
            gone = session.execute(delete(AggregateHost).where(AggregateHost.aggregate_id == row.id,
                                                               AggregateHost.host == host))
            if gone.rowcount != 1:
                raise missing
            self._sync_zones(session, [host])
            return self._views(session, [row])[0]

    # -- zones -------------------------------------------------------------------------

    def _write_metadata(self, session, row: Aggregate, metadata: dict, fail) -> None:
        self._check_zone(session, row, metadata, self._hosts(session, row.id), fail, check_instances=True)
        for key, value in metadata.items():
            current = session.get(AggregateMetadata, (row.id, key))
            if value is None:
                if current is not None:
                    session.delete(current)
            elif current is None:
                session.add(AggregateMetadata(aggregate_id=row.id, key=key, value=value))
            else:
                current.value = value
        session.flush()
        if ZONE_KEY in metadata:
            self._sync_zones(session, self._hosts(session, row.id))

    def _check_zone(self, session, row: Aggregate, metadata: dict, hosts: list[str], fail,
                    check_instances: bool = False) -> None:
        """Nova's is_safe_to_update_az: no empty zone name, no host in two zones, and (when
        asked) no host with instances changing zone."""
        if ZONE_KEY not in metadata:
            return
        zone = metadata[ZONE_KEY]
        if not zone:
            fail(f"Aggregate {row.name} does not support empty named availability zone")
        others = session.execute(
            select(AggregateMetadata.aggregate_id, AggregateMetadata.value).distinct()
            .join(AggregateHost, AggregateHost.aggregate_id == AggregateMetadata.aggregate_id)
            .where(AggregateMetadata.key == ZONE_KEY, AggregateHost.host.in_(hosts),
                   AggregateMetadata.aggregate_id != row.id, AggregateMetadata.value != zone)
            .order_by(AggregateMetadata.aggregate_id)).all()
        if others:
            fail(f"One or more hosts already in availability zone(s) {[value for _, value in others]}")
        current = self._metadata(session, row.id).get(ZONE_KEY)
        if check_instances and current != zone and self._instance_count(session, hosts):
            fail("One or more hosts contain instances in this zone")

    def _sync_zones(self, session, hosts: list[str]) -> None:
        """Copy each host's aggregate zone (or the default) into its nova-compute row."""
        for host in hosts:
            zone = self._aggregate_zone(session, host) or self.default_zone
            session.execute(update(ComputeServiceRow)
                            .where(ComputeServiceRow.host == host, ComputeServiceRow.binary == COMPUTE)
                            .values(zone=zone).execution_options(synchronize_session=False))

    @staticmethod
    def _aggregate_zone(session, host: str, excluding: int | None = None) -> str | None:
        query = (select(AggregateMetadata.value).distinct()
                 .join(AggregateHost, AggregateHost.aggregate_id == AggregateMetadata.aggregate_id)
                 .where(AggregateHost.host == host, AggregateMetadata.key == ZONE_KEY))
        if excluding is not None:
            query = query.where(AggregateHost.aggregate_id != excluding)
        return ",".join(sorted(session.scalars(query))) or None

    @staticmethod
    def _moving_instances(verb: str, old_zone, new_zone, count: int) -> str:
        return (f"The host cannot be {verb} the aggregate as the availability zone of the host would change "
                f"from '{old_zone}' to '{new_zone}' but the host already has {count} instance(s). Changing the AZ "
                "of an existing instance is not supported by this action. Move the instances away from this host "
                "then try again. If you need to move the instances between AZs then you can use shelve_offload "
                "and unshelve to achieve this.")

    # -- small queries -----------------------------------------------------------------

    @staticmethod
    def _metadata(session, aggregate_id: int) -> dict[str, str]:
        return dict(session.execute(select(AggregateMetadata.key, AggregateMetadata.value)
                                    .where(AggregateMetadata.aggregate_id == aggregate_id)).all())

    @staticmethod
    def _hosts(session, aggregate_id: int) -> list[str]:
        return list(session.scalars(select(AggregateHost.host).where(AggregateHost.aggregate_id == aggregate_id)))

    @staticmethod
    def _is_compute_host(session, host: str) -> bool:
        return session.scalar(select(ComputeServiceRow.id).where(ComputeServiceRow.host == host,
                                                                 ComputeServiceRow.binary == COMPUTE)) is not None

    @staticmethod
    def _instance_count(session, hosts: list[str]) -> int:
        return session.scalar(select(func.count()).select_from(Instance)
                              .where(Instance.host.in_(hosts), Instance.deleted.is_(False)))
