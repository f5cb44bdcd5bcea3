"""Form POST: multipart bodies built as a browser sends them, signed with the key that
`swift post -m Temp-URL-Key:...` set (account) or a container's key; no token."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time
import uuid
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from conftest import random_name
from swiftcli import swift, token


@pytest.fixture(scope="module")
def store(admin):
    return admin.object_store.get_endpoint()


@pytest.fixture
def box(cloud, admin, store):
    """A container and the account key ``form-key`` (set with the CLI); all removed after."""
    name = random_name("form")
    swift(cloud, "post", name)
    swift(cloud, "post", "-m", "Temp-URL-Key:form-key")
    yield name
    swift(cloud, "post", "-m", "Temp-URL-Key:")
    url = f"{store}/{name}"
    for item in httpx.get(f"{url}?format=json", headers=token(admin)).json():
        httpx.delete(f"{url}/{item['name']}", headers=token(admin))
    httpx.delete(url, headers=token(admin))


def form(url: str, files: list[tuple[str, bytes, str]], key: str = "form-key", redirect: str = "",
         max_file_size: int = 1024, max_file_count: int = 10, expires: int | None = None, digest: str = "sha1",
         encoding: str = "hex", extra: dict | None = None, signed_path: str | None = None) -> httpx.Response:
    """POST a multipart/form-data body to ``url`` as a browser's form would (fields first)."""
    expires = expires if expires is not None else int(time.time()) + 300
    path = signed_path or urlparse(url).path[urlparse(url).path.index("/v1/"):]
    body = f"{path}\n{redirect}\n{max_file_size}\n{max_file_count}\n{expires}".encode()
    mac = hmac.new(key.encode(), body, getattr(hashlib, digest))
    signature = mac.hexdigest() if encoding == "hex" else f"{digest}:{base64.b64encode(mac.digest()).decode()}"
    fields = {"redirect": redirect, "max_file_size": str(max_file_size), "max_file_count": str(max_file_count),
              "expires": str(expires), "signature": signature, **(extra or {})}
    boundary = "----WebKitFormBoundary" + uuid.uuid4().hex[:16]
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
             for k, v in fields.items()]
    for index, (filename, data, content_type) in enumerate(files):
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file{index}"; filename="{filename}"\r\n'
                     f"Content-Type: {content_type}\r\n\r\n".encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    content_type = f"multipart/form-data; boundary={boundary}"
    return httpx.post(url, content=b"".join(parts), headers={"Content-Type": content_type})


def test_form_post_stores_files_under_the_prefix(admin, store, box):
    info = httpx.get(store.split("/v1/")[0] + "/info").json()["formpost"]
    assert info == {"allowed_digests": ["sha1", "sha256", "sha512"], "deprecated_digests": ["sha1"]}
    large = os.urandom(3 * 1024 * 1024 + 7)  # arrives in many chunks, the boundary split across some
    got = form(f"{store}/{box}/uploads/", [("a.txt", b"first file", "text/plain"),
                                          ("b.bin", b"\r\n--not a boundary\r\n" * 50, "application/x-thing"),
                                          ("large", large, "application/octet-stream")], max_file_size=len(large))
    assert got.status_code == 201 and got.text == "201 Created"
    assert httpx.get(f"{store}/{box}/uploads/large", headers=token(admin)).content == large
    a = httpx.get(f"{store}/{box}/uploads/a.txt", headers=token(admin))
    assert a.content == b"first file" and a.headers["content-type"] == "text/plain"
    b = httpx.get(f"{store}/{box}/uploads/b.bin", headers=token(admin))
    assert b.content == b"\r\n--not a boundary\r\n" * 50 and b.headers["content-type"] == "application/x-thing"
    # to the container itself, with a redirect and an expiry for the file
    got = form(f"{store}/{box}", [("c.txt", b"c", "text/plain")], redirect="https://example.com/done?x=1",
               extra={"x_delete_after": "600", "content-type": "text/x-forced"})
    assert got.status_code == 303
    location = urlparse(got.headers["location"])
    assert location.netloc == "example.com" and parse_qs(location.query) == {"x": ["1"], "status": ["201"]}
    c = httpx.head(f"{store}/{box}/c.txt", headers=token(admin))
    assert c.status_code == 200 and int(c.headers["x-delete-at"]) > time.time() + 500
    assert c.headers["content-type"] == "text/x-forced"  # the form's content-type field wins


