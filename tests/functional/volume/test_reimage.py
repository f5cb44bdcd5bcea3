"""os-reimage (Cinder 3.68): python-cinderclient's ``reimage``, the volume's file holding the
new image afterwards, and the errors as raw HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from conftest import random_name

CINDER = str(Path(sys.executable).with_name("cinder"))


@pytest.fixture(scope="module")
def other_image(admin):
    data = b"the other image!" + b"\0" * (1024 * 1024)
    image = admin.image.create_image(name=random_name("img2"), disk_format="raw", container_format="bare",
                                     visibility="public", data=data, properties={"os_distro": "other"})
    admin.image.wait_for_status(image, "active", wait=30)
    yield image, data
    admin.image.delete_image(image, ignore_missing=True)


def _cinder(cloud, *args) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env.update(OS_AUTH_URL=cloud.auth_url, OS_USERNAME="admin", OS_PASSWORD=cloud.passwords()["admin"],
               OS_PROJECT_NAME="admin", OS_USER_DOMAIN_NAME="Default", OS_PROJECT_DOMAIN_NAME="Default",
               OS_REGION_NAME="RegionOne")
    done = subprocess.run([CINDER, *args], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_cinderclient_reimage_replaces_the_data_and_the_image_metadata(cloud, admin, api, raw_image, other_image,
                                                                       volume_bytes):
    first, first_data = raw_image
    second, second_data = other_image
    http = api(admin, "3.68")
    volume = http.create(imageRef=first.id)
    http.wait(volume["id"], "available", timeout=60)
    assert volume_bytes(volume["id"], 20) == first_data[:20]
    _cinder(cloud, "--os-volume-api-version", "3.68", "reimage", volume["id"], second.id)
    done = http.wait(volume["id"], "available", timeout=60)
    meta = done["volume_image_metadata"]
    assert meta["image_id"] == second.id and meta["image_name"] == second.name and meta["os_distro"] == "other"
    assert done["bootable"] == "true" and done["size"] == 1 and done["id"] == volume["id"]
    assert volume_bytes(volume["id"], 16) == second_data[:16]
    assert http.delete(f"/volumes/{volume['id']}").status_code == 202


def test_reimage_errors_as_cinder_answers(admin, api, raw_image, other_image):
    first, _ = raw_image
    second, _ = other_image
    http = api(admin, "3.68")
    volume = http.create()
    http.wait(volume["id"], "available")
    url = f"/volumes/{volume['id']}/action"

    old = api(admin, "3.67").post(url, json={"os-reimage": {"image_id": second.id}})
    assert old.status_code == 404 and old.json()["itemNotFound"]["message"] == "The resource could not be found."
    for body, text in (({}, "'image_id' is a required property"),
                       ({"image_id": "nope"}, "is not a 'uuid'"),
                       ({"image_id": second.id, "force": True}, "Additional properties are not allowed")):
        got = http.post(url, json={"os-reimage": body})
        assert got.status_code == 400 and text in got.json()["badRequest"]["message"], got.text
    missing = str(uuid.uuid4())
    got = http.post(url, json={"os-reimage": {"image_id": missing}})
    assert got.status_code == 404 and got.json()["itemNotFound"]["message"] == f"Image {missing} could not be found."

    big = admin.image.create_image(name=random_name("big"), disk_format="raw", container_format="bare",
                                   min_disk=2, data=b"x" * 512)
    try:
        got = http.post(url, json={"os-reimage": {"image_id": big.id}})
        assert got.status_code == 400
        assert "Volume size 1GB cannot be smaller than the image minDisk size 2GB." in got.json()["badRequest"]["message"]
    finally:
        admin.image.delete_image(big)
    assert http.get(f"/volumes/{volume['id']}").json()["volume"]["status"] == "available"  # nothing changed

    # reserved (an attachment without a connector): only with reimage_reserved
    made = http.post("/attachments", json={"attachment": {"volume_uuid": volume["id"]}},
                     headers={"OpenStack-API-Version": "volume 3.27"})
    assert made.status_code == 200, made.text
    http.wait(volume["id"], "reserved")
    got = http.post(url, json={"os-reimage": {"image_id": second.id}})
    assert got.status_code == 400 and got.json()["badRequest"]["message"] == (
        f"Invalid volume: Volume {volume['id']} status must be available or error, but current status is reserved.")
    got = http.post(url, json={"os-reimage": {"image_id": second.id, "reimage_reserved": True}})
    assert got.status_code == 202, got.text
    done = http.wait(volume["id"], "reserved", timeout=60)
    assert done["volume_image_metadata"]["image_id"] == second.id
    http.delete(f"/attachments/{made.json()['attachment']['id']}", headers={"OpenStack-API-Version": "volume 3.27"})
    http.wait(volume["id"], "available")
    assert http.delete(f"/volumes/{volume['id']}").status_code == 202
