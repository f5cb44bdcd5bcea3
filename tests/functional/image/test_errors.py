"""Bad image requests get Glance's codes and leave nothing half-made."""

from __future__ import annotations

import socket
import time

import httpx
import pytest

from cloudproc import CloudProcess
from conftest import FAST_HASH, random_name

PATCH = "application/openstack-images-v2.1-json-patch"


def token(cloud, user="admin"):
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": user, "domain": {"id": "default"}, "password": cloud.passwords()[user]}}},
        "scope": {"project": {"name": user, "domain": {"id": "default"}}}}}
    return httpx.post(f"{cloud.auth_url}/auth/tokens", json=body).headers["X-Subject-Token"]


@pytest.fixture(scope="module")
def http(cloud):
    with httpx.Client(base_url=f"{cloud.url}/image/v2", headers={"X-Auth-Token": token(cloud)}, timeout=30) as c:
        yield c


@pytest.fixture(scope="module")
def demo_http(cloud):
    with httpx.Client(base_url=f"{cloud.url}/image/v2", headers={"X-Auth-Token": token(cloud, "demo")},
                      timeout=30) as c:
        yield c


def new_image(http, **fields):
    body = {"name": random_name("img"), "disk_format": "raw", "container_format": "bare", **fields}
    response = http.post("/images", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def assert_error(response, status):
    assert response.status_code == status, response.text
    assert response.headers["x-openstack-request-id"].startswith("req-")
    body = response.json()
    assert body["code"].startswith(str(status)) and body["message"]


@pytest.mark.parametrize("fields", [{"disk_format": "floppy"}, {"container_format": "crate"},
                                    {"visibility": "everyone"}, {"min_ram": -1}, {"protected": "yes"}])
def test_invalid_fields_are_400(http, fields):
    assert_error(http.post("/images", json={"name": "x", **fields}), 400)


def test_read_only_and_reserved_fields_are_403(http):
    assert_error(http.post("/images", json={"name": "x", "size": 5}), 403)
    assert_error(http.post("/images", json={"name": "x", "os_glance_import_task": "x"}), 403)
    image = new_image(http)
    patch = [{"op": "replace", "path": "/status", "value": "active"}]
    assert_error(http.patch(f"/images/{image['id']}", json=patch, headers={"Content-Type": PATCH}), 403)
    assert_error(http.patch(f"/images/{image['id']}", json=[{"op": "replace", "path": "/name", "value": "y"}]), 415)
    assert http.get(f"/images/{image['id']}").json()["status"] == "queued"


def test_upload_to_active_image_is_409(http):
    image = new_image(http)
    headers = {"Content-Type": "application/octet-stream"}
    assert http.put(f"/images/{image['id']}/file", content=b"abc", headers=headers).status_code == 204
    assert_error(http.put(f"/images/{image['id']}/file", content=b"def", headers=headers), 409)
    assert http.get(f"/images/{image['id']}/file").content == b"abc"


def test_other_projects_private_image_is_404(http, demo_http):
    image = new_image(http, visibility="private")
    assert_error(demo_http.get(f"/images/{image['id']}"), 404)
    assert_error(demo_http.delete(f"/images/{image['id']}"), 404)
    assert image["id"] not in [i["id"] for i in demo_http.get("/images").json()["images"]]
    public = new_image(http, visibility="public")
    assert_error(demo_http.delete(f"/images/{public['id']}"), 403)  # visible, not theirs


def test_users_cannot_publish(demo_http):
    assert_error(demo_http.post("/images", json={"name": "x", "visibility": "public"}), 403)


def test_protected_image_cannot_be_deleted(http):
    image = new_image(http, protected=True)
    assert_error(http.delete(f"/images/{image['id']}"), 403)
    unprotect = [{"op": "replace", "path": "/protected", "value": False}]
    assert http.patch(f"/images/{image['id']}", json=unprotect, headers={"Content-Type": PATCH}).status_code == 200
    assert http.delete(f"/images/{image['id']}").status_code == 204
    assert_error(http.get(f"/images/{image['id']}"), 404)


def test_members_only_on_shared_images(http):
    image = new_image(http, visibility="private")
    assert_error(http.post(f"/images/{image['id']}/members", json={"member": "someone"}), 403)


def test_client_disconnect_mid_upload_leaves_queued_image_and_no_file(cloud, http):
    image = new_image(http)
    images_dir = cloud.data_dir / "images"
    before = set(images_dir.iterdir()) if images_dir.exists() else set()
    request = (f"PUT /image/v2/images/{image['id']}/file HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               f"X-Auth-Token: {http.headers['X-Auth-Token']}\r\nContent-Type: application/octet-stream\r\n"
               f"Content-Length: {50 * 1024 * 1024}\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", cloud.port)) as sock:
        sock.sendall(request + b"x" * (4 * 1024 * 1024))
        time.sleep(0.3)
    for _ in range(100):
        if http.get(f"/images/{image['id']}").json()["status"] == "queued":
            break
        time.sleep(0.05)
    shown = http.get(f"/images/{image['id']}").json()
    assert shown["status"] == "queued" and shown["size"] is None
    assert set(images_dir.iterdir()) == before  # no temp file, no data file
    headers = {"Content-Type": "application/octet-stream"}
    assert http.put(f"/images/{image['id']}/file", content=b"again", headers=headers).status_code == 204


def test_quotas_are_413(tmp_path):
    env = {**FAST_HASH, "OVERCAST_IMAGE_MAX_IMAGES_PER_PROJECT": "2", "OVERCAST_IMAGE_MAX_BYTES_PER_PROJECT": "1000"}
    cloud = CloudProcess(tmp_path / "data", env=env).start()
    try:
        with httpx.Client(base_url=f"{cloud.url}/image/v2", headers={"X-Auth-Token": token(cloud)}) as http:
            first, second = new_image(http), new_image(http)
            assert_error(http.post("/images", json={"name": "third"}), 413)
            headers = {"Content-Type": "application/octet-stream"}
            assert http.put(f"/images/{first['id']}/file", content=b"a" * 600, headers=headers).status_code == 204
            assert_error(http.put(f"/images/{second['id']}/file", content=b"b" * 600, headers=headers), 413)
            assert http.get(f"/images/{second['id']}").json()["status"] == "queued"
            assert [p.name for p in (cloud.data_dir / "images").iterdir()] == [first["id"]]
    finally:
        cloud.stop()


def test_ami_trio_links_kernel_and_ramdisk_by_id(http):
    kernel = new_image(http, disk_format="aki", container_format="aki")
    ramdisk = new_image(http, disk_format="ari", container_format="ari")
    machine = new_image(http, disk_format="ami", container_format="ami", kernel_id=kernel["id"],
                        ramdisk_id=ramdisk["id"])
    assert machine["kernel_id"] == kernel["id"] and machine["ramdisk_id"] == ramdisk["id"]
    assert_error(http.post("/images", json={"name": "x", "disk_format": "ami", "kernel_id": "vmlinuz"}), 400)
