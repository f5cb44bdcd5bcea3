"""FilesystemImageStore: one file per image under ``<data_dir>/images/``.

An upload writes ``.<image id>.<random>.tmp`` in that directory (mode 0600), and
``commit`` fsyncs it, renames it to ``<image id>`` and fsyncs the directory, so a
crash leaves either the old state or the whole new file, never a torn one. Temp
files are hidden names that ``sweep()`` removes once they are old (start-up cleanup
after a crash). Locations are ``file://<absolute path>``; a location outside this
store's directory is refused (ValueError), so a tampered record cannot read or delete
other files.
"""

from __future__ import annotations

import errno
import logging
import mmap
import os
import re
import secrets
import threading
import time
from pathlib import Path
from typing import BinaryIO, Iterator

from overcast.image.errors import ImageDataNotFound

from . import check_image_id
from .base import ImageStore, StoreWriter

log = logging.getLogger(__name__)

SCHEME = "file://"
CHUNK_SIZE = 1 << 20
#: start the kernel's write-back after this many new bytes (see _FileWriter.write)
WRITEBACK_SIZE = 8 << 20
DIRECT_BUFFER = 1 << 20  # bytes gathered in a page-aligned buffer per O_DIRECT write
DIRECT_ALIGN = 4096  # O_DIRECT offsets and lengths are multiples of this
_TEMP_NAME = re.compile(r"\..+\.[0-9a-f]{16}\.tmp")


class FilesystemImageStore(ImageStore):
    name = "file"

    def __init__(self, data_dir: Path, *, chunk_size: int = CHUNK_SIZE, subdir: str = "images",
                 direct_io: bool = True):
        """``direct_io``: write full 1 MiB blocks with O_DIRECT (where the filesystem allows it),
        skipping the copy into the page cache; False writes through the page cache and starts
        the write-back every WRITEBACK_SIZE bytes, so commit's fsync finds little left (on this
        project's ext4 VM that is the faster of the two for one stream: bench/README.md)."""
        self.root = Path(data_dir).absolute() / subdir  # the object store keeps its blobs beside, in "objects"
        self.chunk_size = chunk_size
        self.direct_io = direct_io
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)

    def writer(self, image_id: str) -> StoreWriter:
        return _FileWriter(self.root, check_image_id(image_id), self.direct_io)

    def open(self, location: str, offset: int = 0, length: int | None = None) -> Iterator[bytes]:
        if offset < 0 or (length is not None and length < 0):
            raise ValueError(f"offset and length must not be negative (got {offset}, {length})")
        path = self._path(location)
        try:
            file = open(path, "rb", buffering=0)
        except FileNotFoundError:
            raise ImageDataNotFound() from None
        return _FileChunks(file, offset, length, self.chunk_size)

    def delete(self, location: str) -> None:
        self._path(location).unlink(missing_ok=True)

    def path(self, location: str) -> str | None:
        return str(self._path(location))

    def sweep(self, older_than: float = 3600.0) -> int:
        """Remove temp files not written to for ``older_than`` seconds; returns how many.

        A live upload touches its temp file with every write, so it is safe to run
        while other processes upload; if it does catch a stalled one, that upload's
        commit fails (its rename finds no file) and the client sees an error.
        """
        cutoff = time.time() - older_than
        removed = 0
        with os.scandir(self.root) as entries:
            for entry in entries:
                if not _TEMP_NAME.fullmatch(entry.name):
                    continue
                try:
                    if entry.stat(follow_symlinks=False).st_mtime <= cutoff:
                        os.unlink(entry.path)
                        removed += 1
                except FileNotFoundError:
                    continue
        if removed:
            log.info("removed %d leftover image upload file(s) from %s", removed, self.root)
        return removed

    def _path(self, location: str) -> Path:
        path = Path(location[len(SCHEME):]) if location.startswith(SCHEME) else None
        if path is None or path.parent != self.root or not _is_image_name(path.name):
            raise ValueError(f"{location!r} is not a location of the image store in {self.root}")
        return path


def _open_direct(path: Path) -> int | None:
    """A second descriptor on ``path`` with O_DIRECT, or None where the filesystem refuses
    it (tmpfs, some overlays) or the platform has no O_DIRECT."""
    flag = getattr(os, "O_DIRECT", 0)
    if not flag or os.environ.get("OVERCAST_IMAGE_NO_DIRECT_IO"):
        return None
    try:
        return os.open(path, os.O_WRONLY | flag)
    except OSError:
        return None


