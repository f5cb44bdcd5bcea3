"""A streaming reader of multipart/form-data bodies (RFC 7578), for form POST uploads.

Parts come one at a time with their headers; a part's body is an async iterator of
chunks that never holds more than one incoming chunk plus a delimiter's length, so a
file of any size streams through to the store. A part must be read (or skipped with
``drain``) before the next one is asked for.
"""

from __future__ import annotations

from email.message import Message


class MimeInvalid(ValueError):
    """The body does not start with the boundary, or ends before its closing delimiter."""


class Part:
    def __init__(self, reader: MultipartReader, headers: Message):
        self.headers = headers
        self._reader = reader
        self.done = False

    @property
    def disposition(self) -> str:
        return self.headers.get_content_disposition() or ""

    @property
    def name(self) -> str | None:
        return self.headers.get_param("name", header="content-disposition")

    @property
    def filename(self) -> str | None:
        return self.headers.get_param("filename", header="content-disposition")

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")

    async def chunks(self):
        """The body's bytes, in chunks, up to the next delimiter."""
        async for chunk in self._reader.body():
            yield chunk
        self.done = True

    async def read(self, limit: int) -> bytes:
        """At most ``limit`` bytes of the body; the rest is skipped."""
        data = bytearray()
        async for chunk in self.chunks():
            if len(data) < limit:
                data += chunk[:limit - len(data)]
        return bytes(data)

    async def drain(self) -> None:
        if not self.done:
            async for _ in self.chunks():
                pass


class MultipartReader:
    def __init__(self, stream, boundary: str):
        self._stream = stream.__aiter__()
        self._buffer = b""
        self._delimiter = b"\r\n--" + boundary.encode("latin-1")
        self._eof = False
        self._started = False
        self._finished = False
        self._part: Part | None = None

    async def _fill(self) -> bool:
        if self._eof:
            return False
        try:
            self._buffer += await self._stream.__anext__()
        except StopAsyncIteration:
            self._eof = True
            return False
        return True

    async def _line(self, limit: int = 16384) -> bytes:
        while b"\r\n" not in self._buffer:
            if len(self._buffer) > limit or not await self._fill():
                raise MimeInvalid("invalid starting boundary")
        line, self._buffer = self._buffer.split(b"\r\n", 1)
        return line

    async def next_part(self) -> Part | None:
        """The next part (its headers read), or None after the closing delimiter."""
        if self._part is not None:
            await self._part.drain()
        if self._finished:
            return None
        if not self._started:
            self._started = True
            if (await self._line()).strip() != self._delimiter[2:]:
                raise MimeInvalid("invalid starting boundary")
        else:  # the body stopped right before the delimiter
            self._buffer = self._buffer[len(self._delimiter):]
            while len(self._buffer) < 2 and await self._fill():
                pass
            if self._buffer.startswith(b"--"):
                self._finished = True
                return None
            await self._line()  # the rest of the delimiter line (transport padding)
        raw = []
        while line := await self._line():
            raw.append(line.decode("utf-8", "surrogateescape"))
        headers = Message()
        for line in raw:
            key, _, value = line.partition(":")
            headers[key.strip()] = value.strip()
        self._part = Part(self, headers)
        return self._part

    async def body(self):
        keep = len(self._delimiter)
        while True:
            found = self._buffer.find(self._delimiter)
            if found >= 0:
                if found:
                    yield self._buffer[:found]
                self._buffer = self._buffer[found:]
                return
            if len(self._buffer) > keep:
                yield self._buffer[:-keep]
                self._buffer = self._buffer[-keep:]
            if not await self._fill():
                raise MimeInvalid("the body ends inside a part")
