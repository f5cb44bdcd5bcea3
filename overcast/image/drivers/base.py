"""The ImageStore contract: where image bytes live.

Vocabulary: a *location* is an opaque string the store hands back when an upload is
committed (``file:///...`` for the file store, ``memory://<image id>`` for the memory
store); the image service keeps it in its table and gives it back to ``open``/``delete``.
Locations never leave the service in API responses unless the operator asks for them.
A location a store did not issue (another scheme, another directory) is a ValueError:
it means a corrupt record or a changed configuration, never missing data.

Writing goes through a :class:`StoreWriter`: ``write`` chunks, then ``commit`` (the
bytes become visible at the returned location, durably) or ``abort`` (everything written
is gone). A writer that is neither committed nor aborted leaves nothing visible; the
file store's ``sweep()`` removes what a crashed process left behind.

Image ids are used in names: ``writer`` accepts ``[A-Za-z0-9][A-Za-z0-9._-]{0,254}``
(UUIDs in practice) and raises ValueError otherwise. One image has at most one location
per store; committing a second writer for the same id replaces the data (last commit
wins), so the image service must let only one upload per image run at a time.

Threading: store methods and writer methods block and are called from worker threads.
A writer's methods may be called from different threads, one call at a time; ``abort``
may run concurrently with a ``write`` and waits for it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Iterator


class StoreWriter(ABC):
    """One upload in progress. States: open -> committed | aborted (both final)."""

    @abstractmethod
    def write(self, chunk: bytes) -> None:
        """Append ``chunk`` (any bytes-like object; the writer does not keep a reference
        to a mutable one). Blocks on disk I/O (about chunk size / disk bandwidth); call it
        from a worker thread. Raises OSError when the backend fails (e.g. ENOSPC) and
        ValueError once the writer is committed or aborted."""

    @abstractmethod
    def commit(self) -> str:
        """Make the data durable and visible; returns its location. Blocks (fsync:
        up to seconds for a large image on a slow disk). Raises ValueError if the writer
        is not open. On failure it raises OSError and leaves nothing behind (the writer
        is then aborted), so calling ``abort`` after a failed commit is safe."""

    @abstractmethod
    def abort(self) -> None:
        """Drop everything written. Idempotent; never raises for a missing temp file.
        After a successful ``commit`` it does nothing (committed data is only removed
        by ``ImageStore.delete``). Fast (one unlink)."""


class ImageStore(ABC):
    """Stores and serves image data by image id. Implementations: memory, file."""

    name = "base"

    @abstractmethod
    def writer(self, image_id: str) -> StoreWriter:
        """A new writer for ``image_id``'s data (nothing is visible until commit).
        Raises ValueError for an id that is not a safe name; OSError if the backend
        cannot start the upload. Fast (creates a temp file)."""

    @abstractmethod
    def open(self, location: str, offset: int = 0, length: int | None = None) -> Iterator[bytes]:
        """The bytes at ``location`` from ``offset`` (``length`` bytes, or to the end), in
        chunks. Raises ImageDataNotFound when the location is gone -- eagerly, from this
        call, so a caller can answer 404 before it starts a response. An ``offset`` past
        the end yields nothing; a negative ``offset`` or ``length`` is a ValueError.
        Blocking iterator; its ``close()`` releases the file when the reader stops early."""

    @abstractmethod
    def delete(self, location: str) -> None:
        """Remove the data. Idempotent: a missing location is not an error. Fast."""

    @abstractmethod
    def path(self, location: str) -> str | None:
        """A local filesystem path for the data when the store has one (for qemu-img), else None.
        Does not check that the data exists."""
