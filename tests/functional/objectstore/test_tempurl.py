"""Temporary URLs: signed with `swift tempurl` and by hand (SHA1/SHA256/SHA512, hex and
base64, ISO 8601 expiry, prefixes, account and container keys), used without a token."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from urllib.parse import quote, urlparse

import httpx
import pytest

from conftest import random_name
from swiftcli import swift, token


@pytest.fixture(scope="module")
def store(admin):
    return admin.object_store.get_endpoint()


@pytest.fixture
def box(admin, store):
    """A container of the admin account with one object, and an account key; all removed after."""
    name = random_name("tmp")
    url = f"{store}/{name}"
    httpx.put(url, headers=token(admin)).raise_for_status()
    httpx.put(f"{url}/doc.txt", content=b"temporary", headers={
        **token(admin), "X-Object-Meta-Secret": "s", "X-Object-Meta-Public-Color": "blue"}).raise_for_status()
    httpx.post(store, headers={**token(admin), "X-Account-Meta-Temp-URL-Key": "account-key"}).raise_for_status()
    yield url
    httpx.post(store, headers={**token(admin), "X-Remove-Account-Meta-Temp-URL-Key": "x",
                               "X-Remove-Account-Meta-Temp-URL-Key-2": "x"})
    for item in httpx.get(f"{url}?format=json", headers=token(admin)).json():
        httpx.delete(f"{url}/{item['name']}", headers=token(admin))
    httpx.delete(url, headers=token(admin))


def sign(url: str, method: str, key: str, expires: int | None = None, digest=hashlib.sha256, prefix: str | None = None,
         mount: bool = False) -> str:
    """``url`` with a temp URL query for ``method``; signs the path from /v1 (or the mount)."""
    expires = expires if expires is not None else int(time.time()) + 300
    path = urlparse(url).path
    signed = path if mount else path[path.index("/v1/"):]
    if prefix is not None:
        head, rest = signed.split("/v1/", 1)
        account, container, _ = rest.split("/", 2)
        signed = f"prefix:{head}/v1/{account}/{container}/{prefix}"
    sig = hmac.new(key.encode(), f"{method}\n{expires}\n{signed}".encode(), digest).hexdigest()
    query = f"temp_url_sig={sig}&temp_url_expires={expires}"
    return f"{url}?{query}" + (f"&temp_url_prefix={prefix}" if prefix is not None else "")


def test_tempurl_from_swift_cli_gets_heads_puts_and_deletes_without_token(cloud, box):
    for method in ("GET", "PUT", "DELETE"):
        url = swift(cloud, "tempurl", method, "300", f"{box}/doc.txt", "account-key").strip()
        assert url.startswith(box) and "temp_url_sig=" in url
        if method == "GET":
            got = httpx.get(url)
            assert got.status_code == 200 and got.content == b"temporary"
            assert got.headers["content-disposition"] == "attachment; filename=\"doc.txt\"; filename*=UTF-8''doc.txt"
            assert "x-object-meta-secret" not in got.headers  # metadata stays private...
            assert got.headers["x-object-meta-public-color"] == "blue"  # ...but the public kind
            assert got.headers["expires"].endswith("GMT")
            assert httpx.head(url).status_code == 200  # a GET signature also allows HEAD
            assert httpx.put(url, content=b"x").status_code == 401  # ...but not PUT
        elif method == "PUT":
            assert httpx.put(url, content=b"replaced").status_code == 201
            assert httpx.head(url).status_code == 200  # so does a PUT signature
            assert httpx.get(sign(f"{box}/doc.txt", "GET", "account-key")).content == b"replaced"
        else:
            assert httpx.delete(url).status_code == 204
            assert httpx.delete(url).status_code == 404


def test_tempurl_refuses_what_is_not_signed(admin, box):
    url = f"{box}/doc.txt"
    assert httpx.get(sign(url, "GET", "wrong-key")).status_code == 401
    assert httpx.get(sign(url, "GET", "account-key", expires=int(time.time()) - 1)).status_code == 401
    assert httpx.get(sign(f"{box}/doc.txt2", "GET", "account-key").replace("doc.txt2", "doc.txt")).status_code == 401
    assert httpx.get(sign(url, "GET", "account-key") + "0").status_code == 401  # a changed signature
    assert httpx.get(f"{url}?temp_url_sig=abc").status_code == 401  # no expiry
    assert httpx.get(f"{url}?temp_url_expires={int(time.time()) + 60}").status_code == 401  # no signature
    # the temp URL decides, not the token: the owner's token does not rescue a bad signature
    assert httpx.get(sign(url, "GET", "wrong-key"), headers=token(admin)).status_code == 401
    copy = httpx.request("COPY", sign(url, "COPY", "account-key"), headers={"Destination": "x/y"})
    assert copy.status_code == 401
    manifest = httpx.put(sign(f"{box}/m", "PUT", "account-key"), content=b"", headers={"X-Object-Manifest": "c/p"})
    assert manifest.status_code == 400
    # unsigned, the object is still private
    assert httpx.get(url).status_code == 401
    expired = sign(url, "GET", "account-key", expires=int(time.time()) + 1)
    assert httpx.get(expired).status_code == 200
    time.sleep(2.1)
    assert httpx.get(expired).status_code == 401


def test_tempurl_digests_iso_expiry_second_key_and_mount_path(admin, store, box):
    url = f"{box}/doc.txt"
    for digest in (hashlib.sha1, hashlib.sha256, hashlib.sha512):
        assert httpx.get(sign(url, "GET", "account-key", digest=digest)).content == b"temporary"
    expires = int(time.time()) + 300
    signed = urlparse(url).path[urlparse(url).path.index("/v1/"):]
    raw = hmac.new(b"account-key", f"GET\n{expires}\n{signed}".encode(), hashlib.sha512).digest()
    for encoded in (base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode().rstrip("=")):
        iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires))
        got = httpx.get(f"{url}?temp_url_sig={quote('sha512:' + encoded, safe=':')}&temp_url_expires={iso}")
        assert got.status_code == 200 and got.content == b"temporary"
    bad = base64.b64encode(raw).decode()
    assert httpx.get(f"{url}?temp_url_sig={quote('md5:' + bad, safe=':')}&temp_url_expires={expires}").status_code == 401
    httpx.post(store, headers={**token(admin), "X-Account-Meta-Temp-URL-Key-2": "second"}).raise_for_status()
    assert httpx.get(sign(url, "GET", "second")).status_code == 200
    assert httpx.get(sign(url, "GET", "account-key", mount=True)).status_code == 200  # /swift/v1/... signed


def test_tempurl_container_key_prefix_inline_filename(cloud, admin, demo, store, box):
    other = random_name("tmp-other")
    httpx.put(f"{store}/{other}", headers=token(admin)).raise_for_status()
    httpx.put(f"{store}/{other}/doc.txt", content=b"elsewhere", headers=token(admin)).raise_for_status()
    httpx.put(f"{box}/pub/a.txt", content=b"a", headers=token(admin)).raise_for_status()
    swift(cloud, "post", "-m", "Temp-URL-Key:box-key", box.rsplit("/", 1)[1])
    try:
        assert httpx.get(sign(f"{box}/doc.txt", "GET", "box-key")).status_code == 200
        assert httpx.get(sign(f"{store}/{other}/doc.txt", "GET", "box-key")).status_code == 401  # only its container
        # the CLI's own form: the path from /v1 on (Swift's docs), served under the mount
        mount, path = box.split("/v1/", 1)
        signed = swift(cloud, "tempurl", "--prefix-based", "GET", "300", f"/v1/{path}/pub/", "box-key").strip()
        assert signed.startswith("/v1/") and "temp_url_prefix=pub/" in signed
        by_prefix = mount + signed
        assert httpx.get(by_prefix.replace("/pub/?", "/pub/a.txt?")).content == b"a"
        assert httpx.get(by_prefix.replace("/pub/?", "/doc.txt?")).status_code == 401  # outside the prefix
        assert httpx.get(sign(f"{box}/pub/a.txt", "GET", "box-key", prefix="pub")).status_code == 200
        inline = httpx.get(sign(f"{box}/doc.txt", "GET", "box-key") + "&inline")
        assert inline.headers["content-disposition"] == "inline"
        named = httpx.get(sign(f"{box}/doc.txt", "GET", "box-key") + "&filename=My%20File.txt")
        assert named.headers["content-disposition"] == (
            "attachment; filename=\"My File.txt\"; filename*=UTF-8''My%20File.txt")
        both = httpx.get(sign(f"{box}/doc.txt", "GET", "box-key") + "&inline&filename=a.txt")
        assert both.headers["content-disposition"].startswith("inline; filename=\"a.txt\"")
        # container keys are the owner's secret: a public listing does not show them
        httpx.post(box, headers={**token(admin), "X-Container-Read": ".r:*,.rlistings"}).raise_for_status()
        assert "x-container-meta-temp-url-key" not in httpx.head(box).headers
        assert "x-container-meta-temp-url-key" not in httpx.head(box, headers=token(demo)).headers
        assert httpx.head(box, headers=token(admin)).headers["x-container-meta-temp-url-key"] == "box-key"
        assert httpx.head(store, headers=token(demo)).status_code == 403  # account keys: owner only
    finally:
        httpx.delete(f"{store}/{other}/doc.txt", headers=token(admin))
        httpx.delete(f"{store}/{other}", headers=token(admin))


def test_tempurl_in_info(cloud):
    info = httpx.get(f"{cloud.url}/swift/info").json()["tempurl"]
    assert info["methods"] == ["GET", "HEAD", "PUT", "POST", "DELETE"]
    assert info["allowed_digests"] == ["sha1", "sha256", "sha512"]
