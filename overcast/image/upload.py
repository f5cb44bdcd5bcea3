"""The image data path between the API and an ImageStore, without blocking the event loop.

``receive`` takes the request body as it arrives, copies it into 1 MiB buffers and
hands each full buffer to three worker threads: one updates the md5 (Glance's
``checksum``), one the sha512 (``os_hash_value``), one writes to the store.
hashlib and file writes release the GIL on buffers this size, so receiving the next
buffer, hashing and writing the current one run at the same time on different cores.
Two buffers take turns (one being filled, one with the threads), so an upload holds
2 MiB whatever its size and allocates nothing per buffer.

``stream`` serves a store's blocking ``open()`` iterator to a StreamingResponse.
"""

from __future__ import annotations

import asyncio
import hashlib
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import AsyncIterator, Callable, Iterator

from overcast.image.drivers.base import StoreWriter
from overcast.image.errors import ImageSizeMismatch, ImageTooLarge

#: bytes handed to the worker threads at a time
BUFFER_SIZE = 1 << 20


@dataclass(frozen=True)
class UploadResult:
    size: int
    checksum: str  # md5 hex, Glance's legacy ``checksum``
    os_hash_algo: str  # always "sha512" (Glance's default hashing_algorithm)
    os_hash_value: str
    location: str


async def receive(chunks: AsyncIterator[bytes], writer: StoreWriter, max_bytes: int | None = None,
                  expected_size: int | None = None, *, executor: Executor | None = None,
                  sha512: bool = True) -> UploadResult:
    """Hash and store ``chunks``; commit the writer and return sizes, hashes and location.

    Raises ImageTooLarge as soon as more than ``max_bytes`` arrived, ImageSizeMismatch
    when the total differs from ``expected_size`` (early, once it is exceeded), and
    passes on anything else (ClientDisconnect from the body, OSError from the store,
    CancelledError). On every failure the writer is aborted once the worker threads are
    idle, so nothing is left in the store. One exception: a cancellation that lands while
    ``commit`` runs lets the commit finish (threads cannot be stopped), so the data stays
    at the image's location; the next upload of that image replaces it. Threads come from
    ``executor`` (default: the loop's default executor); an upload uses at most three.
    ``sha512=False`` skips that hash (``os_hash_value`` is then ""): Swift objects need md5 only.
    """
    loop = asyncio.get_running_loop()
    md5, sha = hashlib.md5(), hashlib.sha512()
    # three lanes, one job at a time each: md5, sha512 and the store's write all work on
    # the same buffer at once, so an upload goes at the pace of the slowest of them
    works = (md5.update, sha.update, writer.write) if sha512 else (md5.update, writer.write)
    lanes = [(_Lane(loop, executor), work) for work in works]
    store = lanes[-1][0]
    size = 0
    # two buffers in turn: while the lanes work on one, the other fills (a submit waits
    # for its lane to finish the previous buffer, so after all three it is free to refill)
    # (a body known to be small gets buffers its size: 2 MiB per 4 KiB object costs a millisecond)
    capacity = BUFFER_SIZE if expected_size is None else max(1, min(BUFFER_SIZE, expected_size))
    buffers = [bytearray(capacity), bytearray(capacity)]
    buffer, filled = buffers[0], 0
    try:
        async for chunk in chunks:
            view = memoryview(chunk).cast("B")
            if not view:
                continue
            size += len(view)
            if max_bytes is not None and size > max_bytes:
                raise ImageTooLarge(max_bytes)
            if expected_size is not None and size > expected_size:
                raise ImageSizeMismatch(expected_size)
            while view:
                taken = min(len(view), capacity - filled)
                buffer[filled:filled + taken] = view[:taken]
                filled += taken
                view = view[taken:]
                if filled == capacity:
                    for lane, work in lanes:
                        await lane.submit(work, buffer)
                    buffers.reverse()
                    buffer, filled = buffers[0], 0
        if expected_size is not None and size != expected_size:
            raise ImageSizeMismatch(expected_size, size)
        if filled:
            last = memoryview(buffer)[:filled]
            for lane, work in lanes:
                await lane.submit(work, last)
        await store.submit(writer.commit)
        location = await store.result()
        for lane, _ in lanes[:-1]:
            await lane.result()
    except BaseException:
        await asyncio.shield(_abort(writer, [lane for lane, _ in lanes], loop, executor))
        raise
    return UploadResult(size, md5.hexdigest(), "sha512", sha.hexdigest() if sha512 else "", location)


async def stream(open_chunks: Callable[[], Iterator[bytes]], *,
                 executor: Executor | None = None) -> AsyncIterator[bytes]:
    """Call ``open_chunks`` (e.g. ``lambda: store.open(location, offset, length)``) in a
    worker thread and return an async iterator over its chunks for a StreamingResponse.

    Opening happens here, so ImageDataNotFound raises before a response starts. Each
    chunk is read in a worker thread (one hop per chunk, ~1 MiB). When the consumer
    stops early (client gone) the blocking iterator is closed, releasing its file.
    """
    loop = asyncio.get_running_loop()
    blocking = await loop.run_in_executor(executor, open_chunks)
    return _iterate(blocking, loop, executor)


_END = object()


async def _iterate(blocking: Iterator[bytes], loop: asyncio.AbstractEventLoop,
                   executor: Executor | None) -> AsyncIterator[bytes]:
    pending: asyncio.Future | None = None
    try:
        while True:
            pending = loop.run_in_executor(executor, next, blocking, _END)
            chunk = await asyncio.shield(pending)
            if chunk is _END:
                return
            yield chunk
    finally:
        if pending is not None and not pending.done():
            await asyncio.wait([pending])  # never close the iterator under a running next()
            if not pending.cancelled():
                pending.exception()  # retrieved: no "never retrieved" warning
        close = getattr(blocking, "close", None)
        if close is not None:
            close()


class _Lane:
    """Calls run one at a time, in submission order, in a worker thread.

    ``submit`` waits for the previous call (raising its error) before starting the next,
    so at most one call per lane is in flight. Calls are shielded: cancelling the task
    that awaits them does not lose track of a call still running in its thread.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, executor: Executor | None):
        self._loop = loop
        self._executor = executor
        self._pending: asyncio.Future | None = None

    async def submit(self, fn: Callable, *args) -> None:
        await self.result()
        self._pending = self._loop.run_in_executor(self._executor, fn, *args)

    async def result(self):
        """Wait for the call in flight, if any, and return its result."""
        if self._pending is None:
            return None
        value = await asyncio.shield(self._pending)
        self._pending = None
        return value

    async def settle(self) -> None:
        """Wait for the call in flight to end, ignoring its outcome."""
        if self._pending is not None:
            await asyncio.wait([self._pending])
            if not self._pending.cancelled():
                self._pending.exception()  # retrieved: no "never retrieved" warning
            self._pending = None


async def _abort(writer: StoreWriter, lanes: tuple[_Lane, ...], loop: asyncio.AbstractEventLoop,
                 executor: Executor | None) -> None:
    for lane in lanes:
        await lane.settle()
    await loop.run_in_executor(executor, writer.abort)
