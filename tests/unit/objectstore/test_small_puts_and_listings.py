"""The fast paths of the object index: small sized uploads stored in one thread hop (ETag,
size and quotas still refused with nothing stored), delimiter listings that jump past
pseudo-directories (same pages as a plain walk of every name), and the expiry sweep."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import time

import pytest

from overcast.common.config import load
from overcast.common.db import Database
from overcast.common.db.migrate import upgrade
from overcast.image.errors import ImageSizeMismatch
from overcast.objectstore import errors
from overcast.objectstore.service import SMALL_BODY, Listing, ObjectStoreService


@pytest.fixture
def service(tmp_path):
    config = load(environ={}, server__data_dir=str(tmp_path))
    db = Database(config.database_url)
    upgrade(db)
    svc = ObjectStoreService(config, db)
    svc.start()
    svc.put_container("AUTH_p", "box", {}, {})
    yield svc
    db.close()


def put(svc, name: str, parts: list[bytes], size: int | None = None, etag: str | None = None, **fields):
    async def chunks():
        for part in parts:
            yield part

    box = svc.container("AUTH_p", "box")
    body_size = sum(map(len, parts)) if size is None else size
    return asyncio.run(svc.put_object(box, name, chunks(), body_size,
                                      {"content_type": "text/plain", "meta": {}, **fields}, etag))


def blobs(svc) -> list:
    return sorted(path.name for path in svc.blobs.root.iterdir())


def test_small_put_is_stored_whole_with_its_etag(service):
    row = put(service, "a", [b"hello ", b"world"])
    assert row.etag == hashlib.md5(b"hello world").hexdigest() and row.size == 11
    assert service.read_all(service.get_object(service.container("AUTH_p", "box"), "a")) == b"hello world"
    assert len(blobs(service)) == 1 and not any(name.endswith(".tmp") for name in blobs(service))
    put(service, "a", [b"x"])  # an overwrite leaves one blob, the new one
    assert len(blobs(service)) == 1 and service.container("AUTH_p", "box").bytes_used == 1


def test_small_put_refusals_store_nothing(service):
    with pytest.raises(errors.Unprocessable):
        put(service, "a", [b"data"], etag="0" * 32)
    with pytest.raises(ImageSizeMismatch):
        put(service, "a", [b"data"], size=10)  # the client sent less than it said
    with pytest.raises(ImageSizeMismatch):
        put(service, "a", [b"data", b"more"], size=4)
    service.update_container("AUTH_p", "box", {"x-container-meta-quota-bytes": "5"}, {})
    put(service, "fits", [b"12345"])
    with pytest.raises(errors.EntityTooLarge):
        put(service, "b", [b"1"])  # quota checked in the index transaction: the blob went again
    service.update_container("AUTH_p", "box", {"x-container-meta-quota-bytes": None,
                                               "x-container-meta-quota-count": "1"}, {})
    with pytest.raises(errors.EntityTooLarge):
        put(service, "c", [b"1"])
    assert [row.name for row in service.list_objects(service.container("AUTH_p", "box"), Listing())] == ["fits"]
    assert len(blobs(service)) == 1
    box = service.container("AUTH_p", "box")
    assert (box.object_count, box.bytes_used) == (1, 5)


def test_small_put_into_a_deleted_container_is_404_and_leaves_no_blob(service):
    box = service.container("AUTH_p", "box")
    service.delete_container("AUTH_p", "box")

    async def chunks():
        yield b"late"

    with pytest.raises(errors.SwiftNotFound):
        asyncio.run(service.put_object(box, "a", chunks(), 4, {"content_type": "text/plain", "meta": {}}))
    assert blobs(service) == []


def test_a_body_over_the_small_size_takes_the_streaming_path(service):
    data = bytes(range(256)) * (SMALL_BODY // 256 + 1)
    row = put(service, "big", [data[:1000], data[1000:]])
    assert row.size == len(data) and row.etag == hashlib.md5(data).hexdigest()


def _expected(names: list[str], listing: Listing) -> list[str]:
    """The page Swift's definition gives, by walking every name."""
    ordered = sorted(names, key=lambda n: n.encode(), reverse=listing.reverse)
    out: list[str] = []
    for name in ordered:
        if listing.prefix and not name.startswith(listing.prefix):
            continue
        if listing.marker and (name <= listing.marker if not listing.reverse else name >= listing.marker):
            continue
        if listing.end_marker and (name >= listing.end_marker if not listing.reverse else name <= listing.end_marker):
            continue
        rest = name[len(listing.prefix):]
        if listing.delimiter and listing.delimiter in rest:
            name = listing.prefix + rest[:rest.index(listing.delimiter) + len(listing.delimiter)]
            if (out and out[-1] == name) or (listing.marker and name == listing.marker):
                continue
        out.append(name)
    return out[:listing.limit]


def test_delimiter_pages_match_a_walk_of_every_name(service):
    names = [f"d{i}/o{j}" for i in range(6) for j in range(i * 7)] + [f"d{i}/s/x{j}" for i in (1, 3) for j in range(5)]
    names += ["top", "d2", "d4-file", "z/", "z/a"]
    for name in names:
        put(service, name, [b"."])
    box = service.container("AUTH_p", "box")
    for limit, prefix, marker, end, reverse in itertools.product(
            (1, 3, 10000), ("", "d3/", "d1/s"), ("", "d2/", "d4"), ("", "d5"), (False, True)):
        listing = Listing(limit=limit, prefix=prefix, marker=marker, end_marker=end, reverse=reverse, delimiter="/")
        page = [item if isinstance(item, str) else item.name for item in service.list_objects(box, listing)]
        assert page == _expected(names, listing), listing


def test_expired_objects_leave_listings_and_counters(service):
    put(service, "gone", [b"abc"], delete_at=int(time.time()) - 1)
    put(service, "kept", [b"de"])
    box = service.container("AUTH_p", "box")
    assert [row.name for row in service.list_objects(box, Listing())] == ["kept"]
    box = service.container("AUTH_p", "box")
    assert (box.object_count, box.bytes_used) == (1, 2) and len(blobs(service)) == 1


def test_sweep_alone_moves_the_counters_a_head_shows(service):
    put(service, "gone", [b"abc"], delete_at=int(time.time()) - 1)
    put(service, "kept", [b"de"])
    assert service.container("AUTH_p", "box").object_count == 2  # not swept yet
    service.sweep(service.container("AUTH_p", "box"))
    box = service.container("AUTH_p", "box")
    assert (box.object_count, box.bytes_used) == (1, 2) and len(blobs(service)) == 1
