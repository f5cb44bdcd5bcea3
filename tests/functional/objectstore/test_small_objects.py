"""The fast paths for small objects over HTTP: a small upload cut short stores nothing, a
small GET comes whole (and with conditions and ranges as before), public objects read
without a token, HEADs count after expiry, and paging a delimiter listing by its last
subdir moves on."""

from __future__ import annotations

import hashlib
import socket
import time

import httpx
import pytest

from conftest import random_name


@pytest.fixture(scope="module")
def store(admin):
    return admin.object_store.get_endpoint()


@pytest.fixture
def box(admin, store):
    """A new container, emptied and removed after the test."""
    url = f"{store}/{random_name('small')}"
    auth = {"X-Auth-Token": admin.auth_token}
    httpx.put(url, headers=auth).raise_for_status()
    yield url, auth
    for name in httpx.get(url, headers=auth).text.split():
        httpx.delete(f"{url}/{name}", headers=auth)
    httpx.delete(url, headers=auth)


def test_a_small_upload_cut_short_stores_nothing(cloud, box):
    url, auth = box
    blobs = cloud.data_dir / "objects"
    before = sorted(p.name for p in blobs.iterdir())
    path = url.split(f":{cloud.port}", 1)[1] + "/partial"
    with socket.create_connection(("127.0.0.1", cloud.port)) as sock:
        sock.sendall(f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Auth-Token: {auth['X-Auth-Token']}\r\n"
                     f"Content-Length: 4096\r\n\r\n".encode() + b"x" * 1000)
        time.sleep(0.2)
    time.sleep(0.5)
    assert httpx.get(f"{url}/partial", headers=auth).status_code == 404
    assert sorted(p.name for p in blobs.iterdir()) == before


def test_small_get_whole_ranged_conditional_and_public(box):
    url, auth = box
    data = bytes(range(256)) * 16
    etag = hashlib.md5(data).hexdigest()
    created = httpx.put(f"{url}/o", content=data, headers=auth)
    assert created.status_code == 201 and created.headers["etag"] == etag
    got = httpx.get(f"{url}/o", headers=auth)
    assert got.content == data and got.headers["content-length"] == "4096"
    head = httpx.head(f"{url}/o", headers=auth)
    assert head.status_code == 200 and head.headers["content-length"] == "4096" and head.content == b""
    assert httpx.get(f"{url}/o", headers={**auth, "Range": "bytes=10-19"}).content == data[10:20]
    assert httpx.get(f"{url}/o", headers={**auth, "If-None-Match": etag}).status_code == 304
    assert httpx.get(f"{url}/o").status_code == 401  # private: no token, no object
    httpx.post(url, headers={**auth, "X-Container-Read": ".r:*"}).raise_for_status()
    assert httpx.get(f"{url}/o").content == data
    assert httpx.get(f"{url}/missing").status_code == 404


def test_container_head_counts_after_expiry(box):
    url, auth = box
    httpx.put(f"{url}/gone", content=b"abc", headers={**auth, "X-Delete-After": "1"}).raise_for_status()
    httpx.put(f"{url}/kept", content=b"de", headers=auth).raise_for_status()
    time.sleep(2.1)
    head = httpx.head(url, headers=auth)
    assert head.status_code == 204
    assert (head.headers["x-container-object-count"], head.headers["x-container-bytes-used"]) == ("1", "2")


def test_paging_subdirs_by_the_last_one_moves_on(box):
    url, auth = box
    for name in ("a/1", "a/2", "b/1", "c"):
        httpx.put(f"{url}/{name}", content=b".", headers=auth).raise_for_status()
    first = httpx.get(url, params={"delimiter": "/", "limit": "1", "format": "json"}, headers=auth).json()
    assert first == [{"subdir": "a/"}]
    rest = httpx.get(url, params={"delimiter": "/", "marker": "a/", "format": "json"}, headers=auth).json()
    assert [item.get("subdir") or item["name"] for item in rest] == ["b/", "c"]
