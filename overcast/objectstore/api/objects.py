"""/v1/{account}/{container}/{object}: PUT (streamed, ETag-checked, copy), GET with ranges
and conditions, HEAD, POST (metadata), DELETE and COPY; dynamic large objects on GET. Temp
URLs (api/tempurl.py) stand in for a token; uploads and deletes in a versioned container
go through api/versioning.py; symlinks (api/symlink.py) are followed on GET, HEAD and copies.
Another container's syncer PUTs, DELETEs and HEADs without a token (api/container_sync.py)."""

from __future__ import annotations

import asyncio
import email.utils
import hashlib
import mimetypes
import time
from urllib.parse import unquote

from starlette.responses import Response, StreamingResponse

from overcast.objectstore import errors
from overcast.objectstore.api import access, container_sync, large, object_versioning, symlink, tempurl, versioning
from overcast.objectstore.api.common import check_meta, check_name, empty, http_date, meta_from, meta_headers
from overcast.objectstore.api.ranges import parse_ranges, ranged_response
from overcast.objectstore.service import Listing

KEPT = ("content-disposition", "content-encoding", "x-object-manifest")

SMALL = 64 * 1024  # objects read whole in one go
CONDITIONS = ("range", "if-match", "if-none-match", "if-modified-since", "if-unmodified-since")

def _svc(req):
    return req.state.objectstore


async def _target(req, write: bool):
    """(caller, container row, object name) after the access checks; the caller of a valid
    temp URL is its TempURLGrant."""
    account = req.params["account"]
    container_name = check_name(req.params["container"], "container")
    name = check_name(req.params["object"], "object")
    if tempurl.requested(req):
        try:
            container = await asyncio.to_thread(_svc(req).container, account, container_name)
        except errors.SwiftNotFound:
            container = None
        grant = await tempurl.check(req, _svc(req), account, container)
        if container is None:
            raise errors.SwiftNotFound()
        return grant, container, name
    if container_sync.requested(req) and req.method in ("PUT", "DELETE", "HEAD"):
        container = await asyncio.to_thread(_svc(req).container, account, container_name)
        if container_sync.authorized(req, _svc(req), container):
            return container_sync.SyncGrant(container), container, name
    ctx = access.caller(req)
    return ctx, await open_container(req, ctx, account, container_name, write), name


async def open_container(req, ctx, account: str, name: str, write: bool):
    """The container row, once ``ctx`` may write (or read) its objects; others learn nothing
    about containers that do not exist."""
    access.project_of(account)
    try:
        container = await asyncio.to_thread(_svc(req).container, account, name)
    except errors.SwiftNotFound:
        access.require_owner(ctx, account)
        raise
    if write:
        access.may_write(ctx, account, container)
    else:
        access.may_read(ctx, account, container, listing=False)
    return container


def delete_at_from(headers) -> int | None:
    if "x-delete-after" in headers:
        value = headers["x-delete-after"]
        if not value.isdigit():
            raise errors.SwiftBadRequest("Non-integer X-Delete-After")
        return int(time.time()) + int(value)
    if "x-delete-at" in headers:
        value = headers["x-delete-at"]
        if not value.isdigit():
            raise errors.SwiftBadRequest("Non-integer X-Delete-At")
        if int(value) < time.time():
            raise errors.SwiftBadRequest("X-Delete-At in past")
        return int(value)
    return None


def _fields(req, name: str, base: dict | None = None) -> dict:
    """The indexed fields an upload or POST sets: content type, metadata, expiry, manifest."""
    headers = req.headers
    meta = {k: v for k, v in meta_from(headers, "object", remove=False).items() if v is not None}
    for key in KEPT:
        if key in headers:
            meta[key] = headers[key]
    check_meta({k: v for k, v in meta.items() if k.startswith("x-object-meta-")})
    content_type = headers.get("content-type") or (base or {}).get("content_type")
    if not content_type or headers.get("x-detect-content-type", "").lower() == "true":
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    fields = {"content_type": content_type, "meta": meta, "delete_at": delete_at_from(headers)}
    if "x-object-manifest" in headers:
        fields["manifest"] = unquote(headers["x-object-manifest"])
    return fields


