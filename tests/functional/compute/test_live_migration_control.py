"""Aborting and forcing a live migration through the API (2.22, 2.24, 2.65) on two fake
hosts whose live migrations last until told (compute.fake_live_migration_seconds)."""

from __future__ import annotations

import time

import httpx
import pytest

from cloudproc import CloudProcess
from conftest import FAST_HASH, connect, random_name


@pytest.fixture(scope="module")
def slow_hosts(tmp_path_factory):
    data = tmp_path_factory.mktemp("live") / "data"
    proc = CloudProcess(data, env={**FAST_HASH, "OVERCAST_COMPUTE_FAKE_HOSTS": "2",
                                   "OVERCAST_COMPUTE_FAKE_LIVE_MIGRATION_SECONDS": "300",
                                   "OVERCAST_COMPUTE_HOST": random_name("lv")}).start()
    yield proc
    assert proc.stop() == 0


@pytest.fixture(scope="module")
def admin(slow_hosts):
    return connect(slow_hosts)


@pytest.fixture
def server(admin):
    image = admin.image.create_image(name=random_name("img"), data=b"\0" * 1024, disk_format="raw",
                                     container_format="bare", visibility="public")
    created = admin.compute.wait_for_server(admin.compute.create_server(name=random_name("lv"), image_id=image.id,
                                                                        flavor_id="42"), interval=0.1, wait=30)
    yield created
    admin.compute.delete_server(created)
    admin.compute.wait_for_delete(created, interval=0.1, wait=30)
    admin.image.delete_image(image)


def call(cloud, conn, method: str, path: str, version: str = "latest", **kwargs) -> httpx.Response:
    headers = {"X-Auth-Token": conn.auth_token, "OpenStack-API-Version": f"compute {version}"}
    return httpx.request(method, f"{cloud.url}/compute/v2.1{path}", headers=headers, **kwargs)


