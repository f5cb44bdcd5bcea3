"""Aggregates: CRUD, members, metadata, and the zone rules that keep compute_services.zone true."""

from __future__ import annotations

import uuid

import pytest

from overcast.compute import errors
from overcast.compute.models import ComputeServiceRow, Instance
from overcast.compute.service.aggregates import Aggregates


@pytest.fixture
def db(db):
    """The shared empty database, with two nova-compute hosts."""
    for host in ("h1", "h2"):
        with db.session() as session:
            session.add(ComputeServiceRow(uuid=str(uuid.uuid4()), host=host, binary="nova-compute", zone="nova"))
    return db


@pytest.fixture
def aggregates(db):
    return Aggregates(db, "nova")


def zone(db, host: str) -> str:
    with db.session() as session:
        return session.query(ComputeServiceRow).filter_by(host=host, binary="nova-compute").one().zone


def add_instance(db, host: str) -> None:
    with db.session() as session:
        session.add(Instance(uuid=str(uuid.uuid4()), project_id="p", user_id="u", display_name="vm", flavor_id="1",
                             flavor={}, vcpus=1, memory_mb=64, root_gb=1, host=host))


def test_create_update_delete(aggregates):
    agg = aggregates.create("rack1", "az1")
    assert agg.availability_zone == "az1" and agg.updated_at is None
    with pytest.raises(errors.ComputeConflict, match="already exists"):
        aggregates.create("rack1")
    other = aggregates.create("rack2")
    with pytest.raises(errors.ComputeConflict):
        aggregates.update(other.id, name="rack1")
    renamed = aggregates.update(agg.id, name="rack1b", zone="az9")
    assert renamed.name == "rack1b" and renamed.metadata == {"availability_zone": "az9"} and renamed.updated_at
    with pytest.raises(errors.ComputeInvalid, match="empty named"):
        aggregates.update(agg.id, zone=None)
    aggregates.delete(agg.id)
    with pytest.raises(errors.AggregateNotFound):
        aggregates.get(agg.id)
    assert [a.name for a in aggregates.list()] == ["rack2"]


def test_hosts_follow_their_aggregate_zone(db, aggregates):
    agg = aggregates.create("rack", "az1")
    aggregates.add_host(agg.id, "h1")
    assert zone(db, "h1") == "az1" and zone(db, "h2") == "nova"
    aggregates.set_metadata(agg.id, {"availability_zone": "az2", "ssd": "true"})
    assert zone(db, "h1") == "az2"
    assert aggregates.get(agg.id).metadata == {"availability_zone": "az2", "ssd": "true"}
    aggregates.set_metadata(agg.id, {"ssd": None, "missing": None})
    assert aggregates.get(agg.id).metadata == {"availability_zone": "az2"}
    with pytest.raises(errors.ComputeInvalid, match="not empty"):
        aggregates.delete(agg.id)
    aggregates.remove_host(agg.id, "h1")
    assert zone(db, "h1") == "nova"


def test_add_host_errors(db, aggregates):
    first, second = aggregates.create("a", "az1"), aggregates.create("b", "az2")
    plain = aggregates.create("c")
    with pytest.raises(errors.ComputeHostNotFound):
        aggregates.add_host(first.id, "nowhere")
    with pytest.raises(errors.AggregateNotFound):
        aggregates.add_host(999, "h1")
    aggregates.add_host(first.id, "h1")
    with pytest.raises(errors.ComputeConflict, match="already has host"):
        aggregates.add_host(first.id, "h1")
    with pytest.raises(errors.ComputeConflict, match=r"already in availability zone\(s\) \['az1'\]"):
        aggregates.add_host(second.id, "h1")
    aggregates.add_host(plain.id, "h1")  # no zone: no conflict, the zone stays
    assert zone(db, "h1") == "az1"
    with pytest.raises(errors.ComputeInvalid, match="already in availability zone"):
        aggregates.set_metadata(plain.id, {"availability_zone": "az3"})


def test_instances_never_change_zone(db, aggregates):
    add_instance(db, "h2")
    agg = aggregates.create("a", "az1")
    with pytest.raises(errors.ComputeConflict, match="would change from 'None' to 'az1'"):
        aggregates.add_host(agg.id, "h2")
    plain = aggregates.create("b")
    aggregates.add_host(plain.id, "h2")
    with pytest.raises(errors.ComputeInvalid, match="contain instances"):
        aggregates.set_metadata(plain.id, {"availability_zone": "az5"})
    aggregates.remove_host(plain.id, "h2")
    with pytest.raises(errors.NotFound, match="Cannot remove host h2 in aggregate"):
        aggregates.remove_host(plain.id, "h2")


def test_ids_no_database_holds_are_not_found(aggregates):
    with pytest.raises(errors.AggregateNotFound):
        aggregates.get(10 ** 20)
    with pytest.raises(errors.NotFound):
        aggregates.remove_host(-(10 ** 20), "h1")
