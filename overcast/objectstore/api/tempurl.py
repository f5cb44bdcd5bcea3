"""Temporary URLs, as Swift's tempurl middleware grants them.

A request carrying ``temp_url_sig`` and ``temp_url_expires`` needs no token: it is allowed
when the signature is the HMAC of ``<METHOD>\\n<expires>\\n<path>`` under one of the
account's keys (``X-Account-Meta-Temp-URL-Key``, ``-Key-2``: good for the whole account)
or the container's (``X-Container-Meta-Temp-URL-Key``, ``-Key-2``: good for that
container). The path is ``/v1/<account>/<container>/<object>`` as Swift signs it, or with
the mount in front (``/swift/v1/...``) as the storage URL shows it. With
``temp_url_prefix=p`` the signed path is ``prefix:/v1/<account>/<container>/p`` and covers
every object whose name starts with p. The signature is hex (SHA1, SHA256 or SHA512, told
apart by length) or ``<digest>:<base64>``; ``temp_url_expires`` is unix time or ISO 8601
UTC (``2030-01-01T00:00:00Z``; the signature still uses the unix time). A HEAD is allowed
by a signature for HEAD, GET, PUT or POST. ``temp_url_ip_range`` (an address or a network,
signed as a first line ``ip=<range>``) limits the URL to callers from there. Anything
wrong (expired, bad signature, no key) is a 401, whatever token comes along: the temp URL,
not the token, decides.

The request then sees only the temp URL's own query parameters (so no
``multipart-manifest``), may not set ``X-Object-Manifest`` or ``X-Symlink-Target``, and its
answer loses the ``X-Object-Meta-*`` headers but ``X-Object-Meta-Public-*``. A successful
GET or HEAD is served with ``Content-Disposition`` (``attachment`` named after the object,
or ``filename``; ``inline`` with ``inline``) and an ``Expires`` of the URL's end.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import calendar
import email.utils
import hashlib
import hmac
import ipaddress
import posixpath
import string
import time
from urllib.parse import quote

from starlette.datastructures import QueryParams

from overcast.objectstore import errors
from overcast.objectstore.api.access import TempURLGrant

METHODS = ("GET", "HEAD", "PUT", "POST", "DELETE")
DIGESTS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}
DEPRECATED_DIGESTS = ("sha1",)
HEX_DIGESTS = {40: "sha1", 64: "sha256", 128: "sha512"}
ISO8601 = "%Y-%m-%dT%H:%M:%SZ"
DISALLOWED_HEADERS = ("x-object-manifest", "x-symlink-target")
KEPT_PARAMS = ("temp_url_sig", "temp_url_expires", "temp_url_prefix", "filename", "inline")
KEYS = ("temp-url-key", "temp-url-key-2")
B64 = set(string.ascii_letters + string.digits + "+/")


def info() -> dict:
    """The ``tempurl`` entry of /info."""
    return {"methods": list(METHODS), "incoming_remove_headers": ["x-timestamp", "x-open-expired"],
            "incoming_allow_headers": [], "outgoing_remove_headers": ["x-object-meta-*"],
            "outgoing_allow_headers": ["x-object-meta-public-*"], "allowed_digests": sorted(DIGESTS),
            "deprecated_digests": list(DEPRECATED_DIGESTS)}


def requested(req) -> bool:
    return "temp_url_sig" in req.query or "temp_url_expires" in req.query


def expires_at(value: str | None) -> int:
    """The URL's end as unix time; 0 when it is malformed or already past."""
    if value is None:
        return 0
    try:
        stamp = int(value)
    except ValueError:
        try:
            stamp = calendar.timegm(time.strptime(value, ISO8601))
        except ValueError:
            return 0
    return stamp if stamp >= time.time() else 0


def digest_of(signature: str) -> tuple[str, str]:
    """(digest name, hex signature) from a hex or ``<digest>:<base64>`` signature; ValueError."""
    if ":" in signature:
        name, value = signature.split(":", 1)
        if ("-" in value or "_" in value) and not ("+" in value or "/" in value):
            value = value.replace("-", "+").replace("_", "/")  # url-safe base64
        if any(char not in B64 for char in value.rstrip("=")):
            raise ValueError("not base64")
        try:
            return name, base64.b64decode(value + "==").hex()
        except binascii.Error:
            raise ValueError("not base64") from None
    bytes.fromhex(signature)
    if len(signature) not in HEX_DIGESTS:
        raise ValueError("bad digest length")
    return HEX_DIGESTS[len(signature)], signature


