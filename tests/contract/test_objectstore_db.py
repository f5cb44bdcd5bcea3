"""The object index on every database backend: the prepared statements of uploads and
reads (counters, overwrites, quotas), delimiter listings that jump past pseudo-directories,
and the expiry sweep along the delete_at index."""

from __future__ import annotations

import asyncio
import time

import pytest

from overcast.common.config import load
from overcast.common.db import Database
from overcast.common.db.migrate import upgrade
from overcast.objectstore import errors
from overcast.objectstore.service import Listing, ObjectStoreService


@pytest.fixture
def store(database_url, tmp_path):
    config = load(environ={}, server__data_dir=str(tmp_path / "data"), database__url=database_url)
    config.data_path.mkdir(parents=True)
    db = Database(config.database_url)
    upgrade(db)
    service = ObjectStoreService(config, db)
    service.start()
    service.put_container("AUTH_p", "box", {}, {})
    yield service
    db.close()


def put(svc, name: str, data: bytes, **fields):
    async def chunks():
        yield data

    box = svc.container("AUTH_p", "box")
    return asyncio.run(svc.put_object(box, name, chunks(), len(data), {"content_type": "text/plain", "meta": {},
                                                                      **fields}))


def names(items) -> list[str]:
    return [item if isinstance(item, str) else item.name for item in items]


def test_uploads_overwrites_and_reads(store):
    first = put(store, "a", b"12345", meta={"x-object-meta-color": "blue"})
    assert first.id is not None and first.size == 5
    put(store, "b", b"12")
    put(store, "a", b"1")  # overwrite: still two objects
    box, row = store.locate("AUTH_p", "box", "a")
    assert (box.object_count, box.bytes_used) == (2, 3)
    assert row.size == 1 and row.meta == {}
    assert store.fetch("AUTH_p", "box", "b", read_up_to=10)[2] == b"12"
    assert store.locate("AUTH_p", "box", "missing")[1] is None
    with pytest.raises(errors.SwiftNotFound):
        store.locate("AUTH_p", "nobox", "a")
    store.delete_object(box, "b")
    assert store.container("AUTH_p", "box").object_count == 1
    assert len(list(store.blobs.root.iterdir())) == 1


def test_quota_is_checked_in_the_index_transaction(store):
    store.update_container("AUTH_p", "box", {"x-container-meta-quota-bytes": "4"}, {})
    put(store, "a", b"1234")
    with pytest.raises(errors.EntityTooLarge):
        put(store, "b", b"5")
    assert names(store.list_objects(store.container("AUTH_p", "box"), Listing())) == ["a"]


def test_delimiter_listing_jumps_past_pseudo_directories(store):
    for name in ["a", "d1/x", "d1/y", "d2/x", "d2/z/q", "d3", "e/", "e/f"]:
        put(store, name, b".")
    box = store.container("AUTH_p", "box")
    assert names(store.list_objects(box, Listing(delimiter="/"))) == ["a", "d1/", "d2/", "d3", "e/"]
    assert names(store.list_objects(box, Listing(delimiter="/", marker="d1/"))) == ["d2/", "d3", "e/"]
    assert names(store.list_objects(box, Listing(delimiter="/", reverse=True, limit=2))) == ["e/", "d3"]
    assert names(store.list_objects(box, Listing(delimiter="/", prefix="d2/"))) == ["d2/x", "d2/z/"]


def test_expired_objects_are_swept_before_a_listing(store):
    put(store, "old", b"abc", delete_at=int(time.time()) - 1)
    put(store, "new", b"de")
    box = store.container("AUTH_p", "box")
    assert names(store.list_objects(box, Listing())) == ["new"]
    box = store.container("AUTH_p", "box")
    assert (box.object_count, box.bytes_used) == (1, 2)
