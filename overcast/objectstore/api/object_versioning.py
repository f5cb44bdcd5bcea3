"""Object versioning, Swift's newer API (its ``object_versioning`` middleware), at the HTTP
edge; the rows move in overcast/objectstore/versions.py.

- ``X-Versions-Enabled: true|false`` on a container PUT or POST turns it on or off (400 on a
  container with ``X-Versions-Location``/``X-History-Location``); HEAD and GET show it.
  The container's ``X-Container-Bytes-Used`` counts its older versions too.
- Uploads to a container with versioning on answer ``X-Object-Version-Id``; GET and HEAD
  of an object in a container that has had versioning answer it too ("null" for objects
  written while it was off), and ``Content-Location`` names the version.
- ``?version-id=<id>``: GET and HEAD read that version (a delete marker is a 404 with its
  id and content type), DELETE removes that version for good (no delete marker; answers
  ``X-Object-Version-Id`` and ``X-Object-Current-Version-Id``), PUT with an empty body
  makes it the current version again, COPY copies it; POST is a 400. An id that is neither "null" nor a
  timestamp is a 400, as is any id but "null" in a container never versioned.
- A DELETE without it, with versioning on, writes a delete marker and answers its id
  (a 404 when there was no object, with the marker written all the same).
- ``GET <container>?versions`` (JSON only, else 406) lists every version: ``version_id``
  and ``is_latest`` on each item, by name and then newest first; ``marker`` with
  ``version_marker`` pages through them, with prefix, delimiter, limit and reverse.
"""

from __future__ import annotations

import asyncio
import json
from urllib.parse import quote

from starlette.responses import Response

from overcast.objectstore import errors, versions
from overcast.objectstore.api.common import empty, iso

HEADER = "x-versions-enabled"
PARAM = "version-id"
TRUE = ("true", "1", "yes", "on", "t", "y")


def info() -> dict:
    """The ``object_versioning`` entry of /info."""
    return {}


def requested(req) -> str | None:
    """The ``version-id`` parameter, checked (400 when malformed), or None."""
    value = req.query.get(PARAM)
    if not value:  # as Swift: an empty version-id is no version-id
        return None
    return versions.check_version(value)


async def configure(req, service, account: str, name: str) -> None:
    """After a container PUT or POST: ``X-Versions-Enabled``, if sent."""
    value = req.headers.get(HEADER)
    if value is not None:
        await asyncio.to_thread(service.versions.configure, account, name, value.strip().lower() in TRUE)


def check_legacy(req, container_meta: dict | None, flags: dict) -> None:
    """Legacy versioning (``flags`` being set) and the newer mode exclude each other on a
    container (400 either way)."""
    meta = container_meta or {}
    if versions.archive_name(meta) and any(flags.values()):
        raise errors.SwiftBadRequest("Cannot enable legacy versioning on a container that uses object versioning.")
    if HEADER in req.headers and (meta.get("x-versions-location") or meta.get("x-history-location")):
        raise errors.SwiftBadRequest("Cannot enable object versioning on a container that is already using the "
                                     "legacy versioned writes feature.")


def shown_meta(meta: dict | None) -> dict:
    """A container's metadata without the archive's name (Swift's sysmeta is never shown)."""
    return {key: value for key, value in (meta or {}).items() if not key.startswith("x-container-sysmeta-")}


def object_headers(req, container, row) -> dict[str, str]:
    """``X-Object-Version-Id`` (and the version's ``Content-Location``) of an object read
    in a container that has had versioning."""
    if not versions.archive_name(container.meta):
        return {}
    version = versions.current_version(row) if row.container_id == container.id else versions.archived_version(row)
    headers = {"X-Object-Version-Id": version}
    if version != versions.NULL:
        headers["Content-Location"] = (f"/v1/{quote(req.params['account'])}/{quote(container.name)}/"
                                       f"{quote(row.name)}?version-id={version}")
    return headers


def kept(meta: dict | None) -> dict:
    """What a POST keeps of an object's metadata: its version id."""
    return {key: value for key, value in (meta or {}).items() if key == versions.VERSION_ID}


def upload_headers(row) -> dict[str, str]:
    version = (row.meta or {}).get(versions.VERSION_ID)
    return {"X-Object-Version-Id": version} if version else {}


async def restore(req, container, name: str, version: str):
    """``PUT ?version-id``: an empty body only."""
    if version == versions.NULL:
        raise errors.SwiftBadRequest("Invalid version parameter")
    size = req.headers.get("content-length")
    if size is None and "chunked" not in req.headers.get("transfer-encoding", "").lower():
        raise errors.LengthRequired()
    async for chunk in req.raw.stream():
        if chunk:
            raise errors.SwiftBadRequest("PUT version-id requests require a zero byte body")
    if size not in (None, "0"):
        raise errors.SwiftBadRequest("PUT version-id requests require a zero byte body")
    row = await asyncio.to_thread(req.state.objectstore.versions.restore, container, name, version)
    return empty(201, {"ETag": row.etag, "X-Object-Version-Id": version})


async def delete(req, container, name: str, version: str):
    left = await asyncio.to_thread(req.state.objectstore.versions.delete, container, name, version)
    if version == versions.NULL:
        return empty(204)
    return empty(204, {"X-Object-Version-Id": version, "X-Object-Current-Version-Id": left})


async def listing(req, container, listing, fmt: str, headers: dict):
    """``GET <container>?versions``."""
    if fmt != "json":
        raise errors.NotAcceptable()
    version_marker = req.query.get("version_marker")
    if version_marker is not None:
        if not listing.marker:
            raise errors.SwiftBadRequest("version_marker param requires marker")
        if version_marker != versions.NULL:
            try:
                version_marker = versions.stamp_text(float(version_marker))
            except ValueError:
                raise errors.SwiftBadRequest("invalid version_marker param") from None
    if set(listing.delimiter) & set("0123456789."):
        raise errors.SwiftBadRequest("invalid delimiter param")
    found = await asyncio.to_thread(req.state.objectstore.versions.listing, container, listing, version_marker)
    items = [{"subdir": item} if isinstance(item, str) else
             {"name": item[0].name, "bytes": item[0].size, "hash": item[0].etag,
              "last_modified": iso(item[0].last_modified), "content_type": item[0].content_type,
              "version_id": item[1], "is_latest": item[2]} for item in found]
    return Response(json.dumps(items).encode(), 200, {**headers}, media_type="application/json; charset=utf-8")
