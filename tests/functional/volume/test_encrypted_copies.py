"""Encrypted (LUKS) volumes copied as Cinder copies them, through the openstack CLI:
`openstack image create --volume` uploads the LUKS container with a copy of the key named by
the image (`cinder_encryption_key_id`, deleted with the image: `on_image_deletion`),
`volume create --image` of it makes a volume (of an encrypted type only) whose plaintext is
the original's, and clones and volumes from snapshots get a key of their own, the old one
no longer opening them. Plaintext is read with `qemu-img convert` and the key from the
cloud's key table (sealed with its credential keys)."""

from __future__ import annotations

import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from conftest import random_name

WAIT = 300  # LUKS key slots and copies are slow on a busy 2-core machine


def _db(cloud) -> Path:
    (db,) = [p for p in cloud.data_dir.glob("**/*.db") if p.stat().st_size]
    return db


def _key_ids(cloud) -> set[str]:
    with sqlite3.connect(_db(cloud)) as connection:
        return {row[0] for row in connection.execute("SELECT id FROM volume_keys")}


def _key(cloud, key_id: str):
    """The volume encryption of a key (its material unsealed as the cloud would)."""
    from overcast.identity.keys import KeyRepository
    from overcast.volume.drivers.luks import Encryption
    from overcast.volume.key_manager.base import passphrase

    with sqlite3.connect(_db(cloud)) as connection:
        (sealed,) = connection.execute("SELECT sealed FROM volume_keys WHERE id = ?", (key_id,)).fetchone()
    material = KeyRepository(cloud.data_dir / "keys" / "credential").decrypt(sealed)
    return Encryption(passphrase=passphrase(material))


def _plain(path: Path, fmt: str, encryption, tmp_path: Path, length: int) -> bytes | None:
    """The first bytes of the decrypted disk, or None when the key does not open it."""
    from overcast.volume.drivers.luks import open_args, secret_object

    out = tmp_path / f"plain-{random_name('p')}.raw"
    with secret_object(tmp_path, encryption) as secret:
        done = subprocess.run(["qemu-img", "convert", "-U", *secret, *open_args(path, fmt, encryption), "-O", "raw",
                               str(out)], capture_output=True)
    if done.returncode:
        return None
    try:
        with open(out, "rb") as handle:
            return handle.read(length)
    finally:
        out.unlink()


def _volume_file(cloud, volume_id: str) -> Path:
    (path,) = (cloud.data_dir / "volumes").glob(f"volume-{volume_id}.qcow2")
    return path


def _key_id(root, volume_id: str) -> str:
    return root.get(f"/volumes/{volume_id}/encryption").json()["encryption_key_id"]


def _wait_image(admin, image_id: str, timeout: float = WAIT):
    deadline = time.monotonic() + timeout
    while True:
        image = admin.image.get_image(image_id)
        if image.status == "active":
            return image
        assert time.monotonic() < deadline, f"image {image_id} is {image.status}"
        time.sleep(0.5)


def _luks_volume(cli, root, luks_type, image) -> dict:
    """An available 1 GiB LUKS volume made from ``image`` with the CLI."""
    volume = cli.run("volume", "create", "--type", luks_type["id"], "--image", image.id, "--size", "1",
                     random_name("vol"))
    root.wait(volume["id"], "available", timeout=WAIT)
    return volume


@pytest.fixture(scope="module")
def luks_type(cli):
    vtype = cli.run("volume", "type", "create", "--encryption-provider", "luks", "--encryption-cipher",
                    "aes-xts-plain64", "--encryption-key-size", "256", "--encryption-control-location", "front-end",
                    random_name("luks"))
    yield vtype
    cli.raw("volume", "type", "delete", vtype["id"])


