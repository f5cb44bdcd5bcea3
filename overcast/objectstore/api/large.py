"""Static large objects: ``?multipart-manifest=put`` stores a manifest of segments that
GET serves joined, ``=get`` returns the manifest, ``=delete`` removes it with its segments.

The manifest object's blob holds the manifest as Swift keeps it (name, hash, bytes per
segment); the joined size and ETag (md5 of the segments' ETags) are kept in its metadata.
"""

from __future__ import annotations

import asyncio
import hashlib
import json

from starlette.responses import Response, StreamingResponse

from overcast.objectstore import errors
from overcast.objectstore.api import access
from overcast.objectstore.api.common import check_name, empty, http_date, iso

MAX_MANIFEST = 2 * 1024 * 1024
MAX_SEGMENTS = 1000


def _split(path: str) -> tuple[str, str]:
    container, _, name = path.lstrip("/").partition("/")
    if not container or not name:
        raise errors.SwiftBadRequest(f"Index 0: invalid path {path!r}")
    return container, name


async def put_manifest(req, ctx, container, name: str, fields: dict):
    body = await req.raw.body()
    if len(body) > MAX_MANIFEST:
        raise errors.EntityTooLarge("Manifest File > 2097152 bytes")
    try:
        wanted = json.loads(body)
    except ValueError:
        raise errors.SwiftBadRequest("Manifest must be valid JSON.") from None
    if not isinstance(wanted, list) or not wanted or len(wanted) > MAX_SEGMENTS:
        raise errors.SwiftBadRequest("Manifest must be a list of 1 to 1000 segments.")
    service, account = req.state.objectstore, req.params["account"]
    stored, problems = [], []
    for index, item in enumerate(wanted):
        if not isinstance(item, dict) or not isinstance(item.get("path"), str):
            raise errors.SwiftBadRequest(f"Index {index}: segments need a path")
        box_name, segment_name = _split(item["path"])
        try:
            box = await asyncio.to_thread(service.container, account, check_name(box_name, "container"))
            access.may_read(ctx, account, box, listing=False)
            segment = await asyncio.to_thread(service.get_object, box, check_name(segment_name, "object"))
        except errors.SwiftNotFound:
            problems.append(f"{item['path']}, 404 Not Found")
            continue
        if item.get("etag") not in (None, "") and item["etag"].strip('"') != segment.etag:
            problems.append(f"{item['path']}, Etag Mismatch")
        if item.get("size_bytes") is not None and int(item["size_bytes"]) != segment.size:
            problems.append(f"{item['path']}, Size Mismatch")
        stored.append({"name": "/" + item["path"].lstrip("/"), "hash": segment.etag, "bytes": segment.size,
                       "content_type": segment.content_type, "last_modified": iso(segment.last_modified)})
    if problems:
        raise errors.SwiftBadRequest("Errors:\n" + "\n".join(problems))
    etag = hashlib.md5("".join(s["hash"] for s in stored).encode()).hexdigest()
    total = sum(s["bytes"] for s in stored)
    fields = {**fields, "static_manifest": True, "segments": len(stored),
              "meta": {**fields["meta"], "x-slo-size": str(total), "x-slo-etag": etag}}
    data = json.dumps(stored).encode()

    async def chunks():
        yield data

    row = await service.put_object(container, name, chunks(), len(data), fields)
    return empty(201, {"ETag": f'"{etag}"', "Last-Modified": http_date(row.last_modified)})


async def _segments(service, row) -> list[dict]:
    text = b"".join([chunk async for chunk in await service.open(row)])
    return json.loads(text)


async def get_joined(req, row, headers: dict):
    service, account = req.state.objectstore, req.params["account"]
    size, etag = int(row.meta.get("x-slo-size", 0)), row.meta.get("x-slo-etag", "")
    headers = {**headers, "ETag": f'"{etag}"', "Content-Length": str(size), "X-Static-Large-Object": "True"}
    if req.query.get("multipart-manifest") == "get":
        manifest = b"".join([chunk async for chunk in await service.open(row)])
        headers.update({"Content-Length": str(len(manifest)), "ETag": row.etag,
                        "Content-Type": "application/json; charset=utf-8"})
        return Response(b"" if req.method == "HEAD" else manifest, 200, headers)
    if req.method == "HEAD":
        return empty(200, headers)
    segments = await _segments(service, row)

    async def body():
        for segment in segments:
            box_name, name = _split(segment["name"])
            box = await asyncio.to_thread(service.container, account, box_name)
            piece = await asyncio.to_thread(service.get_object, box, name)
            async for chunk in await service.open(piece):
                yield chunk

    return StreamingResponse(body(), 200, headers, media_type=None)


async def delete_with_segments(req, container, row):
    service, account = req.state.objectstore, req.params["account"]
    deleted = missing = 0
    for segment in await _segments(service, row):
        box_name, name = _split(segment["name"])
        try:
            box = await asyncio.to_thread(service.container, account, box_name)
            await asyncio.to_thread(service.delete_object, box, name)
            deleted += 1
        except errors.SwiftNotFound:
            missing += 1
    await asyncio.to_thread(service.delete_object, container, row.name)
    body = {"Number Deleted": deleted + 1, "Number Not Found": missing, "Response Status": "200 OK",
            "Response Body": "", "Errors": []}
    return Response(json.dumps(body), 200, media_type="application/json; charset=utf-8")