def _object_headers(row) -> dict[str, str]:
    headers = {"Content-Type": row.content_type, "ETag": row.etag, "Last-Modified": http_date(row.last_modified),
               "X-Timestamp": f"{row.last_modified:.5f}", "Accept-Ranges": "bytes",
               **meta_headers({k: v for k, v in row.meta.items() if k.startswith("x-object-meta-")})}
    for key in KEPT:
        if key in row.meta:
            headers[key.title()] = row.meta[key]
    if row.static_manifest:
        headers["X-Static-Large-Object"] = "True"
    if row.delete_at:
        headers["X-Delete-At"] = str(row.delete_at)
    if symlink.is_link(row):  # only answered for ?symlink=get: otherwise the link is followed
        headers.update(symlink.own_headers(row))
    return headers


async def put(req):
    ctx, container, name = await _target(req, write=True)
    headers = req.headers
    version = object_versioning.requested(req)
    if version is not None:
        return tempurl.shape(req, ctx, await object_versioning.restore(req, container, name, version))
    if "x-copy-from" in headers:
        source_container, _, source_name = unquote(headers["x-copy-from"]).lstrip("/").partition("/")
        return tempurl.shape(req, ctx, await _copy(req, ctx, source_container, source_name, container, name))
    size = headers.get("content-length")
    chunked = "chunked" in headers.get("transfer-encoding", "").lower()
    if size is None and not chunked:
        raise errors.LengthRequired()
    if size is not None and not size.isdigit():
        raise errors.SwiftBadRequest("Invalid Content-Length")
    fields = _fields(req, name)
    if isinstance(ctx, container_sync.SyncGrant):  # stored with the time it has on the other side
        fields["last_modified"] = container_sync.timestamp(req)
    body = req.raw.stream()
    if symlink.TARGET in headers:
        fields = await symlink.link_fields(req, ctx, req.params["account"], container, name, fields)
        body = symlink.empty_body()  # the request's (empty) body has been read
    await versioning.keep_current(_svc(req), container, name)
    if req.query.get("multipart-manifest") == "put":
        return tempurl.shape(req, ctx, await large.put_manifest(req, ctx, container, name, fields))
    row = await _svc(req).put_object(container, name, body, int(size) if size is not None else None,
                                     fields, headers.get("etag"))
    return tempurl.shape(req, ctx, empty(201, {"ETag": row.etag, "Last-Modified": http_date(row.last_modified),
                                               **object_versioning.upload_headers(row)}))


async def _copy(req, ctx, source_container: str, source_name: str, container, name: str,
                version: str | None = None):
    """Copy the source object (``version``: that version of it) to ``container/name``."""
    account = req.params["account"]
    try:
        source_box = await asyncio.to_thread(_svc(req).container, account, check_name(source_container, "container"))
    except errors.SwiftNotFound:
        raise errors.SwiftNotFound() from None
    access.may_read(ctx, account, source_box, listing=False)
    source_name = check_name(source_name, "object")
    if version is not None:
        source = await asyncio.to_thread(_svc(req).versions.get, source_box, source_name, version)
    else:
        source = await asyncio.to_thread(_svc(req).get_object, source_box, source_name)
    if symlink.is_link(source) and not symlink.wants_link(req):
        source_box, source, _ = await symlink.follow(req, ctx, account, source_box, source)
    fields = {"content_type": source.content_type, "meta": dict(source.meta), "delete_at": None}
    if req.headers.get("x-fresh-metadata", "").lower() == "true":
        fields["meta"] = {}
    update = _fields(req, name, {"content_type": source.content_type})
    fields["meta"].update(update["meta"])
    if "content-type" in req.headers:
        fields["content_type"] = update["content_type"]
    fields["delete_at"] = update["delete_at"]
    await versioning.keep_current(_svc(req), container, name)
    row = await _svc(req).copy_object(source, container, name, fields)
    return empty(201, {**meta_headers({k: v for k, v in row.meta.items() if k.startswith("x-object-meta-")}),
                       "ETag": row.etag, "X-Copied-From": f"{source_container}/{source_name}",
                       "X-Copied-From-Last-Modified": http_date(source.last_modified),
                       "Last-Modified": http_date(row.last_modified), **object_versioning.upload_headers(row)})


