"""The cinder-* services: records, up/down from heartbeats, enable/disable, and picking
the backend a new volume goes to (cinder-scheduler's job, done in the API's process)."""

from __future__ import annotations

from sqlalchemy import select

from overcast.common.db import utcnow
from overcast.common.heartbeats import DOWN_AFTER, ServiceRecord
from overcast.volume import errors
from overcast.volume.models import ClusterRow, ServiceRow, Snapshot, Volume

SCHEDULER = "cinder-scheduler"
VOLUME = "cinder-volume"


def topic_for(volume_host: str) -> str:
    """The agent topic of a volume's host ``host@backend#pool``."""
    return "volume." + volume_host.split("#", 1)[0]


def queue_of(volume) -> str:
    """Where work on ``volume`` goes, as Cinder's ``service_topic_queue``: its cluster's
    topic (any live member takes it) when it has one, else its host's."""
    return topic_for(volume.cluster_name or volume.host)


MATCHED_SPECS = ("volume_backend_name", "storage_protocol", "vendor_name")


def satisfies(capabilities: dict, specs: dict) -> bool:
    """Cinder's capabilities filter, for the extra specs that name capabilities: the
    unscoped ``volume_backend_name``, ``storage_protocol`` and ``vendor_name`` and every
    ``capabilities:<name>``; a value is matched as a string or with ``<is>``/``<in>``
    (other scoped specs, and unscoped ones naming no capability, are not the filter's)."""
    for key, wanted in specs.items():
        name = key.removeprefix("capabilities:")
        if name == key and key not in MATCHED_SPECS:
            continue
        if name not in capabilities:
            return False
        have, wanted = str(capabilities[name]), str(wanted).strip()
        op, _, operand = wanted.partition(" ")
        if op == "<is>":
            if have.lower() != operand.strip().lower():
                return False
        elif op == "<in>":
            if operand.strip() not in have:
                return False
        elif op == "<or>":
            if have not in [part.strip() for part in wanted.split("<or>") if part.strip()]:
                return False
        elif have.lower() != wanted.lower():
            return False
    return True


