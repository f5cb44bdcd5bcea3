"""QoS specs: named sets of limits (``consumer`` front-end, back-end or both) that volume
types point at. Nothing enforces them yet: the file driver has no throttles and the fake
hypervisor no I/O; they are kept and shown as Cinder keeps them."""

from __future__ import annotations

import uuid

from sqlalchemy import select, update

from overcast.volume import errors
from overcast.volume.models import QosSpec, VolumeType

CONSUMERS = ("front-end", "back-end", "both")


class QosNotFound(errors.NotFound):
    def __init__(self, qos_id: str):
        super().__init__(f"No such QoS spec {qos_id}.")


class Qos:
    def __init__(self, db):
        self.db = db

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