async def copy(req):
    destination = req.headers.get("destination")
    if not destination:
        raise errors.PreconditionFailed("You must provide a Destination header")
    dest_container, _, dest_name = unquote(destination).lstrip("/").partition("/")
    if not dest_name:
        raise errors.PreconditionFailed("Destination header must be of the form <container name>/<object name>")
    ctx, source_box, source_name = await _target(req, write=False)
    account = req.params["account"]
    target = await asyncio.to_thread(_svc(req).container, account, check_name(dest_container, "container"))
    access.may_write(ctx, account, target)
    return await _copy(req, ctx, source_box.name, source_name, target, check_name(dest_name, "object"),
                       object_versioning.requested(req))


def _conditions(req, row) -> None:
    headers, etag = req.headers, row.etag
    if "if-match" in headers:
        wanted = {tag.strip().strip('"') for tag in headers["if-match"].split(",")}
        if "*" not in wanted and etag not in wanted:
            raise errors.PreconditionFailed()
    if "if-none-match" in headers:
        wanted = {tag.strip().strip('"') for tag in headers["if-none-match"].split(",")}
        if "*" in wanted or etag in wanted:
            raise errors.NotModified()
    for header, newer in (("if-modified-since", True), ("if-unmodified-since", False)):
        if header in headers:
            try:
                since = email.utils.parsedate_to_datetime(headers[header]).timestamp()
            except (TypeError, ValueError):
                continue
            modified = int(row.last_modified) > since
            if newer and not modified:
                raise errors.NotModified()
            if not newer and modified:
                raise errors.PreconditionFailed()


async def get(req):
    version = object_versioning.requested(req)
    if version is not None:
        ctx, container, name = await _target(req, write=False)
        row = await asyncio.to_thread(_svc(req).versions.get, container, name, version)
        return tempurl.shape(req, ctx, await _read(req, container, name, row))
    if tempurl.requested(req) or (req.method == "HEAD" and container_sync.requested(req)):
        ctx, container, name = await _target(req, write=False)
        row = await asyncio.to_thread(_svc(req).get_object, container, name)
        return tempurl.shape(req, ctx, await _linked(req, ctx, container, row))
    # the common read: container, object and a small body in one worker thread hop
    account = req.params["account"]
    container_name = check_name(req.params["container"], "container")
    name = check_name(req.params["object"], "object")
    ctx = access.caller(req)
    access.project_of(account)
    try:
        container, row, data = await locate(req, account, container_name, name)
    except errors.SwiftNotFound:
        access.require_owner(ctx, account)
        raise
    access.may_read(ctx, account, container, listing=False)
    if row is None:
        raise errors.SwiftNotFound()
    return tempurl.shape(req, ctx, await _linked(req, ctx, container, row, data))


async def locate(req, account: str, container_name: str, name: str):
    """(container, object row or None, its bytes or None) for a GET or HEAD: the bytes come
    along for a plain GET of an object up to SMALL (no range, no condition). Answered from
    ``req.located`` when static web already looked the same object up for this request."""
    key = (account, container_name, name)
    found = getattr(req, "located", None)
    if found is not None and found[0] == key:
        return found[1]
    plain = req.method == "GET" and not any(header in req.headers for header in CONDITIONS)
    return await asyncio.to_thread(_svc(req).fetch, account, container_name, name, SMALL if plain else 0)


async def _linked(req, ctx, container, row, data: bytes | None = None):
    """The object's answer, or for a symlink its target's, named in Content-Location."""
    if not symlink.is_link(row) or symlink.wants_link(req):
        return await _read(req, container, row.name, row, data)
    container, row, location = await symlink.follow(req, ctx, req.params["account"], container, row)
    response = await _read(req, container, row.name, row)
    response.headers["Content-Location"] = location
    return response


