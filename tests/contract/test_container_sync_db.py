"""Container sync's database side on SQLite, PostgreSQL and MariaDB: the change log keeps
its ids growing, synced writes keep the newest by timestamp, and one syncer at a time
holds a container (the lease several processes on one database share)."""

from __future__ import annotations

import asyncio

import pytest

from overcast.common.config import load
from overcast.common.db import Database
from overcast.common.db.migrate import upgrade
from overcast.objectstore import errors, sync
from overcast.objectstore.service import ObjectStoreService


@pytest.fixture
def service(database_url, tmp_path):
    config = load(environ={}, server__data_dir=str(tmp_path), database__url=database_url)
    db = Database(config.database_url)
    upgrade(db)
    svc = ObjectStoreService(config, db)
    yield svc
    db.close()


def put(svc, box, name: str, data: bytes, **fields):
    async def chunks():
        yield data

    return asyncio.run(svc.put_object(box, name, chunks(), len(data), {"content_type": "text/plain", "meta": {},
                                                                       **fields}))


def test_change_log_ordering_and_lease(service):
    service.put_container("AUTH_p", "box", {sync.SYNC_TO: "//r/c/AUTH_q/box", sync.SYNC_KEY: "k"}, {})
    box = service.container("AUTH_p", "box")
    put(service, box, "o", b"new", last_modified=2000.0)
    with pytest.raises(errors.OlderThanCurrent):
        put(service, box, "o", b"old", last_modified=1000.0)
    service.delete_object(box, "o", 3000.0)
    with pytest.raises(errors.OlderThanCurrent):
        put(service, box, "o", b"old", last_modified=2500.0)
    assert sync.pending_changes(service.db, box.id) == 2
    first = sync.ContainerSyncer(service, service.realms, 1.0)
    second = sync.ContainerSyncer(service, service.realms, 1.0)
    assert first._claim(box.id) and not second._claim(box.id)
    with service.db.engine.connect() as connection:
        ids = connection.execute(sync._changes.select().order_by(sync._changes.c.id)).all()
    first._advance(box.id, ids[-1].id)  # everything sent: the newest row stays, ids keep growing
    first._release(box.id)
    assert second._claim(box.id)
    put(service, box, "p", b"x")
    assert sync.pending_changes(service.db, box.id) == 1
    with service.db.engine.connect() as connection:
        newest = connection.execute(sync._changes.select().order_by(sync._changes.c.id.desc())).first()
    assert newest.id > ids[-1].id and newest.name == "p"