def signature(key: str, method: str, expires: int, path: str, digest: str = "sha256",
              ip_range: str | None = None) -> str:
    """The hex HMAC a temp URL for ``method`` on ``path`` until ``expires`` carries."""
    body = f"{method}\n{expires}\n{path}"
    if ip_range:
        body = f"ip={ip_range}\n{body}"
    body = body.encode("utf-8", "surrogateescape")
    return hmac.new(key.encode("utf-8"), body, DIGESTS[digest]).hexdigest()


def signing_keys(account_meta: dict, container) -> list[tuple[str, str | None]]:
    """(key, container it is limited to or None) for the account's and the container's keys."""
    found = [(account_meta[f"x-account-meta-{k}"], None) for k in KEYS if account_meta.get(f"x-account-meta-{k}")]
    meta = (container.meta or {}) if container is not None else {}
    return found + [(meta[f"x-container-meta-{k}"], container.name) for k in KEYS if meta.get(f"x-container-meta-{k}")]


async def check(req, service, account: str, container) -> TempURLGrant:
    """The grant of a valid temp URL for this object request (``container``: its row, or
    None when it does not exist); 401 otherwise, 400 for a header a temp URL may not set."""
    query = req.query
    sig, expires = query.get("temp_url_sig"), expires_at(query.get("temp_url_expires"))
    if not sig or not expires or req.method not in METHODS:
        raise errors.TempURLInvalid()
    try:
        digest, sig = digest_of(sig)
    except ValueError:
        raise errors.TempURLInvalid() from None
    if digest not in DIGESTS:
        raise errors.TempURLInvalid()
    container_name, name = req.params["container"], req.params["object"]
    if not name.strip("/"):
        raise errors.TempURLInvalid()
    prefix = query.get("temp_url_prefix")
    if prefix is not None and not name.startswith(prefix):
        raise errors.TempURLInvalid()
    # signed as Swift signs it (from /v1 on) or as the storage URL shows it (from /swift/v1 on)
    signed = f"/v1/{account}/{container_name}/{name if prefix is None else prefix}"
    paths = [("" if prefix is None else "prefix:") + mount + signed for mount in dict.fromkeys(("", req.prefix))]
    ip_range = query.get("temp_url_ip_range")
    if ip_range and not _from(req, ip_range):
        raise errors.TempURLInvalid()
    account_meta = (await asyncio.to_thread(service.account, account))["meta"]
    methods = ("HEAD", "GET", "POST", "PUT") if req.method == "HEAD" else (req.method,)
    scope = _match(sig, signing_keys(account_meta, container), methods, expires, paths, digest, ip_range)
    if scope is False:
        raise errors.TempURLInvalid()
    if req.method not in ("GET", "HEAD"):
        for header in DISALLOWED_HEADERS:
            if header in req.headers:
                raise errors.SwiftBadRequest(f"The header {header.title()!r} is not allowed in this tempurl")
    req.query = QueryParams([(k, v) for k, v in query.multi_items() if k in KEPT_PARAMS])
    return TempURLGrant(account=account, container=scope, expires=expires)


def _from(req, ip_range: str) -> bool:
    client = req.raw.client
    try:
        return client is not None and ipaddress.ip_address(client.host) in ipaddress.ip_network(ip_range)
    except ValueError:
        return False


def _match(sig: str, keys, methods, expires: int, paths: list[str], digest: str, ip_range: str | None):
    """The container the matching key is limited to (None: the account's key), or False."""
    for method in methods:
        for path in paths:
            for key, scope in keys:
                if hmac.compare_digest(sig, signature(key, method, expires, path, digest, ip_range)):
                    return scope
    return False


def shape(req, grant: TempURLGrant | None, response):
    """The answer as a temp URL's caller gets it (unchanged for other callers)."""
    if not isinstance(grant, TempURLGrant):
        return response
    for key in list(response.headers.keys()):
        if key.startswith("x-object-meta-") and not key.startswith("x-object-meta-public-"):
            del response.headers[key]
    if req.method not in ("GET", "HEAD") or not 200 <= response.status_code < 300:
        return response
    filename, inline = req.query.get("filename"), "inline" in req.query
    if inline:
        value = _disposition("inline", filename) if filename else "inline"
    elif filename:
        value = _disposition("attachment", filename)
    elif "content-disposition" in response.headers:
        value = response.headers["content-disposition"]
    else:
        value = _disposition("attachment", posixpath.basename(req.params["object"].rstrip("/")))
    response.headers["Content-Disposition"] = value.replace("\n", "%0A")
    response.headers["Expires"] = email.utils.formatdate(grant.expires, usegmt=True)
    return response


def _disposition(kind: str, filename: str) -> str:
    return f"""{kind}; filename="{quote(filename, safe=' /')}"; filename*=UTF-8''{quote(filename)}"""
