"""Image data: PUT/GET /v2/images/{id}/file, PUT .../stage, POST .../import."""

from __future__ import annotations

import re

from starlette.responses import Response, StreamingResponse

from overcast.common.api import reply
from overcast.image import errors
from overcast.image.api.images import authorized_image

OCTET = "application/octet-stream"
RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _content(req) -> int | None:
    content_type = req.headers.get("content-type", "").split(";")[0].strip()
    if content_type and content_type != OCTET:
        raise errors.UnsupportedMediaType(f"Unsupported Content-Type {content_type}; image data is {OCTET}")
    length = req.headers.get("content-length")
    return int(length) if length and length.isdigit() else None


async def put_file(req):
    service = req.state.image
    row = authorized_image(req)
    if row.status == "queued" and (not row.disk_format or not row.container_format):
        raise errors.ImageInvalid("Properties disk_format and container_format must be set prior to upload.")
    size = _content(req)
    await service.data.upload(req.context, row.id, req.raw.stream(), size)
    return reply(None, status=204)


async def stage(req):
    service = req.state.image
    row = authorized_image(req)
    await service.data.stage(req.context, row.id, req.raw.stream(), _content(req))
    return reply(None, status=204)


async def start_import(req):
    service = req.state.image
    row = authorized_image(req)
    body = req.json()
    method = body.get("method") if isinstance(body, dict) else None
    service.data.start_import(req.context, row.id, method)
    return reply(None, status=202)


def _range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) byte of a single ``bytes=`` range, None for the whole file."""
    if not header:
        return None
    match = RANGE.match(header.strip())
    if not match or (not match.group(1) and not match.group(2)):
        raise errors.RangeNotSatisfiable(size)
    first, last = match.group(1), match.group(2)
    if not first:  # suffix: the last N bytes
        count = int(last)
        if count == 0:
            raise errors.RangeNotSatisfiable(size)
        return max(size - count, 0), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        raise errors.RangeNotSatisfiable(size)
    return start, end


async def get_file(req):
    service = req.state.image
    row = authorized_image(req)
    if not row.location:
        return Response(status_code=204)
    selected = _range(req.headers.get("range"), row.size or 0)
    offset, length = (selected[0], selected[1] - selected[0] + 1) if selected else (0, row.size)
    _, chunks = await service.data.download(req.context, row.id, offset, length)
    headers = {"Content-Length": str(length), "Content-Type": OCTET}
    if selected:
        headers["Content-Range"] = f"bytes {selected[0]}-{selected[1]}/{row.size}"
        return StreamingResponse(chunks, status_code=206, headers=headers)
    if row.checksum:
        headers["Content-MD5"] = row.checksum
    return StreamingResponse(chunks, status_code=200, headers=headers)