def test_form_post_sha256_sha512_base64_container_key_and_mount_path(cloud, admin, store, box):
    for digest, encoding in (("sha256", "hex"), ("sha512", "base64"), ("sha256", "base64")):
        got = form(f"{store}/{box}/", [(f"{digest}-{encoding}", b"x", "text/plain")], digest=digest, encoding=encoding)
        assert got.status_code == 201, got.text
    swift(cloud, "post", "-m", "Temp-URL-Key:box-key", box)
    assert form(f"{store}/{box}/", [("by-box-key", b"x", "text/plain")], key="box-key").status_code == 201
    mounted = form(f"{store}/{box}/", [("mounted", b"x", "text/plain")], signed_path=urlparse(f"{store}/{box}/").path)
    assert mounted.status_code == 201  # signed with the mount in front (/swift/v1/...), as the storage URL shows it
    names = {item["name"] for item in httpx.get(f"{store}/{box}?format=json", headers=token(admin)).json()}
    assert names == {"sha256-hex", "sha512-base64", "sha256-base64", "by-box-key", "mounted"}


def test_form_post_refusals(admin, store, box):
    url = f"{store}/{box}/p/"
    bad = form(url, [("f", b"x", "text/plain")], key="wrong-key")
    assert bad.status_code == 401 and "FormPost: Invalid Signature" in bad.text
    old = form(url, [("f", b"x", "text/plain")], expires=int(time.time()) - 1)
    assert old.status_code == 401 and "FormPost: Form Expired" in old.text
    # with a redirect, signature errors are still a 401
    assert form(url, [("f", b"x", "text/plain")], key="wrong-key", redirect="https://example.com/").status_code == 401
    big = form(url, [("big", b"x" * 2000, "text/plain")], max_file_size=1000)
    assert big.status_code == 400 and big.text == "FormPost: max_file_size exceeded"
    many = form(url, [("one", b"1", "text/plain"), ("two", b"2", "text/plain")], max_file_count=1)
    assert many.status_code == 400 and many.text == "400 Bad Request\r\nFormPost: Max File Count Exceeded"
    redirected = form(url, [("uno", b"1", "text/plain"), ("dos", b"2", "text/plain")], max_file_count=1,
                      redirect="https://example.com/back")
    assert redirected.status_code == 303
    assert redirected.headers["location"] == "https://example.com/back?status=400&message=max%20file%20count%20exceeded"
    none = form(url, [])
    assert none.status_code == 400 and none.text == "400 Bad Request\r\nFormPost: No Files To Process"
    garbled = httpx.post(url, content=b"not multipart at all",
                         headers={"Content-Type": "multipart/form-data; boundary=x"})
    assert garbled.status_code == 400 and garbled.text.startswith("FormPost:")
    names = {item["name"] for item in httpx.get(f"{store}/{box}?format=json", headers=token(admin)).json()}
    assert names == {"p/one", "p/uno"}  # the second file of each over-count form, and the big one, are not stored
    # the upload's own failure: no such container
    lost = form(f"{store}/{box}-missing/", [("f", b"x", "text/plain")])
    assert lost.status_code == 404 and "Not Found" in lost.text
    bad_expiry = form(url, [("f", b"x", "text/plain")], extra={"x_delete_at": "soon"})
    assert bad_expiry.status_code == 400
    assert bad_expiry.text == "FormPost: x_delete_at not an integer: Unix timestamp required."
    # a plain POST (not a form) still needs a token
    assert httpx.post(f"{store}/{box}", headers={"X-Container-Meta-A": "b"}).status_code == 401
