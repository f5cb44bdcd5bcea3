"""One behaviour suite for every ImageStore: the memory fake and the file store.

``ImageStoreContract`` holds the behaviours; each implementation subclasses it with a
``store`` fixture and ``leftovers()``, which lists whatever the store still holds
(committed data and upload temporaries), so "leaves nothing" means the same for both.
Store-specific behaviours (temp names, permissions, sweep) live in the subclasses.
"""

from __future__ import annotations

import os
import stat
import time
import uuid

import pytest

from overcast.image.drivers import UnknownImageStore, make_store
from overcast.image.drivers.file import FilesystemImageStore
from overcast.image.drivers.memory import MemoryImageStore
from overcast.image.errors import ImageDataNotFound

MiB = 1 << 20


def new_id() -> str:
    return str(uuid.uuid4())


def payload(size: int) -> bytes:
    return os.urandom(size)


def put(store, data: bytes, image_id: str | None = None, chunk: int = 100_000) -> str:
    writer = store.writer(image_id or new_id())
    for i in range(0, len(data), chunk):
        writer.write(data[i:i + chunk])
    return writer.commit()


def read(store, location: str, offset: int = 0, length: int | None = None) -> bytes:
    return b"".join(store.open(location, offset, length))


class ImageStoreContract:
    def leftovers(self, store) -> list:
        raise NotImplementedError

    def test_write_commit_open_round_trip(self, store):
        data = payload(3 * MiB + 17)
        location = put(store, data)
        assert isinstance(location, str) and location
        assert read(store, location) == data
        assert all(len(chunk) <= MiB for chunk in store.open(location))

    def test_empty_image_round_trip(self, store):
        location = put(store, b"")
        assert read(store, location) == b""

    def test_open_with_offset_and_length(self, store):
        data = payload(2 * MiB + 5)
        location = put(store, data)
        for offset, length in [(0, 10), (1, None), (MiB - 3, 7), (MiB, MiB + 5), (2 * MiB, 100), (0, 0),
                               (len(data), None), (len(data) + 10, 5)]:
            assert read(store, location, offset, length) == data[offset:None if length is None else offset + length]

    def test_open_with_negative_offset_or_length_is_rejected(self, store):
        location = put(store, b"abc")
        with pytest.raises(ValueError):
            store.open(location, -1)
        with pytest.raises(ValueError):
            store.open(location, 0, -1)

    def test_abort_leaves_nothing(self, store):
        writer = store.writer(new_id())
        writer.write(payload(MiB))
        writer.abort()
        assert self.leftovers(store) == []

    def test_abort_is_idempotent(self, store):
        writer = store.writer(new_id())
        writer.write(b"x")
        writer.abort()
        writer.abort()
        assert self.leftovers(store) == []

    def test_write_or_commit_after_abort_is_rejected(self, store):
        writer = store.writer(new_id())
        writer.abort()
        with pytest.raises(ValueError):
            writer.write(b"x")
        with pytest.raises(ValueError):
            writer.commit()

    def test_abort_after_commit_keeps_the_data(self, store):
        writer = store.writer(new_id())
        writer.write(b"kept")
        location = writer.commit()
        writer.abort()
        assert read(store, location) == b"kept"

    def test_uncommitted_writer_leaves_nothing_visible(self, store):
        image_id = new_id()
        committed = put(store, b"other image")
        writer = store.writer(image_id)
        writer.write(b"half an upload")
        probe = store.writer(image_id)
        probe.write(b"y")
        location = probe.commit()
        store.delete(location)
        with pytest.raises(ImageDataNotFound):
            store.open(location)
        writer.abort()
        assert self.leftovers(store) == self.visible(store, [committed])

    def test_recommit_same_image_replaces_data(self, store):
        image_id = new_id()
        first = put(store, b"first", image_id)
        second = put(store, b"second", image_id)
        assert first == second
        assert read(store, second) == b"second"

    def test_delete_is_idempotent(self, store):
        location = put(store, b"data")
        store.delete(location)
        store.delete(location)
        assert self.leftovers(store) == []

    def test_open_of_missing_location_raises(self, store):
        location = put(store, b"data")
        store.delete(location)
        with pytest.raises(ImageDataNotFound):
            store.open(location)

    def test_foreign_location_is_rejected(self, store):
        for location in ("http://example.com/x", "file:///etc/passwd", "memory://../x", "rbd://pool/image"):
            for call in (store.open, store.delete, store.path):
                with pytest.raises(ValueError):
                    call(location)

    @pytest.mark.parametrize("image_id", ["", ".hidden", "../escape", "a/b", "x\0y", "a" * 256])
    def test_unsafe_image_id_is_rejected(self, store, image_id):
        with pytest.raises(ValueError):
            store.writer(image_id)
        assert self.leftovers(store) == []

    def test_reader_closed_early_releases_it(self, store):
        location = put(store, payload(3 * MiB))
        chunks = store.open(location)
        next(chunks)
        chunks.close()
        store.delete(location)
        assert self.leftovers(store) == []

    def visible(self, store, locations: list[str]) -> list:
        return sorted(locations)


