"""Container sync on the API side, as Swift's container_sync middleware and proxy do it.

Setting it up: ``X-Container-Sync-To`` (``//realm/cluster/AUTH_account/container``, or a
full URL where allowed; checked with Swift's 400s, and refused on a container with object
versioning) and ``X-Container-Sync-Key`` on a container PUT or POST (an empty value turns
each off); both shown to the owner only.

Receiving: a PUT, DELETE or HEAD of an object needs no token when it comes from the other
side's syncer: signed with ``X-Container-Sync-Auth: <realm> <nonce> <sig>`` (a realm key and
this container's sync key; a bad signature is a 401), or carrying this container's key in
``X-Container-Sync-Key`` together with an ``X-Timestamp`` (the full-URL form). Such a PUT
stores the object with that X-Timestamp as its time, and a DELETE deletes as of it.
"""

from __future__ import annotations

import asyncio
import hmac
from urllib.parse import quote

from overcast.objectstore import errors, sync, sync_realms
from overcast.objectstore.api import versioning
from overcast.objectstore.versions import archive_name

AUTH = "x-container-sync-auth"
OWNER_ONLY = (sync.SYNC_TO, sync.SYNC_KEY)


def info(service) -> dict:
    """The ``container_sync`` entry of /info."""
    return service.realms.info()


def settings(req, service) -> dict[str, str]:
    """The sync headers of a container PUT or POST as container metadata (400 when the
    target cannot be used)."""
    found = {}
    if sync.SYNC_TO in req.headers:
        value = req.headers[sync.SYNC_TO].strip()
        service.realms.target(value)
        found[sync.SYNC_TO] = value
    if sync.SYNC_KEY in req.headers:
        found[sync.SYNC_KEY] = req.headers[sync.SYNC_KEY].strip()
    return found


async def check_versioning(req, service, account: str, name: str, meta: dict) -> None:
    """Swift's 400 for a sync target on a container with object versioning (either mode)."""
    if not meta.get(sync.SYNC_TO):
        return
    try:
        row = await asyncio.to_thread(service.container, account, name)
        current = row.meta or {}
    except errors.SwiftNotFound:
        current = {}
    combined = {**current, **{k: v for k, v in meta.items() if v is not None}}
    if (combined.get(versioning.VERSIONS) or combined.get(versioning.HISTORY) or archive_name(combined)
            or req.headers.get("x-versions-enabled", "").lower() == "true"):
        raise errors.SwiftBadRequest("Cannot configure container sync on a container with object versioning "
                                     "configured.")


def requested(req) -> bool:
    return AUTH in req.headers or sync.SYNC_KEY in req.headers


def authorized(req, service, container) -> bool:
    """Whether the request comes from a syncer allowed to write into ``container``; a bad
    X-Container-Sync-Auth is a 401 whatever else comes along."""
    meta = container.meta or {}
    user_key = meta.get(sync.SYNC_KEY)
    if AUTH in req.headers:
        header = req.headers[AUTH]
        realm = header.split()[0] if header.split() else ""
        raw = req.raw.scope.get("raw_path", b"").decode("latin-1").split("?")[0]
        decoded = quote(req.raw.url.path)
        paths = list(dict.fromkeys(
            path for full in (raw, decoded) for path in (full, full[len(req.prefix):] if full.startswith(req.prefix)
                                                         else full)))
        if not sync_realms.auth_valid(header, req.method, paths, req.headers.get("x-timestamp", "0"),
                                      service.realms.keys(realm), user_key):
            error = errors.SwiftUnauthorized("X-Container-Sync-Auth header not valid; contact cluster operator "
                                             "for support.")
            error.headers["WWW-Authenticate"] = "SwiftContainerSync"
            raise error
        return True
    given = req.headers.get(sync.SYNC_KEY)
    return bool(user_key and given and "x-timestamp" in req.headers
                and hmac.compare_digest(given.encode(), user_key.encode()))


def timestamp(req) -> float:
    """The request's X-Timestamp (400 when it is not one)."""
    value = req.headers.get("x-timestamp", "")
    try:
        stamp = float(value)
    except ValueError:
        raise errors.SwiftBadRequest(f"X-Timestamp should be a UNIX timestamp float value; was {value!r}") from None
    if stamp <= 0:
        raise errors.SwiftBadRequest(f"X-Timestamp should be a UNIX timestamp float value; was {value!r}")
    return round(stamp, 5)


class SyncGrant:
    """The caller of a request a container's syncer sent (it acts on that container only)."""

    def __init__(self, container):
        self.container = container
