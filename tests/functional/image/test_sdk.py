"""openstacksdk's image calls, upload by PUT and by interoperable import, downloads."""

from __future__ import annotations

import hashlib
import http.server
import os
import threading
import time

import pytest

from conftest import random_name


@pytest.fixture
def payload(tmp_path):
    path = tmp_path / "disk.raw"
    path.write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    return path


def wait_active(conn, image_id, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        image = conn.image.get_image(image_id)
        if image.status == "active":
            return image
        assert not image.properties.get("os_glance_failed_import"), image.properties
        time.sleep(0.2)
    raise AssertionError(f"image {image_id} never became active")


def test_create_image_uploads_and_hashes(admin, payload):
    image = admin.create_image(random_name("sdk"), filename=str(payload), disk_format="raw",
                               container_format="bare", wait=True)
    data = payload.read_bytes()
    assert image.status == "active" and image.size == len(data)
    assert image.checksum == hashlib.md5(data).hexdigest()
    assert image.hash_algo == "sha512" and image.hash_value == hashlib.sha512(data).hexdigest()
    assert image.virtual_size == len(data)
    downloaded = admin.image.download_image(image)
    assert downloaded.content == data
    admin.image.delete_image(image)


def test_create_image_by_glance_direct_import(admin, payload):
    image = admin.create_image(random_name("import"), filename=str(payload), disk_format="raw",
                               container_format="bare", use_import=True, wait=False)
    image = wait_active(admin, image.id)
    assert image.size == payload.stat().st_size
    assert image.properties.get("os_glance_import_task") == "glance-direct"
    admin.image.delete_image(image)


def test_web_download_import_from_a_loopback_server(admin, payload):
    handler = lambda *args: http.server.SimpleHTTPRequestHandler(*args, directory=str(payload.parent))  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        image = admin.image.create_image(name=random_name("web"), disk_format="raw", container_format="bare")
        url = f"http://127.0.0.1:{server.server_address[1]}/{payload.name}"
        admin.image.import_image(image, method="web-download", uri=url)
        image = wait_active(admin, image.id)
        assert image.checksum == hashlib.md5(payload.read_bytes()).hexdigest()
    finally:
        server.shutdown()
    admin.image.delete_image(image)


def test_range_download_and_content_md5(admin, payload):
    image = admin.create_image(random_name("range"), filename=str(payload), disk_format="raw",
                               container_format="bare", wait=True)
    whole = admin.image.get(f"/images/{image.id}/file")
    assert whole.headers["Content-MD5"] == hashlib.md5(payload.read_bytes()).hexdigest()
    part = admin.image.get(f"/images/{image.id}/file", headers={"Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == payload.read_bytes()[10:20]
    assert part.headers["Content-Range"] == f"bytes 10-19/{payload.stat().st_size}"
    tail = admin.image.get(f"/images/{image.id}/file", headers={"Range": "bytes=-5"})
    assert tail.content == payload.read_bytes()[-5:]
    beyond = admin.image.get(f"/images/{image.id}/file", headers={"Range": "bytes=999999999-"})
    assert beyond.status_code == 416
    admin.image.delete_image(image)


def test_list_filters_sorting_and_paging(admin):
    prefix = random_name("page")
    made = [admin.image.create_image(name=f"{prefix}-{i}", disk_format="raw", container_format="bare",
                                     min_ram=i, tags=["even"] if i % 2 == 0 else []) for i in range(5)]
    names = [i.name for i in admin.image.images(sort="name:asc", limit=2) if i.name.startswith(prefix)]
    assert names == [f"{prefix}-{i}" for i in range(5)]  # the SDK follows the next links
    evens = {i.name for i in admin.image.images(tag="even") if i.name.startswith(prefix)}
    assert evens == {f"{prefix}-0", f"{prefix}-2", f"{prefix}-4"}
    page = admin.image.get("/images?limit=2&sort_key=name&sort_dir=asc&status=queued").json()
    assert len(page["images"]) == 2 and "marker=" in page["next"]
    assert [i.id for i in admin.image.images(name=f"{prefix}-3")] == [made[3].id]
    for image in made:
        admin.image.delete_image(image)


def test_deactivate_blocks_download_for_users(admin, demo, payload):
    image = admin.create_image(random_name("deact"), filename=str(payload), disk_format="raw",
                               container_format="bare", wait=True, visibility="public")
    admin.image.deactivate_image(image)
    assert admin.image.get_image(image).status == "deactivated"
    assert demo.image.get(f"/images/{image.id}/file").status_code == 403
    admin.image.reactivate_image(image)
    assert demo.image.get(f"/images/{image.id}/file").status_code == 200
    admin.image.delete_image(image)
