"""Symlinks: made with `swift upload -H X-Symlink-Target`, followed by `swift download`, GET
and HEAD; static links, listings, POST, copies, loops and links that point nowhere."""

from __future__ import annotations

import hashlib

import httpx
import pytest

from conftest import random_name
from swiftcli import swift, token


@pytest.fixture(scope="module")
def store(admin):
    return admin.object_store.get_endpoint()


@pytest.fixture
def box(admin, store):
    """A container with ``doc.txt``; removed with everything in it after the test."""
    name = random_name("sym")
    url = f"{store}/{name}"
    httpx.put(url, headers=token(admin)).raise_for_status()
    httpx.put(f"{url}/doc.txt", content=b"the target", headers={**token(admin), "Content-Type": "text/plain"}
              ).raise_for_status()
    yield name
    for item in httpx.get(f"{url}?format=json", headers=token(admin)).json():
        httpx.delete(f"{url}/{item['name']}", headers=token(admin))
    httpx.delete(url, headers=token(admin))


def link(admin, store, box, name, target, **headers):
    return httpx.put(f"{store}/{box}/{name}", content=b"",
                     headers={**token(admin), "X-Symlink-Target": target, **headers})


def test_symlink_from_swift_upload_followed_by_swift_download(cloud, admin, store, box, tmp_path):
    assert httpx.get(store.split("/v1/")[0] + "/info").json()["symlink"] == {"symloop_max": 2, "static_links": True}
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    swift(cloud, "upload", box, str(empty), "--object-name", "link.txt", "-H", f"X-Symlink-Target: {box}/doc.txt")
    swift(cloud, "download", box, "link.txt", "-o", str(tmp_path / "got"))
    assert (tmp_path / "got").read_bytes() == b"the target"
    got = httpx.get(f"{store}/{box}/link.txt", headers=token(admin))
    assert got.content == b"the target" and got.headers["content-type"] == "text/plain"
    assert admin.object_store.download_object("link.txt", container=box) == b"the target"  # openstacksdk
    assert got.headers["content-location"] == f"/v1/{store.rsplit('/', 1)[1]}/{box}/doc.txt"
    own = httpx.head(f"{store}/{box}/link.txt?symlink=get", headers=token(admin))
    assert own.status_code == 200 and own.headers["content-length"] == "0"
    assert own.headers["x-symlink-target"] == f"{box}/doc.txt"
    assert "x-symlink-target-account" not in own.headers  # kept only when given, as Swift 2.38 does
    assert own.headers["content-type"] == "application/symlink"  # the default for links
    listing = {item["name"]: item for item in httpx.get(f"{store}/{box}?format=json", headers=token(admin)).json()}
    assert listing["link.txt"]["symlink_path"] == f"/v1/{store.rsplit('/', 1)[1]}/{box}/doc.txt"
    assert listing["link.txt"]["bytes"] == 0 and "symlink_path" not in listing["doc.txt"]
    assert "symlink_path" not in httpx.get(f"{store}/{box}?format=xml", headers=token(admin)).text
    # the target changes, the link follows; the target goes, the link is a 404
    httpx.put(f"{store}/{box}/doc.txt", content=b"changed", headers=token(admin)).raise_for_status()
    assert httpx.get(f"{store}/{box}/link.txt", headers=token(admin)).content == b"changed"
    httpx.delete(f"{store}/{box}/doc.txt", headers=token(admin)).raise_for_status()
    assert httpx.get(f"{store}/{box}/link.txt", headers=token(admin)).status_code == 404
    # deleting the link deletes the link only
    assert httpx.delete(f"{store}/{box}/link.txt", headers=token(admin)).status_code == 204


def test_symlink_across_containers_and_to_nothing(admin, store, box):
    other = random_name("sym-other")
    httpx.put(f"{store}/{other}", headers=token(admin)).raise_for_status()
    try:
        assert link(admin, store, other, "far", f"{box}/doc.txt").status_code == 201
        assert httpx.get(f"{store}/{other}/far", headers=token(admin)).content == b"the target"
        assert link(admin, store, other, "nowhere", f"{box}/missing").status_code == 201  # may point nowhere
        missing = httpx.get(f"{store}/{other}/nowhere", headers=token(admin))
        assert missing.status_code == 404 and missing.headers["content-location"].endswith(f"/{box}/missing")
    finally:
        for name in ("far", "nowhere"):
            httpx.delete(f"{store}/{other}/{name}", headers=token(admin))
        httpx.delete(f"{store}/{other}", headers=token(admin))


