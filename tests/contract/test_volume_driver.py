"""One behaviour suite for every VolumeDriver: the fake, the file and the rbd driver.

``VolumeDriverContract`` holds the behaviours; each implementation subclasses it with a
``driver`` fixture (``init_host`` already called) and ``read(driver, volume_id)``, which
returns the first bytes a guest would read from the volume (None when the driver keeps no
data). The file driver runs qemu-img for real on sparse files in a temp directory; the rbd
driver runs on a throw-away one-node Ceph cluster (``ceph_cluster``, skipped without Ceph),
each test in a pool of its own.
"""

from __future__ import annotations

import json
import subprocess
import uuid

import pytest

from overcast.volume.drivers import ImageSource, UnknownVolumeDriver, make_driver
from overcast.volume.drivers.errors import SnapshotNotFound, VolumeDriverError, VolumeExists, VolumeNotFound
from overcast.volume.drivers.fake import FakeVolumeDriver
from overcast.volume.drivers.file import FileVolumeDriver
from overcast.volume.drivers.rbd import RbdVolumeDriver

GiB = 1 << 30
MARK = b"overcast contract data"


def new_id() -> str:
    return str(uuid.uuid4())


class VolumeDriverContract:
    def read(self, driver, volume_id: str) -> bytes | None:
        return None

    def write(self, driver, volume_id: str, data: bytes) -> bool:
        return False

    def image(self, tmp_path, data: bytes = MARK) -> ImageSource:
        path = tmp_path / "image.raw"
        path.write_bytes(data + b"\0" * (1 << 20))
        return ImageSource(id=new_id(), disk_format="raw", size=path.stat().st_size, path=str(path))

    def test_create_lists_and_delete_is_idempotent(self, driver):
        volume = new_id()
        driver.create_volume(volume, 1)
        assert volume in driver.list_volumes()
        with pytest.raises(VolumeExists):
            driver.create_volume(volume, 1)
        driver.delete_volume(volume)
        driver.delete_volume(volume)
        assert volume not in driver.list_volumes()

    def test_large_volume_is_instant_and_sparse(self, driver):
        volume = new_id()
        driver.create_volume(volume, 100)
        assert driver.stats().allocated_gb >= 100
        driver.delete_volume(volume)

    def test_extend_grows_and_never_shrinks(self, driver):
        volume = new_id()
        driver.create_volume(volume, 1)
        driver.extend_volume(volume, 2)
        with pytest.raises(VolumeDriverError):
            driver.extend_volume(volume, 1)
        with pytest.raises(VolumeNotFound):
            driver.extend_volume(new_id(), 3)
        driver.delete_volume(volume)

    def test_snapshot_keeps_the_data_of_its_time(self, driver, tmp_path):
        volume = new_id()
        driver.create_volume_from_image(volume, 1, self.image(tmp_path))
        snapshot = new_id()
        driver.create_snapshot(snapshot, volume)
        changed = self.write(driver, volume, b"changed afterwards!!!!")
        restored = new_id()
        driver.create_volume_from_snapshot(restored, snapshot, 2)
        if self.read(driver, restored) is not None:
            assert self.read(driver, restored).startswith(MARK)
            if changed:
                assert not self.read(driver, volume).startswith(MARK)
        driver.delete_volume(volume)  # a snapshot does not pin its volume
        driver.delete_snapshot(snapshot)
        driver.delete_snapshot(snapshot)
        with pytest.raises(SnapshotNotFound):
            driver.create_volume_from_snapshot(new_id(), snapshot, 1)
        driver.delete_volume(restored)

    def test_clone_copies_the_data(self, driver, tmp_path):
        source, clone = new_id(), new_id()
        driver.create_volume_from_image(source, 1, self.image(tmp_path))
        driver.create_cloned_volume(clone, source, 2)
        if self.read(driver, clone) is not None:
            assert self.read(driver, clone).startswith(MARK)
        with pytest.raises(VolumeNotFound):
            driver.create_cloned_volume(new_id(), new_id(), 1)
        for volume in (source, clone):
            driver.delete_volume(volume)

    def test_image_larger_than_volume_fails_and_leaves_nothing(self, driver, tmp_path):
        path = tmp_path / "big.raw"
        with open(path, "wb") as handle:
            handle.truncate(2 * GiB)
        volume = new_id()
        with pytest.raises(VolumeDriverError):
            driver.create_volume_from_image(volume, 1, ImageSource(id=new_id(), disk_format="raw", size=2 * GiB,
                                                                   path=str(path)))
        assert volume not in driver.list_volumes()

    def test_reimage_replaces_the_data_and_keeps_the_size(self, driver, tmp_path):
        volume = new_id()
        driver.create_volume_from_image(volume, 2, self.image(tmp_path, b"the first image"))
        other = tmp_path / "other"
        other.mkdir()
        driver.reimage_volume(volume, 2, self.image(other))
        if self.read(driver, volume) is not None:
            assert self.read(driver, volume).startswith(MARK)
        assert volume in driver.list_volumes()
        with pytest.raises(VolumeNotFound):
            driver.reimage_volume(new_id(), 1, self.image(other))
        driver.delete_volume(volume)

    def test_reimage_with_a_larger_image_fails_and_keeps_the_data(self, driver, tmp_path):
        volume = new_id()
        driver.create_volume_from_image(volume, 1, self.image(tmp_path))
        path = tmp_path / "big.raw"
        with open(path, "wb") as handle:
            handle.truncate(2 * GiB)
        with pytest.raises(VolumeDriverError):
            driver.reimage_volume(volume, 1, ImageSource(id=new_id(), disk_format="raw", size=2 * GiB,
                                                         path=str(path)))
        if self.read(driver, volume) is not None:
            assert self.read(driver, volume).startswith(MARK)
        driver.delete_volume(volume)

    def test_copy_to_image_round_trips(self, driver, tmp_path):
        volume = new_id()
        driver.create_volume_from_image(volume, 1, self.image(tmp_path))
        out = tmp_path / "out.img"
        written = driver.copy_volume_to_image(volume, "raw", str(out))
        assert written.size == out.stat().st_size
        if self.read(driver, volume) is not None:
            assert out.read_bytes()[:len(MARK)] == MARK
        driver.delete_volume(volume)

    def test_connection_info_names_the_volume(self, driver):
        volume = new_id()
        driver.create_volume(volume, 1)
        info = driver.initialize_connection(volume, {"host": "h1"})
        assert info["serial"] == volume and "driver_volume_type" in info and "data" in info
        assert driver.initialize_connection(volume, {"host": "h1"}) == info
        driver.terminate_connection(volume, {"host": "h1"})
        driver.terminate_connection(volume, {"host": "h1"})
        with pytest.raises(VolumeNotFound):
            driver.initialize_connection(new_id(), {"host": "h1"})
        driver.delete_volume(volume)


    def test_unmanage_keeps_the_data_and_manage_takes_it_back(self, driver):
        old, new = str(uuid.uuid4()), str(uuid.uuid4())
        driver.create_volume(old, 1)
        listed = driver.manageable_volumes({old})
        entry = next(e for e in listed if e["cinder_id"] == old)
        assert entry["safe_to_manage"] is False and entry["size"] == 1
        driver.unmanage(old)
        driver.unmanage(old)  # idempotent
        entry = next(e for e in driver.manageable_volumes(set()) if old in e["reference"]["source-name"])
        assert entry["safe_to_manage"] is True and entry["cinder_id"] is None
        assert driver.manage_existing(new, entry["reference"]) == 1
        assert new in driver.list_volumes() and old not in driver.list_volumes()
        with pytest.raises(VolumeDriverError):
            driver.manage_existing(str(uuid.uuid4()), {"source-name": "missing"})
        driver.delete_volume(new)


