"""Incremental backups and the volume metadata a backup keeps, with the openstack CLI,
openstacksdk and raw calls: an incremental backup stores only the changed chunks and a
restore reads through the chain."""

from __future__ import annotations

import time

from conftest import random_name


def _wait_backup(admin, backup_id: str, status: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while True:
        backup = admin.block_storage.get_backup(backup_id)
        if backup.status == status:
            return backup
        assert backup.status != "error", backup.fail_reason
        assert time.monotonic() < deadline, f"backup {backup_id} is {backup.status}"
        time.sleep(0.2)


def _bytes_of(admin, volume_id: str, length: int) -> bytes:
    """The first ``length`` bytes of a volume (uploaded to an image and downloaded)."""
    uploaded = admin.block_storage.upload_volume_to_image(admin.block_storage.get_volume(volume_id),
                                                          random_name("check"), disk_format="raw")
    image = admin.image.wait_for_status(admin.image.get_image(uploaded["image_id"]), "active", wait=60)
    data = b"".join(admin.image.download_image(image, stream=True).iter_content(1 << 16))[:length]
    admin.image.delete_image(image)
    return data


def _restore_new(cli, root, backup_id: str) -> str:
    restored = cli.run("volume", "backup", "restore", backup_id, random_name("restored"))
    root.wait(restored["volume_id"], "available", timeout=60)
    return restored["volume_id"]


def _delete_backup(admin, backup_id: str) -> None:
    admin.block_storage.delete_backup(backup_id)
    deadline = time.monotonic() + 60
    while admin.block_storage.find_backup(backup_id) is not None:
        assert time.monotonic() < deadline
        time.sleep(0.2)


def test_incremental_backups_chain_and_restore(cli, admin, api, raw_image):
    image, data = raw_image
    other = b"changed-volume-data" + b"\1" * (len(data) - 19)
    second = admin.image.create_image(name=random_name("img"), disk_format="raw", container_format="bare",
                                      data=other)
    admin.image.wait_for_status(second, "active", wait=30)
    root = api(admin)
    volume = root.create(imageRef=image.id, metadata={"kept": "yes", "tier": "gold"})
    root.wait(volume["id"], "available", timeout=60)

    refused = cli.raw("volume", "backup", "create", "--incremental", volume["id"])
    assert refused.returncode != 0 and "No backups available" in refused.stderr

    full = _wait_backup(admin, cli.run("volume", "backup", "create", volume["id"])["id"], "available")
    assert not full.is_incremental
    same = _wait_backup(admin, cli.run("volume", "backup", "create", "--incremental", volume["id"])["id"],
                        "available")
    assert same.is_incremental and same.object_count == 1  # nothing changed: only its metadata object
    assert admin.block_storage.get_backup(full.id).has_dependent_backups
    assert root.delete(f"/backups/{full.id}").status_code == 400  # an incremental builds on it

    # new data in the volume: restore a backup of another volume into it
    source = root.create(imageRef=second.id)
    root.wait(source["id"], "available", timeout=60)
    other_backup = _wait_backup(admin, cli.run("volume", "backup", "create", source["id"])["id"], "available")
    into = root.post(f"/backups/{other_backup.id}/restore", json={"restore": {"volume_id": volume["id"]}})
    assert into.status_code == 202, into.text
    root.wait(volume["id"], "available", timeout=60)
    changed = _wait_backup(admin, cli.run("volume", "backup", "create", "--incremental", volume["id"])["id"],
                           "available")
    assert changed.is_incremental and changed.object_count == 2  # the changed chunk and the metadata

    restored = []
    for backup, expected in ((same, data), (changed, other), (full, data)):
        restored.append(_restore_new(cli, root, backup.id))
        assert _bytes_of(admin, restored[-1], len(expected)) == expected
        shown = root.get(f"/volumes/{restored[-1]}").json()["volume"]
        assert shown["metadata"]["kept"] == "yes" and shown["metadata"]["tier"] == "gold"

    for backup in (changed, same, full, other_backup):
        _delete_backup(admin, backup.id)
    assert not list(admin.object_store.objects("volumebackups", prefix=full.id))
    for volume_id in (volume["id"], source["id"], *restored):
        root.wait(volume_id, "available")
        root.delete(f"/volumes/{volume_id}")
    admin.image.delete_image(second)
