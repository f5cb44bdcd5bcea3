"""Legacy object versioning (X-Versions-Location / X-History-Location), set with the swift
CLI and plain HTTP."""

from __future__ import annotations

import httpx
import pytest

from conftest import random_name
from swiftcli import swift, token

MARKER = "application/x-deleted;swift_versions_deleted=1"


@pytest.fixture(scope="module")
def store(admin):
    return admin.object_store.get_endpoint()


@pytest.fixture
def pair(admin, store):
    """(versioned container name, archive container name), both emptied and removed after."""
    names = random_name("ver"), random_name("arch")
    yield names
    for name in names:
        url = f"{store}/{name}"
        for item in listing(admin, url):
            httpx.delete(f"{url}/{item['name']}", headers=token(admin))
        httpx.post(url, headers={**token(admin), "X-Remove-Versions-Location": "x"})
        httpx.delete(url, headers=token(admin))


def listing(admin, url: str) -> list[dict]:
    answer = httpx.get(f"{url}?format=json", headers=token(admin))
    return answer.json() if answer.status_code == 200 else []


def test_stack_mode_with_swift_cli_keeps_and_pops_versions(cloud, admin, store, pair, tmp_path):
    box, archive = pair
    swift(cloud, "post", archive)
    swift(cloud, "post", "-H", f"X-Versions-Location: {archive}", box)
    assert httpx.head(f"{store}/{box}", headers=token(admin)).headers["x-versions-location"] == archive
    for body in (b"one", b"two!", b"three"):
        (tmp_path / "obj").write_bytes(body)
        swift(cloud, "upload", "--object-name", "obj", box, "obj", cwd=tmp_path)
    names = [item["name"] for item in listing(admin, f"{store}/{archive}")]
    assert len(names) == 2 and all(name.startswith("003obj/") for name in names)
    assert [httpx.get(f"{store}/{archive}/{name}", headers=token(admin)).content for name in names] == [b"one", b"two!"]
    url = f"{store}/{box}/obj"
    assert httpx.get(url, headers=token(admin)).content == b"three"
    swift(cloud, "delete", box, "obj")
    assert httpx.get(url, headers=token(admin)).content == b"two!"
    head = httpx.head(f"{store}/{box}", headers=token(admin)).headers
    assert (head["x-container-object-count"], head["x-container-bytes-used"]) == ("1", "4")
    assert httpx.delete(url, headers=token(admin)).status_code == 204
    assert httpx.get(url, headers=token(admin)).content == b"one"
    assert httpx.delete(url, headers=token(admin)).status_code == 204
    assert httpx.get(url, headers=token(admin)).status_code == 404
    assert httpx.delete(url, headers=token(admin)).status_code == 404
    assert listing(admin, f"{store}/{archive}") == []


def test_history_mode_pushes_with_delete_markers(admin, store, pair):
    box, archive = pair
    headers = token(admin)
    httpx.put(f"{store}/{archive}", headers=headers).raise_for_status()
    httpx.put(f"{store}/{box}", headers={**headers, "X-History-Location": archive}).raise_for_status()
    head = httpx.head(f"{store}/{box}", headers=headers).headers
    assert head["x-history-location"] == archive and "x-versions-location" not in head
    url = f"{store}/{box}/obj"
    httpx.put(url, content=b"v1", headers=headers).raise_for_status()
    httpx.put(url, content=b"v2", headers=headers).raise_for_status()
    assert httpx.post(url, headers={**headers, "X-Object-Meta-A": "b"}).status_code == 202  # no version
    assert httpx.delete(url, headers=headers).status_code == 204
    assert httpx.get(url, headers=headers).status_code == 404
    kept = listing(admin, f"{store}/{archive}")
    assert [item["content_type"] == MARKER for item in kept] == [False, False, True]
    assert httpx.get(f"{store}/{archive}/{kept[1]['name']}", headers=headers).headers["x-object-meta-a"] == "b"
    # in stack mode, a DELETE over a delete marker brings back what came before it
    httpx.post(f"{store}/{box}", headers={**headers, "X-Versions-Location": archive}).raise_for_status()
    head = httpx.head(f"{store}/{box}", headers=headers).headers
    assert head["x-versions-location"] == archive and "x-history-location" not in head
    assert httpx.delete(url, headers=headers).status_code == 204
    assert httpx.get(url, headers=headers).content == b"v2"
    assert [item["name"] for item in listing(admin, f"{store}/{archive}")] == [kept[0]["name"]]


def test_copies_are_versioned_and_the_archive_must_exist(admin, store, pair):
    box, archive = pair
    headers = token(admin)
    httpx.put(f"{store}/{box}", headers={**headers, "X-Versions-Location": archive}).raise_for_status()
    url = f"{store}/{box}/obj"
    assert httpx.put(url, content=b"first", headers=headers).status_code == 201  # nothing to keep yet
    assert httpx.put(url, content=b"second", headers=headers).status_code == 412  # no archive container
    assert httpx.get(url, headers=headers).content == b"first"
    httpx.put(f"{store}/{archive}", headers=headers).raise_for_status()
    httpx.put(f"{store}/{box}/src", content=b"copied", headers=headers).raise_for_status()
    copy = httpx.request("COPY", f"{store}/{box}/src", headers={**headers, "Destination": f"{box}/obj"})
    assert copy.status_code == 201
    assert httpx.get(url, headers=headers).content == b"copied"
    kept = listing(admin, f"{store}/{archive}")
    assert [item["name"].split("/")[0] for item in kept] == ["003obj"]
    assert httpx.get(f"{store}/{archive}/{kept[0]['name']}", headers=headers).content == b"first"


def test_container_flags_as_swift_checks_them(admin, store, pair):
    box, archive = pair
    headers = token(admin)
    both = httpx.put(f"{store}/{box}", headers={**headers, "X-Versions-Location": "a", "X-History-Location": "b"})
    assert both.status_code == 400
    assert httpx.put(f"{store}/{box}", headers={**headers, "X-Versions-Location": "a/b"}).status_code == 412
    httpx.put(f"{store}/{box}", headers={**headers, "X-Versions-Location": archive}).raise_for_status()
    httpx.post(f"{store}/{box}", headers={**headers, "X-Remove-Versions-Location": "x"}).raise_for_status()
    assert "x-versions-location" not in httpx.head(f"{store}/{box}", headers=headers).headers
    httpx.post(f"{store}/{box}", headers={**headers, "X-History-Location": archive}).raise_for_status()
    httpx.post(f"{store}/{box}", headers={**headers, "X-History-Location": ""}).raise_for_status()
    assert "x-history-location" not in httpx.head(f"{store}/{box}", headers=headers).headers
    info = httpx.get(store.split("/v1/")[0] + "/info").json()
    assert info["versioned_writes"] == {"allowed_flags": ["x-versions-location", "x-history-location"]}