class TestFakeVolumeDriver(VolumeDriverContract):
    @pytest.fixture
    def driver(self):
        driver = FakeVolumeDriver()
        driver.init_host("h@fake")
        return driver

    def test_failure_knob_fails_create_and_leaves_nothing(self):
        driver = FakeVolumeDriver(fail_size_gb=7)
        volume = new_id()
        with pytest.raises(VolumeDriverError):
            driver.create_volume(volume, 7)
        assert driver.list_volumes() == []


class TestFileVolumeDriver(VolumeDriverContract):
    @pytest.fixture(params=["qcow2", "raw"])
    def driver(self, tmp_path, request):
        driver = FileVolumeDriver(tmp_path / "data", file_format=request.param)
        driver.init_host("h@file")
        return driver

    def _path(self, driver, volume_id):
        return driver.initialize_connection(volume_id, {"host": "h"})["data"]

    def read(self, driver, volume_id):
        data = self._path(driver, volume_id)
        out = driver.root.parent / f"read-{volume_id}"
        subprocess.run(["qemu-img", "dd", "-f", data["format"], "-O", "raw", f"if={data['path']}", f"of={out}",
                        "bs=64", "count=1"], capture_output=True, check=True)
        try:
            return out.read_bytes()
        finally:
            out.unlink()

    def write(self, driver, volume_id, payload):
        data = self._path(driver, volume_id)
        if data["format"] != "raw":
            return False
        with open(data["path"], "r+b") as handle:
            handle.write(payload)
        return True

    def test_files_are_sparse_and_no_temp_is_left(self, driver):
        volume = new_id()
        driver.create_volume(volume, 100)
        data = self._path(driver, volume)
        info = json.loads(subprocess.run(["qemu-img", "info", "--output=json", data["path"]], capture_output=True,
                                         check=True).stdout)
        assert info["virtual-size"] == 100 * GiB and info["actual-size"] < 16 << 20
        assert not list(driver.root.glob(".tmp-*"))
        driver.delete_volume(volume)
        assert list(driver.root.iterdir()) == []

    def test_bad_image_data_fails_without_orphans(self, driver, tmp_path):
        bad = tmp_path / "bad.qcow2"
        bad.write_bytes(b"not a qcow2" * 100)
        volume = new_id()
        with pytest.raises(VolumeDriverError):
            driver.create_volume_from_image(volume, 1, ImageSource(id=new_id(), disk_format="qcow2", size=1100,
                                                                   path=str(bad)))
        assert list(driver.root.iterdir()) == []

    def test_init_host_sweeps_temp_files(self, driver):
        (driver.root / ".tmp-volume-x-123").write_bytes(b"half")
        driver.init_host("h@file")
        assert not list(driver.root.glob(".tmp-*"))


