"""The temp URL pieces that need no cloud: signatures, expiry, digests."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import pytest

from overcast.objectstore.api import tempurl


def test_digest_of_hex_and_base64_forms():
    raw = hmac.new(b"k", b"body", hashlib.sha512).digest()
    assert tempurl.digest_of(raw.hex()) == ("sha512", raw.hex())
    assert tempurl.digest_of("sha512:" + base64.b64encode(raw).decode()) == ("sha512", raw.hex())
    assert tempurl.digest_of("sha512:" + base64.urlsafe_b64encode(raw).decode().rstrip("=")) == ("sha512", raw.hex())
    assert tempurl.digest_of("a" * 40)[0] == "sha1" and tempurl.digest_of("a" * 64)[0] == "sha256"
    for bad in ("a" * 41, "zz" * 20, "sha256:not base64!"):
        with pytest.raises(ValueError):
            tempurl.digest_of(bad)


def test_expires_at_unix_iso_past_and_garbage():
    future = int(time.time()) + 100
    assert tempurl.expires_at(str(future)) == future
    assert tempurl.expires_at(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(future))) == future
    assert tempurl.expires_at(str(int(time.time()) - 1)) == 0
    assert tempurl.expires_at("tomorrow") == 0 and tempurl.expires_at(None) == 0


def test_signature_is_swifts_hmac():
    body = b"GET\n1700000000\n/v1/AUTH_a/c/o"
    assert tempurl.signature("key", "GET", 1700000000, "/v1/AUTH_a/c/o") == hmac.new(b"key", body, "sha256").hexdigest()
    ranged = tempurl.signature("key", "GET", 1, "/v1/a/c/o", "sha1", ip_range="10.0.0.0/8")
    assert ranged == hmac.new(b"key", b"ip=10.0.0.0/8\nGET\n1\n/v1/a/c/o", "sha1").hexdigest()