def test_an_encrypted_volume_uploads_and_comes_back_with_copies_of_its_key(cloud, cli, admin, api, raw_image,
                                                                          luks_type, tmp_path):
    head, root, keys_before = raw_image[1][:20], api(admin), _key_ids(cloud)
    volume = _luks_volume(cli, root, luks_type, raw_image[0])
    volume_key = _key_id(root, volume["id"])

    name = random_name("encimg")
    cli.run("image", "create", "--volume", volume["id"], name)
    root.wait(volume["id"], "available", timeout=WAIT)
    uploaded = _wait_image(admin, admin.image.find_image(name).id)
    props = uploaded.properties
    image_key = props["cinder_encryption_key_id"]
    assert props["cinder_encryption_key_deletion_policy"] == "on_image_deletion"
    assert uploaded.disk_format == "raw" and image_key != volume_key and image_key in _key_ids(cloud)
    container = tmp_path / "upload.raw"
    container.write_bytes(admin.image.download_image(uploaded).content)
    assert head not in container.read_bytes()  # the LUKS container, ciphertext
    assert _plain(container, "luks", _key(cloud, image_key), tmp_path, len(head)) == head

    refused = root.post(f"/volumes/{volume['id']}/action", json={"os-volume_upload_image": {
        "image_name": random_name("q"), "disk_format": "qcow2"}})
    assert refused.status_code == 400 and "raw" in refused.json()["badRequest"]["message"]
    assert root.get(f"/volumes/{volume['id']}").json()["volume"]["status"] == "available"
    plain_type = cli.run("volume", "type", "create", random_name("plain"))
    refused = root.post("/volumes", json={"volume": {"size": 1, "imageRef": uploaded.id,
                                                     "volume_type": plain_type["id"]}})
    assert refused.status_code == 400, refused.text
    cli.ok("volume", "type", "delete", plain_type["id"])

    back = cli.run("volume", "create", "--type", luks_type["id"], "--image", uploaded.id, "--size", "1",
                   random_name("back"))
    root.wait(back["id"], "available", timeout=WAIT)
    back_key = _key_id(root, back["id"])
    assert back_key not in (volume_key, image_key)
    assert _plain(_volume_file(cloud, back["id"]), "qcow2", _key(cloud, back_key), tmp_path, len(head)) == head

    cli.ok("image", "delete", uploaded.id)
    assert image_key not in _key_ids(cloud)  # gone with the image
    for made in (back["id"], volume["id"]):
        cli.ok("volume", "delete", made)
        root.wait(made, "deleted", timeout=WAIT)
    assert _key_ids(cloud) == keys_before


def test_clones_and_volumes_from_snapshots_are_rekeyed(cloud, cli, admin, api, raw_image, luks_type, tmp_path):
    head, root, keys_before = raw_image[1][:20], api(admin), _key_ids(cloud)
    volume = _luks_volume(cli, root, luks_type, raw_image[0])
    old = _key(cloud, _key_id(root, volume["id"]))

    clone = cli.run("volume", "create", "--source", volume["id"], random_name("clone"))
    root.wait(clone["id"], "available", timeout=WAIT)
    snapshot = cli.run("volume", "snapshot", "create", "--volume", volume["id"], random_name("snap"))
    deadline = time.monotonic() + WAIT
    while cli.run("volume", "snapshot", "show", snapshot["id"])["status"] != "available":
        assert time.monotonic() < deadline
        time.sleep(0.5)
    restored = cli.run("volume", "create", "--snapshot", snapshot["id"], "--size", "2", random_name("restored"))
    root.wait(restored["id"], "available", timeout=WAIT)

    ids = {_key_id(root, made) for made in (volume["id"], clone["id"], restored["id"])}
    assert len(ids) == 3  # a key each
    for made in (clone["id"], restored["id"]):
        path = _volume_file(cloud, made)
        assert _plain(path, "qcow2", _key(cloud, _key_id(root, made)), tmp_path, len(head)) == head
        assert _plain(path, "qcow2", old, tmp_path, len(head)) is None  # the source's key opens it no more

    for made in (clone["id"], restored["id"]):
        cli.ok("volume", "delete", made)
        root.wait(made, "deleted", timeout=WAIT)
    cli.ok("volume", "snapshot", "delete", snapshot["id"])
    deadline = time.monotonic() + WAIT
    while cli.raw("volume", "snapshot", "show", snapshot["id"]).returncode == 0:
        assert time.monotonic() < deadline
        time.sleep(0.5)
    cli.ok("volume", "delete", volume["id"])
    root.wait(volume["id"], "deleted", timeout=WAIT)
    assert _key_ids(cloud) == keys_before