async def _read(req, container, name: str, row=None, data: bytes | None = None):
    if row is None:
        row = await asyncio.to_thread(_svc(req).get_object, container, name)
    _conditions(req, row)
    headers = {**_object_headers(row), **object_versioning.object_headers(req, container, row)}
    if row.static_manifest:
        return await large.get_joined(req, row, headers)
    if row.manifest is not None and req.query.get("multipart-manifest") != "get":
        return await _dynamic(req, row, headers)
    if req.method == "HEAD":
        return empty(200, {**headers, "Content-Length": str(row.size)})
    ranges = parse_ranges(req.headers.get("range"), row.size)
    if ranges:
        return await ranged_response(_svc(req), row, ranges, headers)
    if row.size <= SMALL:  # one thread hop instead of one per chunk (none when read with the row)
        if data is None:
            data = await asyncio.to_thread(_svc(req).read_all, row)
        return Response(data, 200, {**headers, "Content-Length": str(row.size)}, media_type=None)
    body = await _svc(req).open(row)
    return StreamingResponse(body, 200, {**headers, "Content-Length": str(row.size)}, media_type=None)


async def _dynamic(req, manifest, headers: dict):
    """A dynamic large object: the segments under the manifest's prefix, in name order."""
    account = req.params["account"]
    box_name, _, prefix = manifest.manifest.partition("/")
    service = _svc(req)
    box = await asyncio.to_thread(service.container, account, box_name)
    segments = [s for s in await asyncio.to_thread(service.list_objects, box, Listing(prefix=prefix))
                if not isinstance(s, str)]
    size = sum(s.size for s in segments)
    etag = '"' + hashlib.md5("".join(s.etag for s in segments).encode()).hexdigest() + '"'
    headers = {**headers, "ETag": etag, "Content-Length": str(size), "X-Object-Manifest": manifest.manifest}
    if req.method == "HEAD":
        return empty(200, headers)

    async def body():
        for segment in segments:
            async for chunk in await service.open(segment):
                yield chunk

    return StreamingResponse(body(), 200, headers, media_type=None)


async def post(req):
    if req.query.get(object_versioning.PARAM):
        raise errors.SwiftBadRequest("POST to a specific version is not allowed")
    if symlink.TARGET in req.headers:
        raise errors.SwiftBadRequest("A PUT request is required to set a symlink target")
    ctx, container, name = await _target(req, write=True)
    current = await asyncio.to_thread(_svc(req).get_object, container, name)
    fields = _fields(req, name, {"content_type": current.content_type})
    fields["meta"].update(symlink.kept(current.meta))
    fields["meta"].update(object_versioning.kept(current.meta))
    if "content-type" not in req.headers:
        fields["content_type"] = current.content_type
    fields.setdefault("manifest", current.manifest if "x-object-manifest" in current.meta else None)
    await asyncio.to_thread(_svc(req).post_object, container, name, fields)
    if symlink.is_link(current):
        raise symlink.redirect(current, req.params["account"])
    return tempurl.shape(req, ctx, empty(202))


async def delete(req):
    ctx, container, name = await _target(req, write=True)
    version = object_versioning.requested(req)
    if version is not None:
        return tempurl.shape(req, ctx, await object_versioning.delete(req, container, name, version))
    if req.query.get("multipart-manifest") == "delete":
        row = await asyncio.to_thread(_svc(req).get_object, container, name)
        if row.static_manifest:
            return tempurl.shape(req, ctx, await large.delete_with_segments(req, container, row))
    if isinstance(ctx, container_sync.SyncGrant):  # deleted as of its time on the other side
        await asyncio.to_thread(_svc(req).delete_object, container, name, container_sync.timestamp(req))
        return empty(204)
    row = await delete_one(_svc(req), container, name)
    marker = getattr(row, "deleted_version", None)
    return tempurl.shape(req, ctx, empty(204, {"X-Object-Version-Id": marker} if marker else {}))


async def delete_one(service, container, name: str):
    """DELETE of one object (the handler's and bulk delete's), through versioning; 404 when
    there is nothing to delete. Returns the row deleted (None: legacy versioning did it)."""
    if not await versioning.delete(service, container, name):
        return await asyncio.to_thread(service.delete_object, container, name)
    return None
