"""Backups into the object store and back, with the openstack CLI and openstacksdk."""

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


def test_backup_and_restore_keep_the_data(cli, admin, api, raw_image):
    image, data = raw_image
    root = api(admin)
    source = root.create(imageRef=image.id)
    root.wait(source["id"], "available")
    name = random_name("backup")
    made = cli.run("volume", "backup", "create", "--name", name, source["id"])
    backup = _wait_backup(admin, made["id"], "available")
    assert backup.object_count >= 2 and backup.size == 1 and backup.container == "volumebackups"
    listing = admin.object_store.objects("volumebackups", prefix=backup.id)
    assert any(obj.name.endswith("/metadata") for obj in listing)
    assert root.wait(source["id"], "available")

    restored = cli.run("volume", "backup", "restore", made["id"], random_name("restored"))
    volume_id = restored["volume_id"]
    root.wait(volume_id, "available")
    uploaded = admin.block_storage.upload_volume_to_image(admin.block_storage.get_volume(volume_id),
                                                          random_name("check"), disk_format="raw")
    check = admin.image.wait_for_status(admin.image.get_image(uploaded["image_id"]), "active", wait=60)
    head = b"".join(admin.image.download_image(check, stream=True).iter_content(1 << 16))[:len(data)]
    assert head == data  # the restored volume holds the source's bytes
    admin.image.delete_image(check)
    root.wait(volume_id, "available")

    cli.ok("volume", "backup", "delete", made["id"])
    deadline = time.monotonic() + 60
    while admin.block_storage.find_backup(made["id"]) is not None:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert not list(admin.object_store.objects("volumebackups", prefix=made["id"]))
    for volume in (source["id"], volume_id):
        root.delete(f"/volumes/{volume}")