class _FileWriter(StoreWriter):
    def __init__(self, root: Path, image_id: str, direct_io: bool = True):
        self.root = root
        self.image_id = image_id
        self.temp = root / f".{image_id}.{secrets.token_hex(8)}.tmp"
        self.state = "open"
        self._lock = threading.Lock()
        self._written = self._flushed = 0
        self._file: BinaryIO | None = open(self.temp, "xb", buffering=0,
                                           opener=lambda path, flags: os.open(path, flags, 0o600))
        self._direct = _open_direct(self.temp) if direct_io else None
        self._staged = mmap.mmap(-1, DIRECT_BUFFER) if self._direct is not None else None
        self._pending = 0  # bytes waiting in the aligned buffer (direct mode)

    def write(self, chunk: bytes) -> None:
        with self._lock:
            self._check_open()
            view = memoryview(chunk).cast("B")
            if self._direct is not None:
                self._write_direct(view)
                return
            while view:
                written = self._file.write(view)
                self._written += written
                view = view[written:]
            if self._written - self._flushed >= WRITEBACK_SIZE:
                self._start_writeback()

    def _write_direct(self, view: memoryview) -> None:
        """Gather into the aligned buffer; each full buffer goes to disk with O_DIRECT,
        which skips the page cache (the copy into it is the costliest part of an upload)."""
        while view:
            taken = min(len(view), DIRECT_BUFFER - self._pending)
            self._staged[self._pending:self._pending + taken] = view[:taken]
            self._pending += taken
            view = view[taken:]
            if self._pending == DIRECT_BUFFER:
                self._flush_direct(DIRECT_BUFFER)

    def _flush_direct(self, length: int) -> None:
        done = 0
        while done < length:
            done += os.pwrite(self._direct, memoryview(self._staged)[done:length], self._written + done)
        self._written += length
        self._pending -= length
        if self._pending:  # keep the unaligned tail at the front of the buffer
            self._staged.move(0, length, self._pending)

    def _finish_direct(self) -> None:
        """Write what is left: the aligned part directly, the last partial block buffered."""
        aligned = self._pending - self._pending % DIRECT_ALIGN
        if aligned:
            self._flush_direct(aligned)
        if self._pending:
            tail = memoryview(self._staged)[:self._pending]
            done = 0
            while done < len(tail):
                done += os.pwrite(self._file.fileno(), tail[done:], self._written + done)
            self._written += self._pending
            self._pending = 0

    def _start_writeback(self) -> None:
        # Ask the kernel to start writing the new range now (WB_SYNC_NONE: does not wait, and
        # dirty pages stay cached), so commit's fsync finds little left to do. Just a hint.
        try:
            os.posix_fadvise(self._file.fileno(), self._flushed, self._written - self._flushed,
                             os.POSIX_FADV_DONTNEED)
        except OSError:
            pass
        self._flushed = self._written

    def commit(self) -> str:
        with self._lock:
            self._check_open()
            final = self.root / self.image_id
            renamed = False
            try:
                if self._direct is not None:
                    self._finish_direct()
                os.fsync(self._file.fileno())
                self._close()
                os.replace(self.temp, final)
                renamed = True
                _fsync_dir(self.root)
            except BaseException:
                self._discard(final if renamed else self.temp)
                raise
            self.state = "committed"
            return SCHEME + str(final)

    def abort(self) -> None:
        with self._lock:
            if self.state == "open":
                self._discard(self.temp)

    def _discard(self, path: Path) -> None:
        self.state = "aborted"
        try:
            self._close()
        except OSError:
            pass
        try:
            path.unlink(missing_ok=True)
        except OSError as error:  # e.g. EACCES: leave it for sweep(), never mask the caller's error
            log.warning("could not remove %s: %s", path, error)

    def _close(self) -> None:
        file, self._file = self._file, None
        direct, self._direct = self._direct, None
        staged, self._staged = self._staged, None
        if direct is not None:
            os.close(direct)
        if staged is not None:
            staged.close()
        if file is not None:
            file.close()

    def _check_open(self) -> None:
        if self.state != "open":
            raise ValueError(f"writer for image {self.image_id} is {self.state}")


class _FileChunks:
    """Iterator over part of an open file; closes it at the end or on ``close()``."""

    def __init__(self, file: BinaryIO, offset: int, length: int | None, chunk_size: int):
        self._file = file
        self._remaining = length
        self._chunk_size = chunk_size
        try:
            file.seek(offset)
        except BaseException:
            file.close()
            raise
        try:
            os.posix_fadvise(file.fileno(), offset, length or 0, os.POSIX_FADV_SEQUENTIAL)
        except OSError:
            pass  # only a read-ahead hint

    def __iter__(self) -> _FileChunks:
        return self

    def __next__(self) -> bytes:
        if self._file is None or self._remaining == 0:
            self.close()
            raise StopIteration
        size = self._chunk_size if self._remaining is None else min(self._chunk_size, self._remaining)
        data = self._file.read(size)
        if not data:
            self.close()
            raise StopIteration
        if self._remaining is not None:
            self._remaining -= len(data)
        return data

    def close(self) -> None:
        file, self._file = self._file, None
        if file is not None:
            file.close()


def _is_image_name(name: str) -> bool:
    try:
        check_image_id(name)
    except ValueError:
        return False
    return True


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    except OSError as error:
        if error.errno != errno.EINVAL:  # some filesystems cannot fsync a directory
            raise
    finally:
        os.close(fd)