class TestRbdVolumeDriver(VolumeDriverContract):
    @pytest.fixture
    def driver(self, ceph_cluster, tmp_path):
        pool = ceph_cluster.new_pool()
        driver = RbdVolumeDriver(tmp_path / "data", pool=pool, ceph_conf=str(ceph_cluster.conf), user="admin",
                                 keyring=str(ceph_cluster.keyring))
        driver.init_host("h@rbd")
        yield driver
        ceph_cluster.drop_pool(pool)

    def _target(self, driver, volume_id):
        return driver._qemu_target(f"volume-{volume_id}")

    def read(self, driver, volume_id):
        out = driver.scratch / f"read-{volume_id}"
        subprocess.run(["qemu-img", "dd", "-f", "raw", "-O", "raw", f"if={self._target(driver, volume_id)}",
                        f"of={out}", "bs=64", "count=1"], capture_output=True, check=True)
        try:
            return out.read_bytes()
        finally:
            out.unlink()

    def write(self, driver, volume_id, payload):
        source = driver.scratch / f"write-{volume_id}"
        source.write_bytes(payload)
        try:
            subprocess.run(["qemu-io", "-f", "raw", "-c", f"write -s {source} 0 {len(payload)}",
                            self._target(driver, volume_id)], capture_output=True, check=True)
        finally:
            source.unlink()
        return True

    def test_connection_info_is_cinders_rbd_shape_without_the_key(self, driver, ceph_cluster):
        volume = new_id()
        driver.create_volume(volume, 1)
        info = driver.initialize_connection(volume, {"host": "h1"})
        assert info["driver_volume_type"] == "rbd"
        data = info["data"]
        assert data["name"] == f"{driver.pool}/volume-{volume}" and data["auth_username"] == "admin"
        assert data["hosts"] == ["127.0.0.1"] and len(data["ports"]) == 1 and data["secret_type"] == "ceph"
        key = ceph_cluster.command("ceph", "auth", "print-key", "client.admin").stdout.strip()
        assert key and key not in json.dumps(info)
        driver.delete_volume(volume)

    def test_volumes_are_sparse_images_and_clones_share_their_data(self, driver, tmp_path, ceph_cluster):
        source, clone = new_id(), new_id()
        driver.create_volume_from_image(source, 1, self.image(tmp_path))
        snapshot = new_id()
        driver.create_snapshot(snapshot, source)
        from_snapshot = new_id()
        driver.create_volume_from_snapshot(from_snapshot, snapshot, 1)
        driver.create_cloned_volume(clone, source, 1)
        rbd = lambda *a: json.loads(ceph_cluster.command("rbd", *a, "--format", "json").stdout)  # noqa: E731
        info = rbd("info", f"{driver.pool}/volume-{from_snapshot}")
        assert info["parent"]["snapshot"] == f"snapshot-{snapshot}"  # a copy-on-write clone
        assert rbd("info", f"{driver.pool}/volume-{clone}")["parent"]["image"] == f"volume-{source}"
        used = rbd("du", f"{driver.pool}/volume-{source}")["images"]
        assert all(image["used_size"] < 16 << 20 for image in used)
        # the source goes first: its image is kept (hidden) while a snapshot and a clone need it
        driver.delete_volume(source)
        assert source not in driver.list_volumes()
        assert self.read(driver, clone).startswith(MARK)
        driver.delete_snapshot(snapshot)  # its clone is flattened first
        assert "parent" not in rbd("info", f"{driver.pool}/volume-{from_snapshot}")
        assert self.read(driver, from_snapshot).startswith(MARK)
        driver.delete_volume(clone)  # the last user of the source's image: it goes too
        driver.delete_volume(from_snapshot)
        assert ceph_cluster.command("rbd", "ls", driver.pool).stdout.split() == []

    def test_capacity_comes_from_ceph_df(self, driver):
        stats = driver.stats()
        assert 0 < stats.free_gb <= stats.total_gb and stats.storage_protocol == "ceph"


