"""The streaming multipart/form-data reader: parts, headers and bodies, whatever the chunking."""

from __future__ import annotations

import asyncio

import pytest

from overcast.objectstore.api.multipart import MimeInvalid, MultipartReader

BODY = (b"--XyZ\r\n"
        b'Content-Disposition: form-data; name="redirect"\r\n\r\n'
        b"https://example.com/\r\n"
        b"--XyZ\r\n"
        b'Content-Disposition: form-data; name="file1"; filename="a b.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\n"
        b"line one\r\n--XyQ\r\n--Xy\r\n"
        b"--XyZ\r\n"
        b'Content-Disposition: form-data; name="empty"\r\n\r\n'
        b"\r\n"
        b"--XyZ--\r\n")


async def _chunks(data: bytes, size: int):
    for start in range(0, len(data), size):
        yield data[start:start + size]


async def _parts(data: bytes, size: int, boundary: str = "XyZ") -> list[tuple[str, str | None, str | None, bytes]]:
    reader = MultipartReader(_chunks(data, size), boundary)
    found = []
    while (part := await reader.next_part()) is not None:
        body = b"".join([chunk async for chunk in part.chunks()])
        found.append((part.name, part.filename, part.content_type, body))
    return found


@pytest.mark.parametrize("size", [1, 2, 3, 7, 16, 1000])
def test_parts_read_the_same_whatever_the_chunk_size(size):
    assert asyncio.run(_parts(BODY, size)) == [
        ("redirect", None, None, b"https://example.com/"),
        ("file1", "a b.txt", "text/plain", b"line one\r\n--XyQ\r\n--Xy"),
        ("empty", None, None, b""),
    ]


def test_unread_parts_are_skipped():
    async def names():
        reader = MultipartReader(_chunks(BODY, 5), "XyZ")
        found = []
        while (part := await reader.next_part()) is not None:
            found.append(part.name)
        return found

    assert asyncio.run(names()) == ["redirect", "file1", "empty"]


def test_read_cuts_at_the_limit():
    async def first():
        reader = MultipartReader(_chunks(BODY, 4), "XyZ")
        await reader.next_part()
        part = await reader.next_part()
        return await part.read(4), (await reader.next_part()).name

    assert asyncio.run(first()) == (b"line", "empty")


def test_bad_starts_and_truncated_bodies_are_invalid():
    with pytest.raises(MimeInvalid):
        asyncio.run(_parts(b"no boundary here\r\n", 8))
    with pytest.raises(MimeInvalid):
        asyncio.run(_parts(BODY, 8, boundary="Other"))
    with pytest.raises(MimeInvalid):
        asyncio.run(_parts(BODY[:120], 8))
