"""The object store's index on SQLite: counters follow puts, overwrites and deletes; the
reaper removes expired objects and their blobs; listings page in byte order."""

from __future__ import annotations

import asyncio
import time

import pytest

from overcast.common.config import load
from overcast.common.db import Database
from overcast.common.db.migrate import upgrade
from overcast.objectstore.service import Listing, ObjectStoreService


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


def test_counters_follow_puts_overwrites_and_deletes(service):
    service.put_container("AUTH_p", "box", {}, {})
    box = service.container("AUTH_p", "box")
    put(service, box, "a", b"12345")
    put(service, box, "b", b"12")
    put(service, box, "a", b"1")  # overwrite: one object, new size
    box = service.container("AUTH_p", "box")
    assert (box.object_count, box.bytes_used) == (2, 3)
    service.delete_object(box, "b")
    assert service.account("AUTH_p")["objects"] == 1 and service.account("AUTH_p")["bytes"] == 1
    blobs = list((service.blobs.root).iterdir())
    assert len(blobs) == 1  # the overwritten and deleted blobs are gone


def test_reaper_removes_expired_objects_and_blobs(service):
    service.put_container("AUTH_p", "box", {}, {})
    box = service.container("AUTH_p", "box")
    put(service, box, "old", b"xx", delete_at=int(time.time()) - 1)
    put(service, box, "new", b"yy")
    assert service.reap_expired() == 1
    assert [row.name for row in service.list_objects(box, Listing())] == ["new"]
    assert service.container("AUTH_p", "box").object_count == 1
    assert len(list(service.blobs.root.iterdir())) == 1


def test_listing_pages_in_byte_order(service):
    service.put_container("AUTH_p", "box", {}, {})
    box = service.container("AUTH_p", "box")
    names = ["b", "a", "\u00e9", "Z", "a/b"]
    for name in names:
        put(service, box, name, b"")
    listed = [row.name for row in service.list_objects(box, Listing())]
    assert listed == sorted(names, key=lambda n: n.encode())
    page = [row.name for row in service.list_objects(box, Listing(limit=2, marker="Z"))]
    assert page == ["a", "a/b"]
