"""The image data path between the API and an ImageStore, without blocking the event loop.

``receive`` takes the request body as it arrives, copies it into 1 MiB buffers and
hands each full buffer to its lanes, one worker thread call at a time per lane: one lane
updates the md5 (Glance's ``checksum``), one the sha512 (``os_hash_value``), one writes
to the store. hashlib and file writes release the GIL on buffers this size, so receiving
the next buffer, hashing and writing run at the same time on different cores. The lanes
do not wait for each other: a buffer goes back to the pool once every lane is done with
it, so a lane that is briefly slower (a write that waits for the disk) holds back the
others only when all ``BUFFERS`` buffers are waiting for it. An upload holds at most
``BUFFERS`` MiB whatever its size and allocates nothing per buffer.

``stream`` serves a store's blocking ``open()`` iterator to a StreamingResponse.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import deque
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import AsyncIterator, Callable, Iterator

from overcast.image.drivers.base import StoreWriter
from overcast.image.errors import ImageSizeMismatch, ImageTooLarge

#: bytes handed to the worker threads at a time
BUFFER_SIZE = 1 << 20
#: buffers an upload may fill ahead of its slowest lane
BUFFERS = 3


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
    works = (md5.update, sha.update, writer.write) if sha512 else (md5.update, writer.write)
    # a body known to be small gets buffers its size: 1 MiB per 4 KiB object costs time
    capacity = BUFFER_SIZE if expected_size is None else max(1, min(BUFFER_SIZE, expected_size))
    pool = _Pool(loop, capacity, len(works))
    lanes = [_Lane(loop, executor, work, pool) for work in works]
    store = lanes[-1]
    size = 0
    buffer, filled = None, 0
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
                if buffer is None:
                    buffer, filled = await pool.take(lanes), 0
                taken = min(len(view), capacity - filled)
                buffer[filled:filled + taken] = view[:taken]
                filled += taken
                view = view[taken:]
                if filled == capacity:
                    for lane in lanes:
                        lane.push(buffer, buffer)
                    buffer = None
        if expected_size is not None and size != expected_size:
            raise ImageSizeMismatch(expected_size, size)
        if buffer is not None and filled:
            last = memoryview(buffer)[:filled]
            for lane in lanes:
                lane.push(last, buffer)
        for lane in lanes:
            await lane.drain()
        location = await store.call(writer.commit)
    except BaseException:
        await asyncio.shield(_abort(writer, lanes, loop, executor))
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


class _Pool:
    """Up to BUFFERS buffers of ``capacity`` bytes, made when first needed; a buffer
    handed to the lanes comes back once each of the ``users`` lanes has released it."""

    def __init__(self, loop: asyncio.AbstractEventLoop, capacity: int, users: int):
        self._loop = loop
        self._capacity = capacity
        self._users = users
        self._made = 0
        self._free: list[bytearray] = []
        self._holds: dict[int, int] = {}  # id(buffer) -> lanes not done with it
        self._waiter: asyncio.Future | None = None

    async def take(self, lanes: list[_Lane]) -> bytearray:
        """A free buffer; waits while all are with the lanes; raises a lane's error."""
        while True:
            for lane in lanes:
                lane.check()
            if self._free:
                buffer = self._free.pop()
            elif self._made < BUFFERS:
                self._made += 1
                buffer = bytearray(self._capacity)
            else:
                self._waiter = self._loop.create_future()
                await self._waiter
                continue
            self._holds[id(buffer)] = self._users
            return buffer

    def release(self, buffer: bytearray) -> None:
        left = self._holds[id(buffer)] - 1
        if left:
            self._holds[id(buffer)] = left
            return
        del self._holds[id(buffer)]
        self._free.append(buffer)
        self.wake()

    def wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)


class _Lane:
    """Calls of one function on the buffers pushed, run one at a time, in order, in
    worker threads; ``push`` never waits. After a call fails the lane runs nothing more
    and ``check``/``drain`` raise its error. Calls in threads cannot be stopped: ``settle``
    waits for the one in flight, whatever happens to the task that pushed it."""

    def __init__(self, loop: asyncio.AbstractEventLoop, executor: Executor | None, work: Callable, pool: _Pool):
        self._loop = loop
        self._executor = executor
        self._work = work
        self._pool = pool
        self._queue: deque = deque()
        self._running: asyncio.Future | None = None
        self._error: BaseException | None = None
        self._idle: asyncio.Future | None = None

    def push(self, data, buffer: bytearray) -> None:
        """Queue ``work(data)``; ``buffer`` (holding ``data``) goes back to the pool after."""
        self._queue.append((data, buffer))
        self._next()

    def _next(self) -> None:
        if self._running is not None:
            return
        if self._error is not None:
            while self._queue:
                self._pool.release(self._queue.popleft()[1])
        if not self._queue:
            if self._idle is not None and not self._idle.done():
                self._idle.set_result(None)
            return
        data, buffer = self._queue.popleft()
        self._running = self._loop.run_in_executor(self._executor, self._work, data)
        self._running.add_done_callback(lambda done: self._finished(done, buffer))

    def _finished(self, done: asyncio.Future, buffer: bytearray) -> None:
        self._running = None
        if self._error is None:
            self._error = asyncio.CancelledError() if done.cancelled() else done.exception()
        elif not done.cancelled():
            done.exception()  # retrieved: no "never retrieved" warning
        self._pool.release(buffer)
        if self._error is not None:
            self._pool.wake()  # a receive waiting for a buffer learns of the error now
        self._next()

    def check(self) -> None:
        if self._error is not None:
            raise self._error

    async def drain(self) -> None:
        """Wait until every call pushed has run; raises the lane's error."""
        while self._running is not None or self._queue:
            self._idle = self._loop.create_future()
            await asyncio.shield(self._idle)
        self.check()

    async def call(self, fn: Callable, *args):
        """Run one more call in this lane (after the queued ones) and return its result."""
        await self.drain()
        self._running = self._loop.run_in_executor(self._executor, fn, *args)
        try:
            return await asyncio.shield(self._running)
        finally:
            if self._running is not None and self._running.done():
                self._running = None

    async def settle(self) -> None:
        """Drop what is queued and wait for the call in flight to end, ignoring its outcome."""
        while self._queue:
            self._pool.release(self._queue.popleft()[1])
        running = self._running
        if running is not None:
            await asyncio.wait([running])
            if not running.cancelled():
                running.exception()  # retrieved: no "never retrieved" warning
            if self._running is running:
                self._running = None


async def _abort(writer: StoreWriter, lanes: list[_Lane], loop: asyncio.AbstractEventLoop,
                 executor: Executor | None) -> None:
    for lane in lanes:
        await lane.settle()
    await loop.run_in_executor(executor, writer.abort)
