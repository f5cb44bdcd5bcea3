"""The upload pipeline: hashes, limits, cleanup on every failure, and streaming back."""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import time
import tracemalloc
import uuid

import pytest
from starlette.requests import ClientDisconnect

from overcast.image import upload
from overcast.image.drivers.file import FilesystemImageStore
from overcast.image.drivers.memory import MemoryImageStore
from overcast.image.errors import ImageDataNotFound, ImageSizeMismatch, ImageTooLarge

MiB = 1 << 20


@pytest.fixture
def file_store(tmp_path):
    return FilesystemImageStore(tmp_path)


@pytest.fixture(params=["file", "memory"])
def store(request, tmp_path):
    return FilesystemImageStore(tmp_path) if request.param == "file" else MemoryImageStore()


def leftovers(store) -> list:
    if isinstance(store, FilesystemImageStore):
        return os.listdir(store.root)
    return list(store.blobs) + ["<open writer>"] * store.open_writers


async def body(data: bytes, sizes=(1, 4093, 65536, 7, 300_001, 1 << 20, 2 << 20), fail_at: int | None = None,
               error: BaseException | None = None):
    """``data`` in odd-sized chunks (bytes, bytearray and memoryview); raises ``error`` at ``fail_at``."""
    rng = random.Random(7)
    offset = 0
    while offset < len(data):
        if fail_at is not None and offset >= fail_at:
            raise error
        size = rng.choice(sizes)
        chunk = data[offset:offset + size]
        offset += len(chunk)
        kind = rng.randrange(3)
        yield chunk if kind == 0 else bytearray(chunk) if kind == 1 else memoryview(chunk)
        await asyncio.sleep(0)
    if fail_at is not None:
        raise error


def new_id() -> str:
    return str(uuid.uuid4())


async def test_hashes_and_size_match_hashlib(store):
    data = os.urandom(5 * MiB + 12345)
    result = await upload.receive(body(data), store.writer(new_id()))
    assert result.size == len(data)
    assert result.checksum == hashlib.md5(data).hexdigest()
    assert result.os_hash_algo == "sha512"
    assert result.os_hash_value == hashlib.sha512(data).hexdigest()
    assert b"".join(store.open(result.location)) == data


async def test_empty_upload_commits_empty_image(store):
    result = await upload.receive(body(b""), store.writer(new_id()), expected_size=0)
    assert (result.size, result.checksum) == (0, hashlib.md5(b"").hexdigest())
    assert b"".join(store.open(result.location)) == b""


async def test_exact_limits_are_accepted(store):
    data = os.urandom(MiB + 1)
    result = await upload.receive(body(data), store.writer(new_id()), max_bytes=len(data), expected_size=len(data))
    assert result.size == len(data)


async def test_reused_chunk_buffer_is_not_corrupted(store):
    # a producer that refills one bytearray for every chunk (the writer must not keep a view of it)
    data = os.urandom(3 * MiB)

    async def reusing():
        buffer = bytearray(MiB)
        for offset in range(0, len(data), MiB):
            buffer[:] = data[offset:offset + MiB]
            yield buffer

    result = await upload.receive(reusing(), store.writer(new_id()))
    assert b"".join(store.open(result.location)) == data


async def test_client_disconnect_midway_aborts(store):
    data = os.urandom(4 * MiB)
    writer = store.writer(new_id())
    with pytest.raises(ClientDisconnect):
        await upload.receive(body(data, fail_at=3 * MiB, error=ClientDisconnect()), writer)
    assert leftovers(store) == []
    with pytest.raises(ValueError):
        writer.write(b"x")  # aborted


async def test_max_bytes_exceeded_raises_too_large_and_leaves_nothing(store):
    with pytest.raises(ImageTooLarge) as raised:
        await upload.receive(body(os.urandom(3 * MiB)), store.writer(new_id()), max_bytes=2 * MiB)
    assert raised.value.status == 413 and "2097152" in str(raised.value)
    assert leftovers(store) == []


async def test_more_than_expected_size_raises_mismatch_early(store):
    received = 0

    async def endless():
        nonlocal received
        while True:
            received += 65536
            yield bytes(65536)

    with pytest.raises(ImageSizeMismatch) as raised:
        await upload.receive(endless(), store.writer(new_id()), expected_size=MiB)
    assert raised.value.status == 400
    assert received == MiB + 65536
    assert leftovers(store) == []


async def test_less_than_expected_size_raises_mismatch(store):
    with pytest.raises(ImageSizeMismatch, match="Expected 3145728 bytes .* received 2097152"):
        await upload.receive(body(os.urandom(2 * MiB)), store.writer(new_id()), expected_size=3 * MiB)
    assert leftovers(store) == []


async def test_store_write_failure_aborts_and_reraises():
    store = MemoryImageStore(fail_write_after=2 * MiB)
    with pytest.raises(OSError, match="No space left"):
        await upload.receive(body(os.urandom(5 * MiB)), store.writer(new_id()))
    assert leftovers(store) == [] and store.aborts == 1


async def test_store_commit_failure_aborts_and_reraises():
    store = MemoryImageStore(fail_commit=True)
    with pytest.raises(OSError, match="Input/output error"):
        await upload.receive(body(os.urandom(MiB)), store.writer(new_id()))
    assert leftovers(store) == []


async def test_cancelled_upload_aborts_after_the_threads_finish(file_store):
    started = asyncio.Event()

    async def slow():
        yield os.urandom(2 * MiB)
        started.set()
        await asyncio.sleep(30)
        yield b"never"

    task = asyncio.create_task(upload.receive(slow(), file_store.writer(new_id())))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert leftovers(file_store) == []


async def test_event_loop_stays_responsive(file_store):
    data = os.urandom(64 * MiB)
    gaps = []

    async def ticker():
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    async def chunks():
        for offset in range(0, len(data), 65536):
            yield data[offset:offset + 65536]

    tick = asyncio.create_task(ticker())
    result = await upload.receive(chunks(), file_store.writer(new_id()))
    tick.cancel()
    assert result.size == len(data)
    assert len(gaps) > 10 and max(gaps) < 0.25  # hashing and writing never ran on the loop


async def test_memory_use_does_not_grow_with_image_size(file_store):
    async def generated():
        for _ in range(512):  # 32 MiB, made on the fly
            yield os.urandom(65536)

    tracemalloc.start()
    try:
        result = await upload.receive(generated(), file_store.writer(new_id()))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.size == 32 * MiB
    assert peak < 4 * MiB


async def test_stream_reads_back_a_range(store):
    data = os.urandom(3 * MiB + 5)
    result = await upload.receive(body(data), store.writer(new_id()))
    chunks = await upload.stream(lambda: store.open(result.location, MiB - 1, MiB + 10))
    assert b"".join([chunk async for chunk in chunks]) == data[MiB - 1:2 * MiB + 9]


async def test_stream_of_missing_location_raises_before_any_chunk(store):
    result = await upload.receive(body(b"abc"), store.writer(new_id()))
    store.delete(result.location)
    with pytest.raises(ImageDataNotFound):
        await upload.stream(lambda: store.open(result.location))


async def test_stream_stopped_early_closes_the_reader(file_store):
    result = await upload.receive(body(os.urandom(4 * MiB)), file_store.writer(new_id()))
    before = len(os.listdir("/proc/self/fd"))
    chunks = await upload.stream(lambda: file_store.open(result.location))
    assert len(await chunks.__anext__()) == MiB
    assert len(os.listdir("/proc/self/fd")) == before + 1
    await chunks.aclose()
    assert len(os.listdir("/proc/self/fd")) == before
