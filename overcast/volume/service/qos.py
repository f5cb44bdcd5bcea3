"""QoS specs: named sets of limits (``consumer`` front-end, back-end or both) that volume
types point at. Specs a front end consumes (``front-end``, ``both``) reach the hypervisor
in the connection info as ``data.qos_specs``, as Cinder sends them (the ``*_per_gb`` keys
turned into limits for the volume's size); the qemu driver throttles the device with
them. No backend here consumes ``back-end`` specs: they are kept and shown."""

from __future__ import annotations

import uuid

from sqlalchemy import select, update

from overcast.volume import errors
from overcast.volume.models import QosSpec, VolumeType

CONSUMERS = ("front-end", "back-end", "both")
FRONT_END = ("front-end", "both")
PER_GB = ("read_iops_sec", "read_bytes_sec", "write_iops_sec", "write_bytes_sec", "total_iops_sec", "total_bytes_sec")


def connection_specs(qos: QosSpec | None, size_gb: int) -> dict | None:
    """The ``qos_specs`` of a connection to a volume of ``size_gb`` whose type has ``qos``:
    None unless a front end consumes them; ``<limit>_per_gb`` becomes ``<limit>`` (times the
    size, at least ``<limit>_per_gb_min``), as Cinder's volume manager computes it."""
    if qos is None or qos.consumer not in FRONT_END:
        return None
    specs = dict(qos.specs or {})
    for option in PER_GB:
        per_gb = specs.pop(f"{option}_per_gb", None)
        minimum = specs.pop(f"{option}_per_gb_min", 0)
        if per_gb is not None:
            try:
                specs[option] = str(max(int(minimum), int(per_gb) * int(size_gb)))
            except (TypeError, ValueError):
                raise errors.InvalidInput(f"QoS spec {option}_per_gb must be an integer, not {per_gb!r}.") from None
    return specs


class QosNotFound(errors.NotFound):
    def __init__(self, qos_id: str):
        super().__init__(f"No such QoS spec {qos_id}.")


class Qos:
    def __init__(self, db):
        self.db = db

    def for_volume(self, volume) -> dict | None:
        """The connection's ``qos_specs`` for ``volume`` (a Volume row), or None."""
        if not volume.volume_type_id:
            return None
        with self.db.session() as session:
            vtype = session.get(VolumeType, volume.volume_type_id)
            qos = session.get(QosSpec, vtype.qos_specs_id) if vtype is not None and vtype.qos_specs_id else None
            return connection_specs(qos, volume.size)

    def get(self, qos_id: str, session=None) -> QosSpec:
        row = self.db.first(select(QosSpec).where(QosSpec.id == qos_id), session)
        if row is None:
            raise QosNotFound(qos_id)
        return row

    def list(self) -> list[QosSpec]:
        with self.db.session() as session:
            return list(session.scalars(select(QosSpec).order_by(QosSpec.created_at)))

    def create(self, name: str, consumer: str, specs: dict) -> QosSpec:
        if consumer not in CONSUMERS:
            raise errors.InvalidInput(f"Consumer {consumer} is not valid, it must be one of {', '.join(CONSUMERS)}.")
        with self.db.session() as session:
            if session.scalar(select(QosSpec).where(QosSpec.name == name)) is not None:
                raise errors.Conflict(f"QoS Specs {name} already exists.")
            row = QosSpec(id=str(uuid.uuid4()), name=name, consumer=consumer, specs=dict(specs))
            session.add(row)
            return row

    def set_keys(self, qos_id: str, specs: dict) -> dict:
        with self.db.session() as session:
            row = self.get(qos_id, session)
            if "consumer" in specs:
                consumer = specs.pop("consumer")
                if consumer not in CONSUMERS:
                    raise errors.InvalidInput(f"Consumer {consumer} is not valid.")
                row.consumer = consumer
            row.specs = {**row.specs, **specs}
            return specs

    def delete_keys(self, qos_id: str, keys: list[str]) -> None:
        with self.db.session() as session:
            row = self.get(qos_id, session)
            missing = [k for k in keys if k not in row.specs]
            if missing:
                raise errors.NotFound(f"QoS spec {qos_id} has no key {missing[0]}.")
            row.specs = {k: v for k, v in row.specs.items() if k not in keys}

    def delete(self, qos_id: str, force: bool) -> None:
        with self.db.session() as session:
            row = self.get(qos_id, session)
            used = session.scalar(select(VolumeType.id).where(VolumeType.qos_specs_id == qos_id))
            if used and not force:
                raise errors.BadRequest(f"QoS Specs {qos_id} is still associated with entities.")
            session.execute(update(VolumeType).where(VolumeType.qos_specs_id == qos_id).values(qos_specs_id=None))
            session.delete(row)

    def associations(self, qos_id: str) -> list[VolumeType]:
        with self.db.session() as session:
            self.get(qos_id, session)
            return list(session.scalars(select(VolumeType).where(VolumeType.qos_specs_id == qos_id)))

    def associate(self, qos_id: str, type_id: str) -> None:
        with self.db.session() as session:
            self.get(qos_id, session)
            vtype = session.get(VolumeType, type_id)
            if vtype is None:
                raise errors.VolumeTypeNotFound(type_id)
            if vtype.qos_specs_id and vtype.qos_specs_id != qos_id:
                raise errors.BadRequest(f"Type {type_id} is already associated with another qos specs: "
                                        f"{vtype.qos_specs_id}")
            vtype.qos_specs_id = qos_id

    def disassociate(self, qos_id: str, type_id: str | None) -> None:
        with self.db.session() as session:
            self.get(qos_id, session)
            query = update(VolumeType).where(VolumeType.qos_specs_id == qos_id)
            if type_id is not None:
                if session.get(VolumeType, type_id) is None:
                    raise errors.VolumeTypeNotFound(type_id)
                query = query.where(VolumeType.id == type_id)
            session.execute(query.values(qos_specs_id=None))
