"""The container sync change log and the syncer's lease, on SQLite (no HTTP: the
functional tests send real requests between clouds)."""

from __future__ import annotations

import asyncio

import pytest

from overcast.common.config import load
from overcast.common.db import Database
from overcast.common.db.migrate import upgrade
from overcast.objectstore import errors, sync
from overcast.objectstore.service import ObjectStoreService


@pytest.fixture
def service(tmp_path):
    config = load(environ={}, server__data_dir=str(tmp_path))
    db = Database(config.database_url)
    upgrade(db)
    svc = ObjectStoreService(config, db)
    svc.start()
    yield svc
    db.close()


def put(svc, box, name: str, data: bytes, **fields):
    async def chunks():
        yield data

    return asyncio.run(svc.put_object(box, name, chunks(), len(data), {"content_type": "text/plain", "meta": {},
                                                                       **fields}))


def changes(svc, box) -> list[tuple[str, bool]]:
    with svc.db.engine.connect() as connection:
        rows = connection.execute(sync._changes.select().where(sync._changes.c.container_id == box.id)
                                  .order_by(sync._changes.c.id)).all()
    return [(row.name, row.deleted) for row in rows]


def test_only_synced_containers_log_changes(service):
    service.put_container("AUTH_p", "plain", {}, {})
    plain = service.container("AUTH_p", "plain")
    put(service, plain, "a", b"1")
    service.delete_object(plain, "a")
    assert changes(service, plain) == []
    service.put_container("AUTH_p", "keyed", {sync.SYNC_KEY: "k"}, {})  # receives only: tombstones
    keyed = service.container("AUTH_p", "keyed")
    put(service, keyed, "a", b"1")
    service.delete_object(keyed, "a")
    assert changes(service, keyed) == [("a", True)]


def test_a_new_target_logs_every_object_once(service):
    service.put_container("AUTH_p", "box", {}, {})
    box = service.container("AUTH_p", "box")
    for name in ("b", "a"):
        put(service, box, name, b"x")
    service.update_container("AUTH_p", "box", {sync.SYNC_TO: "//r/c/AUTH_q/box", sync.SYNC_KEY: "k"}, {})
    assert changes(service, box) == [("a", False), ("b", False)]
    put(service, box, "c", b"x")
    service.update_container("AUTH_p", "box", {sync.SYNC_KEY: "k2"}, {})  # same target: nothing more
    assert changes(service, box) == [("a", False), ("b", False), ("c", False)]


def test_synced_writes_keep_the_newest_by_timestamp(service):
    service.put_container("AUTH_p", "box", {sync.SYNC_KEY: "k"}, {})
    box = service.container("AUTH_p", "box")
    assert put(service, box, "o", b"new", last_modified=2000.0).last_modified == 2000.0
    with pytest.raises(errors.OlderThanCurrent):
        put(service, box, "o", b"old", last_modified=1000.0)
    with pytest.raises(errors.SwiftConflict):
        service.delete_object(box, "o", 1500.0)
    service.delete_object(box, "o", 3000.0)
    with pytest.raises(errors.OlderThanCurrent):  # its tombstone is newer
        put(service, box, "o", b"old", last_modified=2500.0)
    with pytest.raises(errors.SwiftNotFound):  # nothing to delete, the tombstone is kept
        service.delete_object(box, "gone", 4000.0)
    assert changes(service, box) == [("o", True), ("gone", True)]
    assert len(list(service.blobs.root.iterdir())) == 0  # refused uploads leave no blob


def test_one_process_at_a_time_holds_a_container(service):
    service.put_container("AUTH_p", "box", {}, {})
    box = service.container("AUTH_p", "box")
    first = sync.ContainerSyncer(service, service.realms, 1.0)
    second = sync.ContainerSyncer(service, service.realms, 1.0)
    assert first._claim(box.id) and not second._claim(box.id)
    first._release(box.id)
    assert second._claim(box.id)


def test_changes_of_a_container_without_a_target_are_skipped(service):
    service.put_container("AUTH_p", "box", {sync.SYNC_TO: "http://127.0.0.1:9/v1/AUTH_q/c"}, {})
    box = service.container("AUTH_p", "box")
    put(service, box, "a", b"1")
    service.update_container("AUTH_p", "box", {sync.SYNC_TO: None}, {})  # turned off before a round
    assert sync.pending_changes(service.db, box.id) == 1
    assert service.syncer.run_once() == 0
    assert sync.pending_changes(service.db, box.id) == 0
