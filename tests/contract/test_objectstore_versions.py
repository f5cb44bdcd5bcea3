"""Object versioning's rows on every database backend: uploads move the replaced row into
the archive, deletes write markers, versions are listed, read, restored and deleted, and
the counters follow (overcast/objectstore/versions.py)."""

from __future__ import annotations

import asyncio

import pytest

from overcast.common.config import load
from overcast.common.db import Database
from overcast.common.db.migrate import upgrade
from overcast.objectstore import errors, versions
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


def box(svc):
    return svc.container("AUTH_p", "box")


def put(svc, name: str, data: bytes, **meta):
    async def chunks():
        yield data

    return asyncio.run(svc.put_object(box(svc), name, chunks(), len(data),
                                      {"content_type": "text/plain", "meta": meta}))


def read(svc, row) -> bytes:
    return svc.read_all(row)


def listed(svc, **listing) -> list[tuple[str, str, bool]]:
    return [item if isinstance(item, str) else (item[0].name, item[1], item[2])
            for item in svc.versions.listing(box(svc), Listing(**listing), None)]


def test_uploads_keep_versions_without_copying(store):
    put(store, "o", b"null")  # before versioning: the null version
    store.versions.configure("AUTH_p", "box", True)
    first = put(store, "o", b"first", **{"x-object-meta-a": "1"})
    second = put(store, "o", b"second!")
    one, two = (row.meta[versions.VERSION_ID] for row in (first, second))
    assert float(two) > float(one)
    container = box(store)
    assert (container.object_count, container.bytes_used) == (1, 7)
    assert store.versions.archived_bytes(container) == 4 + 5
    assert read(store, store.get_object(container, "o")) == b"second!"
    assert read(store, store.versions.get(container, "o", one)) == b"first"
    assert store.versions.get(container, "o", one).meta["x-object-meta-a"] == "1"
    history = listed(store)
    assert [item[1:] for item in history[:2]] == [(two, True), (one, False)]
    assert len(history) == 3 and history[2][1] != versions.NULL  # the null version got its own time
    assert len(list(store.blobs.root.iterdir())) == 3  # every version's bytes, each once
    with pytest.raises(errors.SwiftNotFound):
        store.versions.get(container, "o", versions.NULL)
    account = store.account("AUTH_p")
    assert (account["containers"], account["bytes"]) == (1, 16)
    assert [row.name for row in store.list_containers("AUTH_p", Listing())] == ["box"]


def test_delete_markers_restore_and_delete_versions(store):
    store.versions.configure("AUTH_p", "box", True)
    one = put(store, "o", b"one").meta[versions.VERSION_ID]
    two = put(store, "o", b"two").meta[versions.VERSION_ID]
    deleted = store.delete_object(box(store), "o")
    marker = deleted.deleted_version
    assert store.locate("AUTH_p", "box", "o")[1] is None
    assert listed(store) == [("o", marker, True), ("o", two, False), ("o", one, False)]
    with pytest.raises(errors.SwiftNotFound) as raised:
        store.versions.get(box(store), "o", marker)
    assert raised.value.headers["X-Object-Version-Id"] == marker
    with pytest.raises(errors.SwiftNotFound) as raised:  # nothing to delete: a marker all the same
        store.delete_object(box(store), "o")
    assert float(raised.value.headers["X-Object-Version-Id"]) > float(marker)
    restored = store.versions.restore(box(store), "o", one)
    assert read(store, restored) == b"one" and box(store).object_count == 1
    assert store.versions.delete(box(store), "o", two) == one  # another version: the current one stays
    assert store.versions.delete(box(store), "o", one) == versions.NULL  # the current one: gone for good
    assert store.locate("AUTH_p", "box", "o")[1] is None
    with pytest.raises(errors.SwiftNotFound):
        store.versions.restore(box(store), "o", two)
    for item in listed(store):
        store.versions.delete(box(store), "o", item[1])
    assert listed(store) == [] and list(store.blobs.root.iterdir()) == []
    container = box(store)
    assert (container.object_count, container.bytes_used, store.versions.archived_bytes(container)) == (0, 0, 0)
    store.delete_container("AUTH_p", "box")
    assert store.account("AUTH_p")["containers"] == 0
    assert store.list_containers("AUTH_p", Listing()) == []


def test_disabled_versioning_and_listing_pages(store):
    store.versions.configure("AUTH_p", "box", True)
    kept = {name: [put(store, name, body).meta[versions.VERSION_ID] for body in (b"1", b"22")]
            for name in ("a", "d/b")}
    assert listed(store, delimiter="/") == [("a", kept["a"][1], True), ("a", kept["a"][0], False), "d/"]
    assert listed(store, prefix="d/", limit=1) == [
        ("d/b", kept["d/b"][1], True)]
    # (the directory's rows come after "a"'s in name order; an item per version)
    assert listed(store, marker="a") == [("d/b", kept["d/b"][1], True), ("d/b", kept["d/b"][0], False)]
    page = store.versions.listing(box(store), Listing(marker="a"), kept["a"][1])
    assert [(row.name, version) for row, version, _ in page] == [("a", kept["a"][0]), ("d/b", kept["d/b"][1]),
                                                                  ("d/b", kept["d/b"][0])]
    store.versions.configure("AUTH_p", "box", False)
    plain = put(store, "a", b"333")
    assert versions.VERSION_ID not in plain.meta
    put(store, "a", b"4444")  # replaces the null version for good
    assert [item[1:] for item in listed(store, prefix="a")] == [
        (versions.NULL, True), (kept["a"][1], False), (kept["a"][0], False)]
    with pytest.raises(errors.SwiftConflict):
        store.delete_container("AUTH_p", "box")
