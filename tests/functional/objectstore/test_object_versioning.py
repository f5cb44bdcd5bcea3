"""Object versioning, Swift's newer API (X-Versions-Enabled, ?versions, ?version-id), with
the swift CLI where it has a verb and plain HTTP for the rest."""

from __future__ import annotations

import json

import httpx
import pytest

from conftest import random_name
from swiftcli import swift, token

MARKER = "application/x-deleted;swift_versions_deleted=1"


@pytest.fixture(scope="module")
def store(admin):
    return admin.object_store.get_endpoint()


@pytest.fixture
def box(admin, store):
    """A container name; every version in it and the container are removed after."""
    name = random_name("ov")
    yield name
    headers = token(admin)
    url = f"{store}/{name}"
    for item in versions(admin, url):
        if "name" in item:
            httpx.delete(f"{url}/{item['name']}?version-id={item['version_id']}", headers=headers)
    httpx.delete(url, headers=headers)


def versions(admin, url: str, **params) -> list[dict]:
    answer = httpx.get(url, params={"versions": "", "format": "json", **params}, headers=token(admin))
    return answer.json() if answer.status_code == 200 else []


def put(url: str, body: bytes, headers: dict) -> str:
    answer = httpx.put(url, content=body, headers=headers)
    assert answer.status_code == 201, answer.text
    return answer.headers.get("x-object-version-id")


def test_swift_cli_keeps_lists_downloads_and_deletes_versions(cloud, admin, store, box, tmp_path):
    swift(cloud, "post", "-H", "X-Versions-Enabled: true", box)
    head = httpx.head(f"{store}/{box}", headers=token(admin)).headers
    assert head["x-versions-enabled"] == "True"
    assert not any(key.startswith("x-container-sysmeta") for key in head)
    for body in (b"one", b"two!", b"three"):
        (tmp_path / "obj").write_bytes(body)
        swift(cloud, "upload", "--object-name", "obj", box, "obj", cwd=tmp_path)
    assert swift(cloud, "list", box).split() == ["obj"]
    lines = swift(cloud, "list", "--versions", box).splitlines()
    assert len(lines) == 3 and all(line.split()[-1] == "obj" for line in lines)
    ids = [line.split()[3] for line in lines]
    assert ids == sorted(ids, reverse=True) and "null" not in ids  # newest first
    oldest = ids[-1]
    swift(cloud, "download", "--version-id", oldest, "-o", str(tmp_path / "old"), box, "obj")
    assert (tmp_path / "old").read_bytes() == b"one"
    assert f"X-Object-Version-Id: {ids[0]}" in swift(cloud, "stat", box, "obj")
    assert "Content Length: 3" in swift(cloud, "stat", "--version-id", oldest, box, "obj")
    swift(cloud, "delete", "--version-id", ids[1], box, "obj")
    assert [item["version_id"] for item in versions(admin, f"{store}/{box}")] == [ids[0], oldest]
    swift(cloud, "delete", box, "obj")  # a delete marker on top
    assert httpx.get(f"{store}/{box}/obj", headers=token(admin)).status_code == 404
    listed = versions(admin, f"{store}/{box}")
    assert [(item["content_type"] == MARKER, item["is_latest"]) for item in listed] == [
        (True, True), (False, False), (False, False)]
    assert swift(cloud, "list", box).split() == []
    swift(cloud, "post", "-H", "X-Versions-Enabled: false", box)
    swift(cloud, "delete", "--versions", box)
    assert httpx.head(f"{store}/{box}", headers=token(admin)).status_code == 404


