"""HTTP Range on objects: one range is a 206 with Content-Range, several are a
multipart/byteranges body, none satisfiable is a 416 (RFC 7233, as Swift does)."""

from __future__ import annotations

import secrets

from starlette.responses import StreamingResponse

from overcast.objectstore import errors


def parse_ranges(header: str | None, size: int) -> list[tuple[int, int]]:
    """[(first, last)] byte positions, inclusive; [] when there is no usable Range header."""
    if not header or not header.strip().lower().startswith("bytes="):
        return []
    wanted = []
    for part in header.strip()[6:].split(","):
        first, sep, last = part.strip().partition("-")
        if not sep or (not first and not last):
            return []  # malformed: the whole object, as Swift answers
        try:
            if not first:
                length = int(last)
                if length == 0:
                    continue
                wanted.append((max(size - length, 0), size - 1))
                continue
            start, end = int(first), int(last) if last else size - 1
        except ValueError:
            return []
        if last and end < start:
            return []
        if start < size:
            wanted.append((start, min(end, size - 1)))
    if not wanted:
        raise errors.RangeNotSatisfiable()
    return wanted


async def ranged_response(service, row, ranges: list[tuple[int, int]], headers: dict):
    if len(ranges) == 1:
        first, last = ranges[0]
        body = await service.open(row, first, last - first + 1)
        return StreamingResponse(body, 206, {**headers, "Content-Length": str(last - first + 1),
                                             "Content-Range": f"bytes {first}-{last}/{row.size}"}, media_type=None)
    boundary = secrets.token_hex(16)
    parts = [(first, last, (f"--{boundary}\r\nContent-Type: {row.content_type}\r\n"
                            f"Content-Range: bytes {first}-{last}/{row.size}\r\n\r\n").encode()) for first, last in ranges]
    closing = f"\r\n--{boundary}--".encode()
    length = sum(len(head) + last - first + 1 for first, last, head in parts) + 2 * (len(parts) - 1) + len(closing)

    async def body():
        for index, (first, last, head) in enumerate(parts):
            yield (b"\r\n" if index else b"") + head
            async for chunk in await service.open(row, first, last - first + 1):
                yield chunk
        yield closing

    headers = {**headers, "Content-Length": str(length),
               "Content-Type": f"multipart/byteranges;boundary={boundary}"}
    return StreamingResponse(body(), 206, headers, media_type=None)