class TestMemoryImageStore(ImageStoreContract):
    @pytest.fixture
    def store(self):
        return MemoryImageStore()

    def leftovers(self, store) -> list:
        return sorted(store.blobs) + ["<open writer>"] * store.open_writers

    def test_bookkeeping_counts_commits_and_aborts(self, store):
        put(store, b"a")
        store.writer(new_id()).abort()
        writer = store.writer(new_id())
        assert (store.commits, store.aborts, store.open_writers) == (1, 1, 1)
        writer.abort()
        assert store.open_writers == 0

    def test_fail_write_after_raises_enospc(self):
        store = MemoryImageStore(fail_write_after=10)
        writer = store.writer(new_id())
        writer.write(b"0123456789")
        with pytest.raises(OSError) as raised:
            writer.write(b"x")
        assert raised.value.errno == 28
        writer.abort()
        assert self.leftovers(store) == []

    def test_fail_commit_leaves_nothing(self):
        store = MemoryImageStore(fail_commit=True)
        writer = store.writer(new_id())
        writer.write(b"data")
        with pytest.raises(OSError):
            writer.commit()
        writer.abort()
        assert self.leftovers(store) == [] and store.aborts == 1

    def test_has_no_path(self, store):
        assert store.path(put(store, b"x")) is None


class TestFilesystemImageStore(ImageStoreContract):
    @pytest.fixture
    def store(self, tmp_path):
        return FilesystemImageStore(tmp_path)

    def leftovers(self, store) -> list:
        return sorted(os.listdir(store.root))

    def visible(self, store, locations: list[str]) -> list:
        return sorted(os.path.basename(store.path(location)) for location in locations)

    def test_directory_is_private(self, store, tmp_path):
        assert store.root == tmp_path / "images"
        assert stat.S_IMODE(os.stat(store.root).st_mode) == 0o700

    def test_location_is_file_url_of_committed_file(self, store):
        image_id = new_id()
        location = put(store, b"data", image_id)
        path = store.root / image_id
        assert location == f"file://{path}"
        assert store.path(location) == str(path)
        assert path.read_bytes() == b"data"
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600

    def test_writer_uses_hidden_temp_file_in_same_directory(self, store):
        image_id = new_id()
        writer = store.writer(image_id)
        writer.write(b"partial")
        (name,) = os.listdir(store.root)
        assert name.startswith(f".{image_id}.") and name.endswith(".tmp")
        writer.abort()

    def test_sweep_removes_only_old_temp_files(self, store):
        old = store.writer(new_id())
        old.write(b"crashed upload")
        (old_name,) = os.listdir(store.root)
        past = time.time() - 7200
        os.utime(store.root / old_name, (past, past))
        live = store.writer(new_id())
        live.write(b"live upload")
        kept = put(store, b"committed")
        os.utime(store.path(kept), (past, past))
        assert store.sweep(older_than=3600) == 1
        assert old_name not in os.listdir(store.root)
        assert len(os.listdir(store.root)) == 2
        live.abort()
        assert read(store, kept) == b"committed"

    def test_commit_after_sweep_fails_and_leaves_nothing(self, store):
        writer = store.writer(new_id())
        writer.write(b"stalled")
        assert store.sweep(older_than=-1) == 1
        with pytest.raises(FileNotFoundError):
            writer.commit()
        writer.abort()
        assert self.leftovers(store) == []

    def test_reader_closes_its_file_at_the_end_and_on_close(self, store):
        location = put(store, payload(3 * MiB))
        before = len(os.listdir("/proc/self/fd"))
        chunks = store.open(location, MiB)
        next(chunks)
        assert len(os.listdir("/proc/self/fd")) == before + 1
        chunks.close()
        assert len(os.listdir("/proc/self/fd")) == before
        assert len(b"".join(store.open(location))) == 3 * MiB
        assert len(os.listdir("/proc/self/fd")) == before

    def test_location_from_another_directory_is_rejected(self, store, tmp_path):
        other = FilesystemImageStore(tmp_path / "elsewhere")
        location = put(other, b"x")
        with pytest.raises(ValueError):
            store.open(location)


def test_make_store_resolves_aliases(tmp_path):
    assert isinstance(make_store("file", tmp_path), FilesystemImageStore)
    assert isinstance(make_store("MEMORY", tmp_path, fail_commit=True), MemoryImageStore)
    assert isinstance(make_store("overcast.image.drivers.memory:MemoryImageStore", tmp_path), MemoryImageStore)
    assert isinstance(make_store("overcast.image.drivers.memory.MemoryImageStore", tmp_path), MemoryImageStore)


def test_make_store_unknown_alias_suggests_closest(tmp_path):
    with pytest.raises(ValueError, match="Did you mean 'file'"):
        make_store("fiel", tmp_path)
    with pytest.raises(UnknownImageStore, match="Known stores: file, memory"):
        make_store("swift", tmp_path)
    with pytest.raises(UnknownImageStore):
        make_store("overcast.image.errors:ImageTooLarge", tmp_path)
    with pytest.raises(UnknownImageStore):
        make_store("no.such.module:Store", tmp_path)


@pytest.mark.parametrize("direct", [True, False], ids=["o_direct", "buffered"])
@pytest.mark.parametrize("size", [0, 1, 4095, 4096, 4097, (1 << 20) + 1, 3 * (1 << 20) + 12345])
def test_file_store_round_trips_odd_sizes_with_and_without_direct_io(tmp_path, monkeypatch, direct, size):
    import os

    from overcast.image.drivers.file import FilesystemImageStore

    if not direct:
        monkeypatch.setenv("OVERCAST_IMAGE_NO_DIRECT_IO", "1")
    store = FilesystemImageStore(tmp_path)
    data = os.urandom(size)
    writer = store.writer("image-1")
    for start in range(0, size, 70001):
        writer.write(data[start:start + 70001])
    location = writer.commit()
    assert b"".join(store.open(location)) == data
    assert [p.name for p in (tmp_path / "images").iterdir()] == ["image-1"]