def test_unknown_driver_suggests_the_alias():
    with pytest.raises(UnknownVolumeDriver, match="file"):
        make_driver("fiel")


# -- LUKS volumes (the file driver) ------------------------------------------------------------


def _info(path) -> dict:
    return json.loads(subprocess.run(["qemu-img", "info", "-U", "--output=json", str(path)], capture_output=True,
                                     text=True, check=True).stdout)


def _plain(path, encryption, tmp_path) -> bytes:
    from overcast.volume.drivers.luks import open_args, secret_object

    out = tmp_path / f"plain-{uuid.uuid4().hex}.raw"
    with secret_object(path.parent, encryption) as secret:
        subprocess.run(["qemu-img", "convert", "-U", *secret, *open_args(path, "qcow2", encryption), "-O", "raw",
                        str(out)], check=True, capture_output=True)
    try:
        with open(out, "rb") as handle:
            return handle.read(len(MARK))
    finally:
        out.unlink()


@pytest.mark.parametrize("file_format", ["qcow2", "raw"])
def test_file_driver_makes_luks_volumes_snapshots_and_clones(tmp_path, file_format):
    from overcast.volume.drivers.luks import Encryption

    driver = FileVolumeDriver(tmp_path, file_format=file_format)
    driver.init_host("test")
    secret = Encryption(passphrase=b"00" * 32)
    image = tmp_path / "image.raw"
    image.write_bytes(MARK + b"\0" * (1 << 20))
    volume, snap, clone, restored = new_id(), new_id(), new_id(), new_id()
    driver.create_volume_from_image(volume, 1, ImageSource(id=new_id(), disk_format="raw",
                                                           size=image.stat().st_size, path=str(image)), secret)
    path = driver.root / f"volume-{volume}.qcow2"
    info = _info(path)
    assert info["encrypted"] is True and info["format-specific"]["data"]["encrypt"]["format"] == "luks"
    assert info["format-specific"]["data"]["encrypt"]["cipher-alg"] == "aes-128"  # 256-bit XTS key
    assert MARK not in path.read_bytes()
    assert _plain(path, secret, tmp_path) == MARK
    assert driver.initialize_connection(volume, {"host": "h"})["data"]["encrypted"] is True
    driver.extend_volume(volume, 2, secret)
    assert _info(path)["virtual-size"] == 2 * GiB
    driver.create_snapshot(snap, volume, secret)
    driver.create_cloned_volume(clone, volume, 2, secret)
    driver.create_volume_from_snapshot(restored, snap, 3, secret)
    for made in (driver.root / f"snapshot-{snap}.qcow2", driver.root / f"volume-{clone}.qcow2",
                 driver.root / f"volume-{restored}.qcow2"):
        assert _info(made)["encrypted"] is True and MARK not in made.read_bytes()
        assert _plain(made, secret, tmp_path) == MARK
    blank = new_id()
    driver.create_volume(blank, 1, secret)
    assert _info(driver.root / f"volume-{blank}.qcow2")["encrypted"] is True
    assert not list(driver.root.glob(".tmp-*"))  # no passphrase file is left
    with pytest.raises(VolumeDriverError):
        driver.create_cloned_volume(new_id(), volume, 2, Encryption(passphrase=b"11" * 32))
    assert not list(driver.root.glob(".tmp-*"))
    other = tmp_path / "other.raw"  # os-reimage writes the new image through the encryption
    other.write_bytes(b"another image!" + b"\0" * (1 << 20))
    driver.reimage_volume(volume, 2, ImageSource(id=new_id(), disk_format="raw", size=other.stat().st_size,
                                                 path=str(other)), secret)
    assert _info(path)["encrypted"] is True and _info(path)["virtual-size"] == 2 * GiB
    assert b"another image!" not in path.read_bytes()
    assert _plain(path, secret, tmp_path).startswith(b"another image!")
    assert not list(driver.root.glob(".tmp-*"))