def test_static_symlink_checks_the_etag(admin, store, box):
    etag = hashlib.md5(b"the target").hexdigest()
    assert link(admin, store, box, "static", f"{box}/doc.txt", **{"X-Symlink-Target-Etag": etag}).status_code == 201
    own = httpx.head(f"{store}/{box}/static?symlink=get", headers=token(admin))
    assert own.headers["x-symlink-target-etag"] == etag and own.headers["x-symlink-target-bytes"] == "10"
    assert own.headers["content-type"] == "text/plain"  # the target's, when none is given
    item = [i for i in httpx.get(f"{store}/{box}?format=json", headers=token(admin)).json() if i["name"] == "static"]
    assert item[0]["symlink_etag"] == etag and item[0]["symlink_bytes"] == 10
    assert httpx.get(f"{store}/{box}/static", headers=token(admin)).content == b"the target"
    wrong = link(admin, store, box, "bad", f"{box}/doc.txt", **{"X-Symlink-Target-Etag": "0" * 32})
    assert wrong.status_code == 409 and "does not match X-Symlink-Target-Etag" in wrong.text
    absent = link(admin, store, box, "bad", f"{box}/missing", **{"X-Symlink-Target-Etag": etag})
    assert absent.status_code == 409 and "X-Symlink-Target does not exist" in absent.text
    # static links go through static links, not through dynamic ones
    assert link(admin, store, box, "static2", f"{box}/static", **{"X-Symlink-Target-Etag": etag}).status_code == 201
    assert httpx.get(f"{store}/{box}/static2", headers=token(admin)).content == b"the target"
    mismatch = link(admin, store, box, "bad", f"{box}/static", **{"X-Symlink-Target-Etag": "1" * 32})
    assert mismatch.status_code == 409 and "X-Symlink-Target-Etag headers do not match" in mismatch.text
    assert link(admin, store, box, "soft", f"{box}/doc.txt").status_code == 201
    assert link(admin, store, box, "bad", f"{box}/soft", **{"X-Symlink-Target-Etag": etag}).status_code == 409
    assert link(admin, store, box, "bad", f"{box}/doc.txt", **{"X-Symlink-Target-Etag": 'a"b'}).status_code == 400
    posted = httpx.post(f"{store}/{box}/static", headers=token(admin))
    assert posted.status_code == 307 and posted.headers["x-symlink-target-etag"] == etag
    # the target changes: the static link no longer leads there
    httpx.put(f"{store}/{box}/doc.txt", content=b"other bytes", headers=token(admin)).raise_for_status()
    assert httpx.get(f"{store}/{box}/static", headers=token(admin)).status_code == 409


def test_symlink_bad_input_loops_post_and_copy(cloud, admin, store, box):
    assert httpx.put(f"{store}/{box}/l", content=b"data", headers={**token(admin), "X-Symlink-Target": f"{box}/doc.txt"}
                     ).status_code == 400  # a link has no body

    def chunks(data):  # a generator body: httpx sends it chunked
        yield data

    chunked = httpx.put(f"{store}/{box}/l", content=chunks(b"data"),
                        headers={**token(admin), "X-Symlink-Target": f"{box}/doc.txt"})
    assert chunked.status_code == 400
    empty = httpx.put(f"{store}/{box}/chunked-link", content=chunks(b""),
                      headers={**token(admin), "X-Symlink-Target": f"{box}/doc.txt"})
    assert empty.status_code == 201
    assert httpx.get(f"{store}/{box}/chunked-link", headers=token(admin)).content == b"the target"
    assert link(admin, store, box, "l", "no-slash").status_code == 412
    assert link(admin, store, box, "l", f"/{box}/doc.txt").status_code == 412
    assert link(admin, store, box, "l", f"{box}/l").status_code == 400  # itself
    # a -> b -> c -> doc.txt is three hops: one past the limit of two
    assert link(admin, store, box, "c", f"{box}/doc.txt").status_code == 201
    assert link(admin, store, box, "b", f"{box}/c").status_code == 201
    assert httpx.get(f"{store}/{box}/b", headers=token(admin)).content == b"the target"
    assert link(admin, store, box, "a", f"{box}/b").status_code == 201
    loop = httpx.get(f"{store}/{box}/a", headers=token(admin))
    assert loop.status_code == 409 and "Too many levels of symbolic links" in loop.text
    assert link(admin, store, box, "x", f"{box}/y").status_code == 201
    assert link(admin, store, box, "y", f"{box}/x").status_code == 201
    assert httpx.get(f"{store}/{box}/x", headers=token(admin)).status_code == 409
    # POST: metadata lands on the link, the answer points at the target
    posted = httpx.post(f"{store}/{box}/c", headers={**token(admin), "X-Object-Meta-Color": "red"})
    assert posted.status_code == 307 and posted.headers["location"].endswith(f"/{box}/doc.txt")
    own = httpx.head(f"{store}/{box}/c?symlink=get", headers=token(admin))
    assert own.headers["x-object-meta-color"] == "red" and own.headers["x-symlink-target"] == f"{box}/doc.txt"
    assert httpx.post(f"{store}/{box}/doc.txt", headers={**token(admin), "X-Symlink-Target": f"{box}/c"}
                      ).status_code == 400
    # copies take the target's bytes, or with ?symlink=get the link itself
    swift(cloud, "copy", box, "c", "--destination", f"/{box}/copied")
    copied = httpx.head(f"{store}/{box}/copied?symlink=get", headers=token(admin))
    assert copied.headers["content-length"] == "10" and "x-symlink-target" not in copied.headers
    relinked = httpx.request("COPY", f"{store}/{box}/c?symlink=get",
                             headers={**token(admin), "Destination": f"{box}/relinked"})
    assert relinked.status_code == 201
    assert httpx.head(f"{store}/{box}/relinked?symlink=get", headers=token(admin)).headers["x-symlink-target"]


def test_symlink_follows_with_the_callers_access(admin, demo, store, box):
    private = random_name("sym-private")
    public = random_name("sym-public")
    for name, read in ((private, None), (public, ".r:*")):
        httpx.put(f"{store}/{name}", headers={**token(admin), **({"X-Container-Read": read} if read else {})}
                  ).raise_for_status()
    try:
        httpx.put(f"{store}/{private}/secret", content=b"secret", headers=token(admin)).raise_for_status()
        assert link(admin, store, public, "peek", f"{private}/secret").status_code == 201
        assert httpx.get(f"{store}/{public}/peek", headers=token(admin)).content == b"secret"
        assert httpx.get(f"{store}/{public}/peek").status_code == 401  # anonymous: the target is not public
        assert httpx.get(f"{store}/{public}/peek", headers=token(demo)).status_code == 403
    finally:
        for path in (f"{private}/secret", f"{public}/peek", private, public):
            httpx.delete(f"{store}/{path}", headers=token(admin))