class Hosts:
    def __init__(self, db, default_zone: str):
        self.db = db
        self.default_zone = default_zone

    def register(self, host: str, binary: str, zone: str | None = None, capabilities: dict | None = None,
                 cluster: str | None = None) -> None:
        """Record a service (again); ``cluster`` (cluster@backend) makes its cluster's row
        the first time a member names it."""
        with self.db.session() as session:
            row = session.get(ServiceRow, (host, binary))
            if row is None:
                session.add(ServiceRow(host=host, binary=binary, zone=zone or self.default_zone,
                                       capabilities=capabilities or {}, cluster_name=cluster))
            else:
                row.zone = zone or row.zone
                if capabilities is not None:
                    row.capabilities = capabilities
                row.cluster_name = cluster
                row.updated_at = utcnow()
            if cluster and session.get(ClusterRow, (cluster, binary)) is None:
                session.add(ClusterRow(name=cluster, binary=binary, created_at=utcnow()))

    def _seen(self, session) -> dict[tuple[str, str], object]:
        rows = session.execute(select(ServiceRecord.binary, ServiceRecord.host, ServiceRecord.last_seen)
                               .where(ServiceRecord.binary.in_((SCHEDULER, VOLUME))))
        return {(binary, host): seen for binary, host, seen in rows}

    def list(self, binary: str | None = None, host: str | None = None, zone: str | None = None) -> list[dict]:
        now = utcnow()
        with self.db.session() as session:
            query = select(ServiceRow).order_by(ServiceRow.binary, ServiceRow.host)
            if binary:
                query = query.where(ServiceRow.binary == binary)
            if host:
                query = query.where((ServiceRow.host == host) | ServiceRow.host.like(f"{host}@%"))
            if zone:
                query = query.where(ServiceRow.zone == zone)
            seen = self._seen(session)
            disabled_clusters = {(c.name, c.binary) for c in session.scalars(select(ClusterRow)
                                                                             .where(ClusterRow.disabled.is_(True)))}
            result = []
            for row in session.scalars(query):
                last = seen.get((row.binary, row.host))
                up = last is not None and (now - last).total_seconds() < DOWN_AFTER
                result.append({"binary": row.binary, "host": row.host, "zone": row.zone, "disabled": row.disabled,
                               "disabled_reason": row.disabled_reason, "frozen": row.frozen,
                               "updated_at": last or row.updated_at or row.created_at, "state": "up" if up else "down",
                               "capabilities": row.capabilities, "cluster": row.cluster_name,
                               "cluster_disabled": (row.cluster_name, row.binary) in disabled_clusters})
            return result

    def set_disabled(self, host: str, binary: str, disabled: bool, reason: str | None) -> dict:
        with self.db.session() as session:
            rows = list(session.scalars(select(ServiceRow).where(ServiceRow.host == host,
                                                                 ServiceRow.binary == binary)))
            if not rows:
                raise errors.ServiceNotFound(f"{binary} on host {host}")
            for row in rows:
                row.disabled, row.disabled_reason, row.updated_at = disabled, reason, utcnow()
            return {"host": host, "binary": binary, "disabled": disabled, "disabled_reason": reason}

    def zones(self) -> list[dict]:
        """Every zone a cinder-volume service is in, with whether one of them is up."""
        by_zone: dict[str, bool] = {}
        for service in self.list(binary=VOLUME):
            up = service["state"] == "up" and not service["disabled"]
            by_zone[service["zone"]] = by_zone.get(service["zone"], False) or up
        return [{"zoneName": zone, "zoneState": {"available": up}} for zone, up in sorted(by_zone.items())]

    def zone_names(self) -> set[str]:
        with self.db.session() as session:
            names = set(session.scalars(select(ServiceRow.zone).where(ServiceRow.binary == VOLUME)))
        return names or {self.default_zone}

    def pick(self, zone: str | None, exclude: tuple[str, ...] = (), specs: dict | None = None) -> str:
        """``host@backend#pool`` for a new volume: an enabled, up cinder-volume in ``zone``
        whose capabilities match the volume type's ``specs`` (see :func:`satisfies`), with
        the most free space. Raises NoValidBackend."""
        candidates = [s for s in self.list(binary=VOLUME) if s["state"] == "up" and not s["disabled"]
                      and not s["cluster_disabled"] and (zone is None or s["zone"] == zone) and s["host"] not in exclude
                      and satisfies(s["capabilities"], specs or {})]
        if not candidates:
            raise errors.NoValidBackend()
        best = max(candidates, key=lambda s: s["capabilities"].get("free_gb", 0))
        return f"{best['host']}#{best['capabilities'].get('pool', best['host'].partition('@')[2] or 'pool')}"

    def cluster_of(self, volume_host: str) -> str | None:
        """``cluster@backend#pool`` of the service a new volume on ``volume_host`` goes to
        (Cinder appends the pool to the cluster name as to the host), None unclustered."""
        service_host, _, pool = volume_host.partition("#")
        with self.db.session() as session:
            service = session.get(ServiceRow, (service_host, VOLUME))
        if service is None or not service.cluster_name:
            return None
        return f"{service.cluster_name}#{pool}" if pool else service.cluster_name

    def usage(self, host: str) -> dict:
        """Volumes and snapshots on a cinder-volume host (os-hosts show). Raises ServiceNotFound."""
        with self.db.session() as session:
            service = session.get(ServiceRow, (host, VOLUME))
            if service is None or service.disabled:
                raise errors.ServiceNotFound(f"cinder-volume on host {host}")
            volumes = list(session.execute(select(Volume.id, Volume.size).where(Volume.host.like(f"{host}#%"))))
            ids = [v.id for v in volumes]
            snaps = list(session.execute(select(Snapshot.size).where(Snapshot.volume_id.in_(ids)))) if ids else []
        return {"volume_count": len(volumes), "total_volume_gb": sum(v.size for v in volumes),
                "snapshot_count": len(snaps), "total_snapshot_gb": sum(s.size for s in snaps)}