def wait_for(cloud, conn, uuid: str, status: str, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        body = call(cloud, conn, "GET", f"/servers/{uuid}").json()["server"]
        if body["status"] == status and body["OS-EXT-STS:task_state"] is None:
            return body
        assert body["status"] != "ERROR", body.get("fault")
        assert time.monotonic() < deadline, body["status"]
        time.sleep(0.1)


def migrations(cloud, conn, uuid: str) -> list[dict]:
    found = call(cloud, conn, "GET", "/os-migrations", params={"instance_uuid": uuid}).json()["migrations"]
    return sorted(found, key=lambda m: m["id"])


def _running_migration(cloud, admin, uuid: str) -> int:
    deadline = time.monotonic() + 30
    while True:
        found = call(cloud, admin, "GET", f"/servers/{uuid}/migrations", "2.23").json()["migrations"]
        if found and found[0]["status"] == "running":
            return found[0]["id"]
        assert time.monotonic() < deadline, found
        time.sleep(0.1)


def _start(cloud, admin, uuid: str) -> str:
    source = wait_for(cloud, admin, uuid, "ACTIVE")["OS-EXT-SRV-ATTR:host"]
    answer = call(cloud, admin, "POST", f"/servers/{uuid}/action",
                  json={"os-migrateLive": {"host": None, "block_migration": "auto"}})
    assert answer.status_code == 202
    return source


def test_abort_cancels_the_migration_and_the_server_stays(slow_hosts, admin, server):
    source = _start(slow_hosts, admin, server.id)
    mid = _running_migration(slow_hosts, admin, server.id)
    url = f"/servers/{server.id}/migrations"
    assert call(slow_hosts, admin, "DELETE", f"{url}/999999", "2.24").status_code == 404
    assert call(slow_hosts, admin, "DELETE", f"{url}/{mid}", "2.24").status_code == 202
    back = wait_for(slow_hosts, admin, server.id, "ACTIVE")
    assert back["OS-EXT-SRV-ATTR:host"] == source and back["OS-EXT-STS:power_state"] == 1
    assert [m["status"] for m in migrations(slow_hosts, admin, server.id)] == ["cancelled"]
    assert call(slow_hosts, admin, "DELETE", f"{url}/{mid}", "2.24").status_code == 409  # no longer migrating
    hypervisors = call(slow_hosts, admin, "GET", "/os-hypervisors/detail", "2.87").json()["hypervisors"]
    assert sorted(h["vcpus_used"] for h in hypervisors) == [0, 1]  # the destination's claim went
    actions = call(slow_hosts, admin, "GET", f"/servers/{server.id}/os-instance-actions").json()
    assert "live_migration_cancel" in {a["action"] for a in actions["instanceActions"]}


def test_force_complete_finishes_it_now(slow_hosts, admin, server):
    source = _start(slow_hosts, admin, server.id)
    mid = _running_migration(slow_hosts, admin, server.id)
    action = f"/servers/{server.id}/migrations/{mid}/action"
    assert call(slow_hosts, admin, "POST", action, "2.22", json={"force_complete": None}).status_code == 202
    moved = wait_for(slow_hosts, admin, server.id, "ACTIVE")
    assert moved["OS-EXT-SRV-ATTR:host"] != source and moved["OS-EXT-STS:power_state"] == 1
    assert [m["status"] for m in migrations(slow_hosts, admin, server.id)] == ["completed"]
    assert call(slow_hosts, admin, "POST", action, "2.22", json={"force_complete": None}).status_code == 409


@pytest.fixture(scope="module")
def post_copy_hosts(tmp_path_factory):
    data = tmp_path_factory.mktemp("postcopy") / "data"
    proc = CloudProcess(data, env={**FAST_HASH, "OVERCAST_COMPUTE_FAKE_HOSTS": "2",
                                   "OVERCAST_COMPUTE_FAKE_LIVE_MIGRATION_SECONDS": "300",
                                   "OVERCAST_COMPUTE_LIVE_MIGRATION_PERMIT_POST_COPY": "true",
                                   "OVERCAST_COMPUTE_HOST": random_name("pc")}).start()
    yield proc
    assert proc.stop() == 0


def test_force_complete_with_post_copy_shows_it_and_it_can_no_longer_be_stopped(post_copy_hosts):
    """As Nova's libvirt driver: the migration is ``running (post-copy)`` (not listed as in
    progress), abort and force-complete answer 400, and it completes."""
    admin = connect(post_copy_hosts)
    image = admin.image.create_image(name=random_name("img"), data=b"\0" * 1024, disk_format="raw",
                                     container_format="bare", visibility="public")
    server = admin.compute.wait_for_server(admin.compute.create_server(name=random_name("pc"), image_id=image.id,
                                                                       flavor_id="42"), interval=0.1, wait=30)
    source = _start(post_copy_hosts, admin, server.id)
    mid = _running_migration(post_copy_hosts, admin, server.id)
    url = f"/servers/{server.id}/migrations/{mid}"
    assert call(post_copy_hosts, admin, "POST", f"{url}/action", "2.22", json={"force_complete": None}).status_code \
        == 202
    deadline = time.monotonic() + 10
    while [m["status"] for m in migrations(post_copy_hosts, admin, server.id)] != ["running (post-copy)"]:
        assert time.monotonic() < deadline, migrations(post_copy_hosts, admin, server.id)
        time.sleep(0.05)
    assert call(post_copy_hosts, admin, "GET", f"/servers/{server.id}/migrations", "2.23").json() == \
        {"migrations": []}
    aborted = call(post_copy_hosts, admin, "DELETE", url, "2.24")
    assert aborted.status_code == 400 and "running (post-copy)" in aborted.json()["badRequest"]["message"]
    forced = call(post_copy_hosts, admin, "POST", f"{url}/action", "2.22", json={"force_complete": None})
    assert forced.status_code == 400
    moved = wait_for(post_copy_hosts, admin, server.id, "ACTIVE")
    assert moved["OS-EXT-SRV-ATTR:host"] != source
    assert [m["status"] for m in migrations(post_copy_hosts, admin, server.id)] == ["completed"]
    admin.compute.delete_server(server)
    admin.compute.wait_for_delete(server, interval=0.1, wait=30)
    admin.image.delete_image(image)