def test_file_driver_rekeys_clones_and_uploads_luks_containers(tmp_path):
    from overcast.volume.drivers.luks import Encryption, open_args, secret_object

    driver = FileVolumeDriver(tmp_path, file_format="raw")
    driver.init_host("test")
    old, new, other = (Encryption(passphrase=digit * 64) for digit in (b"1", b"2", b"3"))
    image = tmp_path / "image.raw"
    image.write_bytes(MARK + b"\0" * (1 << 20))
    volume, snap, clone, restored, back = new_id(), new_id(), new_id(), new_id(), new_id()
    driver.create_volume_from_image(volume, 1, ImageSource(id=new_id(), disk_format="raw",
                                                           size=image.stat().st_size, path=str(image)), old)
    driver.create_snapshot(snap, volume, old)
    driver.create_cloned_volume(clone, volume, 1, new, source_encryption=old)
    driver.create_volume_from_snapshot(restored, snap, 2, other, source_encryption=old)
    for made, key in ((clone, new), (restored, other)):
        path = driver.root / f"volume-{made}.qcow2"
        assert _plain(path, key, tmp_path) == MARK
        with pytest.raises(subprocess.CalledProcessError):  # the source's passphrase no longer opens it
            _plain(path, old, tmp_path)
    # an upload is a raw LUKS container with the volume's passphrase; a volume made from it opens
    container = tmp_path / "upload.raw"
    written = driver.copy_volume_to_image(clone, "raw", str(container), new)
    assert written.disk_format == "raw" and MARK not in container.read_bytes()
    assert _info(container)["format"] == "luks"
    with pytest.raises(VolumeDriverError):
        driver.copy_volume_to_image(clone, "qcow2", str(tmp_path / "upload.qcow2"), new)
    plain = tmp_path / "plain.raw"
    with secret_object(tmp_path, new) as secret:
        subprocess.run(["qemu-img", "convert", *secret, *open_args(container, "luks", new), "-O", "raw", str(plain)],
                       check=True, capture_output=True)
    assert plain.read_bytes()[:len(MARK)] == MARK
    driver.create_volume_from_image(back, 1, ImageSource(id=new_id(), disk_format="raw", size=written.size,
                                                         path=str(container), encrypted=True), new)
    assert _plain(driver.root / f"volume-{back}.qcow2", new, tmp_path) == MARK
    with pytest.raises(VolumeDriverError):  # an encrypted image needs an encrypted volume
        driver.create_volume_from_image(new_id(), 1, ImageSource(id=new_id(), disk_format="raw", size=written.size,
                                                                 path=str(container), encrypted=True))
    assert not list(driver.root.glob(".tmp-*")) and not list(driver.root.glob("volume-*.tmp*"))