def _wait_backup(root, backup_id: str, status: str = "available") -> dict:
    deadline = time.monotonic() + WAIT
    while True:
        got = root.get(f"/backups/{backup_id}")
        if status == "deleted" and got.status_code == 404:
            return {}
        backup = got.json()["backup"]
        if backup["status"] == status:
            return backup
        assert backup["status"] != "error", backup["fail_reason"]
        assert time.monotonic() < deadline, f"backup {backup_id} is {backup['status']}"
        time.sleep(0.5)


def test_an_encrypted_volume_backs_up_its_ciphertext_and_restores_with_a_copy_of_the_key(
        cloud, cli, admin, api, raw_image, luks_type, tmp_path):
    head, root, v364, keys_before = raw_image[1][:20], api(admin), api(admin, "3.64"), _key_ids(cloud)
    volume = _luks_volume(cli, root, luks_type, raw_image[0])
    volume_key = _key_id(root, volume["id"])
    made = cli.run("volume", "backup", "create", "--name", random_name("backup"), volume["id"])
    backup = _wait_backup(v364, made["id"])
    backup_key = backup["encryption_key_id"]
    assert backup_key not in (None, volume_key) and backup_key in _key_ids(cloud)
    chunks = [o.name for o in admin.object_store.objects("volumebackups", prefix=made["id"]) if "/chunk-" in o.name]
    first = admin.object_store.download_object(sorted(chunks)[0], container="volumebackups")
    assert first.startswith(b"LUKS") and head not in first  # the encrypted bytes are stored
    root.wait(volume["id"], "available", timeout=WAIT)

    restored = cli.run("volume", "backup", "restore", made["id"], random_name("restored"))
    new_id = restored["volume_id"]
    shown = root.wait(new_id, "available", timeout=WAIT)
    _wait_backup(root, made["id"])
    new_key = _key_id(root, new_id)
    assert shown["encrypted"] is True and new_key not in (volume_key, backup_key)
    assert _plain(_volume_file(cloud, new_id), "qcow2", _key(cloud, new_key), tmp_path, len(head)) == head

    plain = root.create()
    root.wait(plain["id"], "available", timeout=WAIT)
    refused = root.post(f"/backups/{made['id']}/restore", json={"restore": {"volume_id": plain["id"]}})
    assert refused.status_code == 400, refused.text
    assert "encrypted" in refused.json()["badRequest"]["message"]
    assert root.get(f"/volumes/{plain['id']}").json()["volume"]["status"] == "available"

    target = root.create(volume_type=luks_type["id"])
    root.wait(target["id"], "available", timeout=WAIT)
    target_key = _key_id(root, target["id"])
    got = root.post(f"/backups/{made['id']}/restore", json={"restore": {"volume_id": target["id"]}})
    assert got.status_code == 202, got.text
    root.wait(target["id"], "available", timeout=WAIT)
    _wait_backup(root, made["id"])
    replaced = _key_id(root, target["id"])
    assert replaced not in (target_key, backup_key, volume_key) and target_key not in _key_ids(cloud)
    assert _plain(_volume_file(cloud, target["id"]), "qcow2", _key(cloud, replaced), tmp_path, len(head)) == head

    cli.ok("volume", "backup", "delete", made["id"])
    _wait_backup(root, made["id"], "deleted")
    assert backup_key not in _key_ids(cloud)  # gone with the backup
    for gone in (new_id, plain["id"], target["id"], volume["id"]):
        cli.ok("volume", "delete", gone)
        root.wait(gone, "deleted", timeout=WAIT)
    assert _key_ids(cloud) == keys_before
