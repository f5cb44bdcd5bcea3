"""Migrations service: what record/set_status write and how listing filters and pages."""

from __future__ import annotations

import datetime
import uuid

import pytest

from overcast.compute import errors
from overcast.compute.models import ComputeNode, Instance, Migration
from overcast.compute.service.migrations import MigrationQuery, Migrations

OLD = {"flavorid": "1", "name": "m1.tiny", "vcpus": 1}
NEW = {"flavorid": "2", "name": "m1.small", "vcpus": 2}


@pytest.fixture
def db(db):
    """The shared empty database, with two compute nodes."""
    database = db
    with database.session() as session:
        for host, ip in (("h1", "10.0.0.1"), ("h2", "10.0.0.2")):
            session.add(ComputeNode(uuid=str(uuid.uuid4()), host=host, hypervisor_hostname=f"{host}.node",
                                    hypervisor_type="fake", host_ip=ip, vcpus=4, memory_mb=4096, local_gb=40))
    return database


@pytest.fixture
def migrations(db):
    return Migrations(db)


def server(db, deleted: bool = False) -> str:
    ident = str(uuid.uuid4())
    with db.session() as session:
        session.add(Instance(uuid=ident, project_id="p", user_id="u", display_name="vm", flavor_id="1", flavor=OLD,
                             vcpus=1, memory_mb=64, root_gb=1, host="h1", deleted=deleted))
    return ident


def test_record_fills_nodes_and_destination_ip(db, migrations):
    instance = server(db)
    ident = migrations.record(instance, "p", "u", "h1", "h2", OLD, NEW, "resize", "pre-migrating")
    with db.session() as session:
        row = session.query(Migration).filter_by(uuid=ident).one()
        assert (row.source_node, row.dest_node, row.dest_host) == ("h1.node", "h2.node", "10.0.0.2")
        assert row.old_flavor == OLD and row.new_flavor == NEW and row.updated_at is None
    unscheduled = migrations.record(instance, "p", "u", "h1", None, OLD, OLD, "migration", "pre-migrating")
    with db.session() as session:
        row = session.query(Migration).filter_by(uuid=unscheduled).one()
        assert row.dest_compute is None and row.dest_node is None and row.dest_host is None
    with pytest.raises(ValueError):
        migrations.record(instance, "p", "u", "h1", "h2", OLD, NEW, "teleport", "queued")


def test_set_status_changes_the_latest_only(db, migrations):
    instance = server(db)
    first = migrations.record(instance, "p", "u", "h1", "h1", OLD, NEW, "resize", "finished")
    second = migrations.record(instance, "p", "u", "h1", "h1", NEW, OLD, "resize", "finished")
    assert migrations.set_status(instance, "confirmed") == second
    statuses = {row.uuid: row.status for row in migrations.list_migrations(MigrationQuery())}
    assert statuses == {first: "finished", second: "confirmed"}
    assert migrations.set_status(str(uuid.uuid4()), "confirmed") is None


def test_list_filters(db, migrations):
    one, two = server(db), server(db)
    resize = migrations.record(one, "p", "u", "h1", "h1", OLD, NEW, "resize", "finished")
    moved = migrations.record(two, "q", "v", "h1", "h2", OLD, OLD, "live-migration", "running")
    gone = migrations.record(server(db, deleted=True), "p", "u", "h2", "h1", OLD, OLD, "migration", "finished")

    def uuids(**filters):
        return {row.uuid for row in migrations.list_migrations(MigrationQuery(filters))}

    assert uuids() == {resize, moved}  # a deleted instance's migrations are not listed
    assert gone not in uuids(host="h2")
    assert uuids(host="h2") == {moved} and uuids(source_compute="h1") == {resize, moved}
    assert uuids(status="running") == {moved} and uuids(migration_type="resize") == {resize}
    assert uuids(instance_uuid=one) == {resize} and uuids(project_id="q", user_id="v") == {moved}
    assert uuids(node="h2.node") == {moved} and uuids(hidden="1") == set() and uuids(hidden="0") == {resize, moved}


def test_paging_newest_first(db, migrations):
    instance = server(db)
    made = [migrations.record(instance, "p", "u", "h1", "h2", OLD, NEW, "resize", "finished") for _ in range(3)]
    page = migrations.list_migrations(MigrationQuery(paged=True, limit=2))
    assert [row.uuid for row in page] == made[:0:-1]
    rest = migrations.list_migrations(MigrationQuery(paged=True, limit=2, marker=page[-1].uuid))
    assert [row.uuid for row in rest] == made[:1]
    assert migrations.list_migrations(MigrationQuery(paged=True, limit=0)) == []
    with pytest.raises(errors.ComputeInvalid):
        migrations.list_migrations(MigrationQuery(paged=True, limit=5, marker="nope"))
    migrations.set_status(instance, "confirmed")
    since = datetime.datetime.now(datetime.UTC).replace(tzinfo=None) - datetime.timedelta(minutes=1)
    assert [row.uuid for row in migrations.list_migrations(MigrationQuery(changes_since=since, paged=True))] \
        == [made[-1]]  # only the one whose status changed was updated
    assert migrations.list_migrations(MigrationQuery(changes_before=since, paged=True)) == []


def test_live_in_progress_lookup(db, migrations):
    instance = server(db)
    resize = migrations.record(instance, "p", "u", "h1", "h1", OLD, NEW, "resize", "finished")
    live = migrations.record(instance, "p", "u", "h1", "h2", OLD, OLD, "live-migration", "running")
    rows = {row.uuid: row for row in migrations.list_migrations(MigrationQuery())}
    assert [row.uuid for row in migrations.live_in_progress(instance)] == [live]
    assert migrations.get_live_in_progress(instance, str(rows[live].id)).uuid == live
    for ident, reason in ((str(rows[resize].id), "is not live-migration"), ("999", "is not found"),
                          ("x", "is not found")):
        with pytest.raises(errors.ComputeNotFound, match=reason):
            migrations.get_live_in_progress(instance, ident)
    migrations.set_status(instance, "completed")
    with pytest.raises(errors.ComputeNotFound, match="is not in progress"):
        migrations.get_live_in_progress(instance, str(rows[live].id))
