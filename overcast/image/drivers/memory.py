"""MemoryImageStore: image data in a dict. The fake every test and all-in-one demo can use.

It documents the semantics real stores follow (see ``base.py``): nothing is visible
before ``commit``; ``abort`` drops everything and is idempotent; ``abort`` after
``commit`` does nothing; a failed commit leaves nothing; ``open`` checks the location
eagerly; ``delete`` of a missing location succeeds. It is instant and deterministic.

Failure injection: ``fail_write_after=N`` makes a write that would take a writer past
N bytes raise ``OSError(ENOSPC)``; ``fail_commit=True`` makes every commit raise
``OSError(EIO)`` (after which the writer is aborted, as the contract says).
"""

from __future__ import annotations

import errno
import threading
from pathlib import Path
from typing import Iterator

from overcast.image.errors import ImageDataNotFound

from . import check_image_id
from .base import ImageStore, StoreWriter

SCHEME = "memory://"


class MemoryImageStore(ImageStore):
    """Bookkeeping, all public for tests: ``blobs`` (location -> bytes, committed data
    only), ``open_writers`` (writers neither committed nor aborted), ``commits`` and
    ``aborts`` (counts of writers that ended each way)."""

    name = "memory"

    def __init__(self, data_dir: Path | None = None, *, chunk_size: int = 1 << 20, fail_commit: bool = False,
                 fail_write_after: int | None = None):
        self.chunk_size = chunk_size
        self.fail_commit = fail_commit
        self.fail_write_after = fail_write_after
        self.blobs: dict[str, bytes] = {}
        self.commits = 0
        self.aborts = 0
        self._writers: set[_MemoryWriter] = set()
        self._lock = threading.Lock()

    @property
    def open_writers(self) -> int:
        return len(self._writers)

    def writer(self, image_id: str) -> StoreWriter:
        writer = _MemoryWriter(self, check_image_id(image_id))
        with self._lock:
            self._writers.add(writer)
        return writer

    def open(self, location: str, offset: int = 0, length: int | None = None) -> Iterator[bytes]:
        if offset < 0 or (length is not None and length < 0):
            raise ValueError(f"offset and length must not be negative (got {offset}, {length})")
        data = self.blobs.get(_check_location(location))
        if data is None:
            raise ImageDataNotFound()
        end = len(data) if length is None else min(len(data), offset + length)
        return (data[i:min(i + self.chunk_size, end)] for i in range(offset, end, self.chunk_size))

    def delete(self, location: str) -> None:
        with self._lock:
            self.blobs.pop(_check_location(location), None)

    def path(self, location: str) -> str | None:
        _check_location(location)
        return None

    def sweep(self, older_than: float = 3600.0) -> int:
        """Nothing outlives the process here, so there is never anything to sweep; 0."""
        return 0

    def _finish(self, writer: _MemoryWriter, data: bytes | None) -> str | None:
        with self._lock:
            self._writers.discard(writer)
            if data is None:
                self.aborts += 1
                return None
            location = SCHEME + writer.image_id
            self.blobs[location] = data
            self.commits += 1
            return location


class _MemoryWriter(StoreWriter):
    def __init__(self, store: MemoryImageStore, image_id: str):
        self.store = store
        self.image_id = image_id
        self.state = "open"
        self._chunks: list[bytes] = []
        self._size = 0
        self._lock = threading.Lock()

    def write(self, chunk: bytes) -> None:
        with self._lock:
            self._check_open()
            limit = self.store.fail_write_after
            if limit is not None and self._size + len(chunk) > limit:
                raise OSError(errno.ENOSPC, "No space left on device (injected by MemoryImageStore)")
            self._chunks.append(bytes(chunk))
            self._size += len(chunk)

    def commit(self) -> str:
        with self._lock:
            self._check_open()
            if self.store.fail_commit:
                self._drop()
                raise OSError(errno.EIO, "Input/output error (injected by MemoryImageStore)")
            location = self.store._finish(self, b"".join(self._chunks))
            self._chunks = []
            self.state = "committed"
            return location

    def abort(self) -> None:
        with self._lock:
            if self.state == "open":
                self._drop()

    def _drop(self) -> None:
        self._chunks = []
        self.state = "aborted"
        self.store._finish(self, None)

    def _check_open(self) -> None:
        if self.state != "open":
            raise ValueError(f"writer for image {self.image_id} is {self.state}")


def _check_location(location: str) -> str:
    if not location.startswith(SCHEME):
        raise ValueError(f"{location!r} is not a memory store location")
    check_image_id(location[len(SCHEME):])
    return location