def test_version_headers_reads_and_restores(admin, store, box):
    headers = token(admin)
    url = f"{store}/{box}/doc"
    httpx.put(f"{store}/{box}", headers=headers).raise_for_status()
    put(url, b"before", headers)  # written while versioning is off: the null version
    assert "x-object-version-id" not in httpx.head(url, headers=headers).headers
    httpx.post(f"{store}/{box}", headers={**headers, "X-Versions-Enabled": "true"}).raise_for_status()
    assert httpx.head(url, headers=headers).headers["x-object-version-id"] == "null"
    first = put(url, b"first", {**headers, "X-Object-Meta-Color": "red"})
    second = put(url, b"second", headers)
    assert first and second and float(second) > float(first)
    got = httpx.get(url, headers=headers)
    assert (got.content, got.headers["x-object-version-id"]) == (b"second", second)
    assert got.headers["content-location"].endswith(f"/{box}/doc?version-id={second}")
    old = httpx.get(url, params={"version-id": first}, headers=headers)
    assert (old.content, old.headers["x-object-version-id"], old.headers["x-object-meta-color"]) == (
        b"first", first, "red")
    # the null version was moved aside under its own time, as Swift does
    listed = versions(admin, f"{store}/{box}")
    assert [item["version_id"] for item in listed][:2] == [second, first] and len(listed) == 3
    assert [item["is_latest"] for item in listed] == [True, False, False]
    assert httpx.get(url, params={"version-id": "null"}, headers=headers).status_code == 404
    # POST changes the current version's metadata and makes no version
    assert httpx.post(url, headers={**headers, "X-Object-Meta-Size": "big"}).status_code == 202
    assert httpx.head(url, headers=headers).headers["x-object-version-id"] == second
    assert len(versions(admin, f"{store}/{box}")) == 3
    # PUT ?version-id brings back an older version
    restored = httpx.put(url, params={"version-id": first}, headers=headers)
    assert restored.status_code == 201 and restored.headers["x-object-version-id"] == first
    assert httpx.get(url, headers=headers).content == b"first"
    listed = versions(admin, f"{store}/{box}")
    assert [(item["version_id"], item["is_latest"]) for item in listed][:2] == [(second, False), (first, True)]
    assert httpx.put(url, params={"version-id": second}, content=b"x", headers=headers).status_code == 400
    assert httpx.put(url, params={"version-id": "1.0"}, headers=headers).status_code == 404
    # deleting the current version for good leaves no current object and writes no marker
    gone = httpx.delete(url, params={"version-id": first}, headers=headers)
    assert gone.status_code == 204
    assert (gone.headers["x-object-version-id"], gone.headers["x-object-current-version-id"]) == (first, "null")
    assert httpx.get(url, headers=headers).status_code == 404
    assert all(item["content_type"] != MARKER for item in versions(admin, f"{store}/{box}"))
    assert httpx.get(url, params={"version-id": second}, headers=headers).content == b"second"
    # COPY ?version-id copies that version (a new version of the destination)
    copied = httpx.request("COPY", url, params={"version-id": second},
                           headers={**headers, "Destination": f"{box}/copy"})
    assert copied.status_code == 201 and copied.headers["x-object-version-id"] not in (first, second)
    assert httpx.get(f"{store}/{box}/copy", headers=headers).content == b"second"


def test_delete_markers_and_version_id_errors(admin, store, box):
    headers = token(admin)
    httpx.put(f"{store}/{box}", headers={**headers, "X-Versions-Enabled": "true"}).raise_for_status()
    url = f"{store}/{box}/thing"
    kept = put(url, b"data", headers)
    deleted = httpx.delete(url, headers=headers)
    assert deleted.status_code == 204
    marker = deleted.headers["x-object-version-id"]
    assert float(marker) > float(kept)
    missing = httpx.get(url, params={"version-id": marker}, headers=headers)
    assert missing.status_code == 404 and missing.headers["x-object-version-id"] == marker
    # a DELETE with nothing there still writes a marker, and answers 404
    again = httpx.delete(url, headers=headers)
    assert again.status_code == 404 and float(again.headers["x-object-version-id"]) > float(marker)
    assert httpx.get(url, params={"version-id": kept}, headers=headers).content == b"data"
    assert httpx.get(url, params={"version-id": "nope"}, headers=headers).status_code == 400
    assert httpx.post(url, params={"version-id": kept}, headers=headers).status_code == 400
    plain = httpx.get(f"{store}/{box}", params={"versions": "", "format": "plain"}, headers=headers)
    assert plain.status_code == 406
    assert httpx.get(f"{store}/{box}", params={"versions": "", "version_marker": kept},
                     headers={**headers, "Accept": "application/json"}).status_code == 400
    # the container goes only once every version is gone
    assert httpx.delete(f"{store}/{box}", headers=headers).status_code == 409
    plain_box = random_name("plain")
    httpx.put(f"{store}/{plain_box}", headers=headers).raise_for_status()
    try:
        put(f"{store}/{plain_box}/o", b"x", headers)
        answer = httpx.get(f"{store}/{plain_box}/o", params={"version-id": kept}, headers=headers)
        assert answer.status_code == 400  # the container was never versioned
        assert httpx.get(f"{store}/{plain_box}/o", params={"version-id": "null"}, headers=headers).content == b"x"
    finally:
        httpx.delete(f"{store}/{plain_box}/o", headers=headers)
        httpx.delete(f"{store}/{plain_box}", headers=headers)


def test_listing_pages_prefixes_and_counts(admin, store, box):
    headers = token(admin)
    httpx.put(f"{store}/{box}", headers={**headers, "X-Versions-Enabled": "true"}).raise_for_status()
    ids = {}
    for name in ("a", "b", "dir/c"):
        ids[name] = [put(f"{store}/{box}/{name}", body, headers) for body in (b"1", b"22", b"333")]
    whole = versions(admin, f"{store}/{box}")
    assert [(item["name"], item["version_id"]) for item in whole] == [
        (name, version) for name in ("a", "b", "dir/c") for version in reversed(ids[name])]
    pages, marker, version_marker = [], None, None
    while True:
        params = {"limit": "2", **({"marker": marker, "version_marker": version_marker} if marker else {})}
        page = versions(admin, f"{store}/{box}", **params)
        if not page:
            break
        pages += page
        marker, version_marker = page[-1]["name"], page[-1]["version_id"]
    assert pages == whole
    assert [item.get("subdir", item.get("name")) for item in versions(admin, f"{store}/{box}", delimiter="/")] == [
        "a", "a", "a", "b", "b", "b", "dir/"]
    assert {item["name"] for item in versions(admin, f"{store}/{box}", prefix="dir/")} == {"dir/c"}
    head = httpx.head(f"{store}/{box}", headers=headers).headers
    assert head["x-container-object-count"] == "3" and head["x-container-bytes-used"] == str(3 * 6)
    account = httpx.get(store, params={"format": "json"}, headers=headers).json()
    assert [item["name"] for item in account if box in item["name"] or item["name"].startswith("/")] == [box]


def test_disabled_versioning_and_legacy_conflicts(admin, store, box):
    headers = token(admin)
    httpx.put(f"{store}/{box}", headers={**headers, "X-Versions-Enabled": "true"}).raise_for_status()
    url = f"{store}/{box}/o"
    kept = put(url, b"v1", headers)
    httpx.post(f"{store}/{box}", headers={**headers, "X-Versions-Enabled": "false"}).raise_for_status()
    assert httpx.head(f"{store}/{box}", headers=headers).headers["x-versions-enabled"] == "False"
    assert put(url, b"v2", headers) is None  # a null version; v1 stays as a version
    assert put(url, b"v3", headers) is None  # replaces the null version
    listed = versions(admin, f"{store}/{box}")
    assert [(item["version_id"], item["is_latest"]) for item in listed] == [("null", True), (kept, False)]
    assert httpx.delete(url, headers=headers).status_code == 204  # no marker while disabled
    assert [item["version_id"] for item in versions(admin, f"{store}/{box}")] == [kept]
    legacy = httpx.post(f"{store}/{box}", headers={**headers, "X-Versions-Location": "elsewhere"})
    assert legacy.status_code == 400
    other = random_name("legacy")
    httpx.put(f"{store}/{other}", headers={**headers, "X-History-Location": "elsewhere"}).raise_for_status()
    try:
        assert httpx.post(f"{store}/{other}", headers={**headers, "X-Versions-Enabled": "true"}).status_code == 400
    finally:
        httpx.delete(f"{store}/{other}", headers=headers)
    info = httpx.get(store.split("/v1/")[0] + "/info").json()
    assert info["object_versioning"] == {} and json.dumps(info)
