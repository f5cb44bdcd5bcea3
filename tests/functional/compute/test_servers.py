"""Servers with the real clients: the openstack CLI, openstacksdk and python-novaclient,
on the fake hypervisor of the all-in-one's in-process agent."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from conftest import connect, random_name

NOVA = str(Path(sys.executable).with_name("nova"))


@pytest.fixture(scope="module")
def image(admin):
    created = admin.image.create_image(name=random_name("img"), data=b"\0" * 4096, disk_format="raw",
                                       container_format="bare", visibility="public", min_ram=0, min_disk=0)
    yield created
    admin.image.delete_image(created, ignore_missing=True)


@pytest.fixture(scope="module")
def keypair(demo):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    public = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    created = demo.compute.create_keypair(name=random_name("key"), public_key=public)
    yield created
    demo.compute.delete_keypair(created, ignore_missing=True)


def api(cloud, conn, version: str = "2.1") -> tuple[str, dict]:
    return (f"{cloud.url}/compute/v2.1",
            {"X-Auth-Token": conn.auth_token, "OpenStack-API-Version": f"compute {version}"})


def wait_status(conn, server_id: str, status: str, timeout: float = 10):
    deadline = time.monotonic() + timeout
    while True:
        server = conn.compute.get_server(server_id)
        if server.status == status or time.monotonic() > deadline:
            return server
        time.sleep(0.05)


@pytest.mark.cli
def test_cli_server_lifecycle(cli, image, keypair):
    demo = "overcast-demo"
    name = random_name("vm")
    created = cli.run("server", "create", "--flavor", "m1.nano", "--image", image.id, "--key-name", keypair.name,
                      "--wait", name, cloud_name=demo)
    assert created["status"] == "ACTIVE" and created["key_name"] == keypair.name
    assert created["OS-EXT-STS:power_state"] in (1, "Running")
    assert name in [row["Name"] for row in cli.run("server", "list", cloud_name=demo)]
    steps = [(("server", "stop"), "SHUTOFF"), (("server", "start"), "ACTIVE"), (("server", "reboot"), "ACTIVE"),
             (("server", "pause"), "PAUSED"), (("server", "unpause"), "ACTIVE"),
             (("server", "suspend"), "SUSPENDED"), (("server", "resume"), "ACTIVE"),
             (("server", "resize", "--flavor", "m1.tiny", "--wait"), "VERIFY_RESIZE"),
             (("server", "resize", "confirm"), "ACTIVE"),
             (("server", "rebuild", "--image", image.id, "--wait"), "ACTIVE")]
    for args, status in steps:
        cli.ok(*args, name, cloud_name=demo)
        deadline = time.monotonic() + 10
        while (shown := cli.run("server", "show", name, cloud_name=demo))["status"] != status:
            assert time.monotonic() < deadline, f"{args} left {shown['status']}, wanted {status}"
            time.sleep(0.1)
    assert shown["flavor"]["original_name"] == "m1.tiny" if isinstance(shown["flavor"], dict) else "m1.tiny" in shown["flavor"]
    snapshot = random_name("snap")
    cli.ok("server", "image", "create", "--name", snapshot, "--wait", name, cloud_name=demo)
    made = cli.run("image", "show", snapshot, cloud_name=demo)
    assert made["status"] == "active" and made["properties"]["image_type"] == "snapshot"
    actions = [row["Action"] for row in cli.run("server", "event", "list", name, cloud_name=demo)]
    assert {"create", "stop", "start", "reboot", "resize", "confirmResize", "rebuild", "createImage"} <= set(actions)
    cli.ok("server", "delete", "--wait", name, cloud_name=demo)
    assert name not in [row["Name"] for row in cli.run("server", "list", cloud_name=demo)]
    cli.ok("image", "delete", snapshot, cloud_name=demo)


def test_sdk_create_wait_metadata_tags_delete(cloud, demo, image):
    # (the cloud layer's create_server(wait=True) also insists on an IP address: that comes
    # with the network service; the compute proxy's create + wait is what it builds on)
    server = demo.compute.create_server(name=random_name("sdk"), image_id=image.id, flavor_id="42",
                                        metadata={"role": "web"})
    server = demo.compute.wait_for_server(server, status="ACTIVE", interval=0.1, wait=30)
    assert server.status == "ACTIVE" and server.metadata == {"role": "web"}
    demo.compute.set_server_metadata(server, color="blue")
    assert demo.compute.get_server_metadata(server).metadata == {"role": "web", "color": "blue"}
    demo.compute.delete_server_metadata(server, ["role"])
    base, headers = api(cloud, demo, "2.26")
    assert httpx.put(f"{base}/servers/{server.id}/tags", json={"tags": ["a", "b"]}, headers=headers).json() == {
        "tags": ["a", "b"]}
    assert httpx.put(f"{base}/servers/{server.id}/tags/c", headers=headers).status_code == 201
    listed = httpx.get(f"{base}/servers/detail?tags=a,c", headers=headers).json()["servers"]
    assert [s["id"] for s in listed] == [server.id] and listed[0]["tags"] == ["a", "b", "c"]
    untagged = httpx.get(f"{base}/servers?not-tags=a", headers=headers).json()["servers"]
    assert server.id not in [s["id"] for s in untagged]
    demo.delete_server(server.id, wait=True, timeout=30)
    assert demo.compute.find_server(server.id) is None


def test_novaclient_boot_list_show_delete(cloud, image):
    env = {"OS_AUTH_URL": cloud.auth_url, "OS_USERNAME": "demo", "OS_PASSWORD": cloud.passwords()["demo"],
           "OS_PROJECT_NAME": "demo", "OS_USER_DOMAIN_NAME": "Default", "OS_PROJECT_DOMAIN_NAME": "Default",
           "OS_REGION_NAME": "RegionOne", "PATH": "/usr/bin:/bin"}
    name = random_name("nova")

    def nova(*args):
        result = subprocess.run([NOVA, *args], env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return result.stdout

    booted = nova("boot", "--flavor", "m1.nano", "--image", image.id, "--poll", name)
    assert "ACTIVE" in booted or "100% complete" in booted
    assert name in nova("list")
    assert "ACTIVE" in nova("show", name)
    nova("delete", name)
    deadline = time.monotonic() + 10
    while name in nova("list"):
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_bad_input_gets_novas_answers(cloud, demo, admin, image):
    base, headers = api(cloud, demo)

    def boot(**server):
        return httpx.post(f"{base}/servers", json={"server": {"name": random_name("bad"), **server}}, headers=headers)

    unknown = "11111111-2222-3333-4444-555555555555"
    answer = boot(imageRef=unknown, flavorRef="42")
    assert answer.status_code == 400 and "badRequest" in answer.json()
    assert boot(imageRef=image.id, flavorRef="no-such-flavor").status_code == 400
    assert "key_name" in boot(imageRef=image.id, flavorRef="42", key_name="nope").json()["badRequest"]["message"]
    assert boot(imageRef=image.id, flavorRef="42", min_count=2, max_count=1).status_code == 400
    assert boot(imageRef=image.id, flavorRef="42", user_data="not base64!").status_code == 400
    assert httpx.post(f"{base}/servers", content=b"{nope", headers=headers).status_code == 400
    big = admin.image.create_image(name=random_name("big"), data=b"\0" * 512, disk_format="raw",
                                   container_format="bare", visibility="public", min_disk=100, min_ram=100000)
    try:
        answer = boot(imageRef=big.id, flavorRef="42")
        assert answer.status_code == 400 and "too small" in answer.json()["badRequest"]["message"]
    finally:
        admin.image.delete_image(big)
    assert httpx.get(f"{base}/servers/{unknown}", headers=headers).status_code == 404
    # another project's server is not found; a wrong-state action is a conflict
    mine = admin.compute.create_server(name=random_name("adm"), image_id=image.id, flavor_id="42")
    admin.compute.wait_for_server(mine, interval=0.1, wait=30)
    try:
        assert httpx.get(f"{base}/servers/{mine.id}", headers=headers).status_code == 404
        assert httpx.delete(f"{base}/servers/{mine.id}", headers=headers).status_code == 404
        abase, aheaders = api(cloud, admin)
        conflict = httpx.post(f"{abase}/servers/{mine.id}/action", json={"os-start": None}, headers=aheaders)
        assert conflict.status_code == 409 and "conflictingRequest" in conflict.json()
        assert httpx.post(f"{abase}/servers/{mine.id}/action", json={"fly": None},
                          headers=aheaders).status_code == 400
    finally:
        admin.delete_server(mine.id, wait=True, timeout=30)


def test_quota_exceeded_names_the_resource_and_failed_boot_releases(cloud, admin, image):
    project = admin.identity.create_project(name=random_name("q"), domain_id="default")
    user = admin.identity.create_user(name=random_name("u"), password="pw-123456", default_project_id=project.id)
    member = admin.identity.find_role("member")
    admin.identity.assign_project_role_to_user(project, user, member)
    try:
        conn = connect(cloud, user.name, "pw-123456", project.name)
        admin.set_compute_quotas(project.id, instances=2, cores=10000, ram=1 << 20)
        base, headers = api(cloud, conn)
        answer = httpx.post(f"{base}/servers", json={"server": {"name": "x", "imageRef": image.id, "flavorRef": "42",
                                                                "min_count": 3}}, headers=headers)
        assert answer.status_code == 403 and "instances" in answer.json()["forbidden"]["message"]
        # a flavor no host can take: ERROR with a fault, nothing claimed, quota back on delete
        huge = admin.compute.create_flavor(name=random_name("huge"), ram=64, vcpus=4096, disk=1)
        try:
            before = _claimed(admin)
            server = conn.compute.create_server(name="huge", image_id=image.id, flavor_id=huge.id)
            failed = wait_status(conn, server.id, "ERROR")
            assert failed.status == "ERROR" and "No valid host" in failed.fault["message"]
            assert _claimed(admin) == before
            used = httpx.get(f"{base}/limits", headers=headers).json()["limits"]["absolute"]
            assert used["totalInstancesUsed"] == 1 and used["totalCoresUsed"] == 4096
            conn.delete_server(server.id, wait=True, timeout=30)
            used = httpx.get(f"{base}/limits", headers=headers).json()["limits"]["absolute"]
            assert used["totalInstancesUsed"] == 0 and used["totalCoresUsed"] == 0
        finally:
            admin.compute.delete_flavor(huge)
    finally:
        admin.identity.delete_user(user)
        admin.identity.delete_project(project)


def _claimed(conn) -> list[int]:
    return [h.vcpus_used for h in conn.compute.hypervisors(details=True)]


def test_list_filters_sort_and_paging(cloud, admin, demo, image):
    made = [demo.compute.create_server(name=f"page-{i}", image_id=image.id, flavor_id="42") for i in range(5)]
    try:
        for server in made:
            wait_status(demo, server.id, "ACTIVE")
        base, headers = api(cloud, demo)
        first = httpx.get(f"{base}/servers?name=^page-&limit=2", headers=headers).json()
        assert len(first["servers"]) == 2 and "servers_links" in first
        ids = [s["id"] for s in first["servers"]]
        rest = httpx.get(f"{base}/servers?name=^page-&marker={ids[-1]}", headers=headers).json()["servers"]
        assert [s["id"] for s in first["servers"] + rest] == [s.id for s in reversed(made)]
        by_name = httpx.get(f"{base}/servers?name=^page-&sort_key=display_name&sort_dir=asc",
                            headers=headers).json()["servers"]
        assert [s["name"] for s in by_name] == [f"page-{i}" for i in range(5)]
        assert httpx.get(f"{base}/servers?status=SHUTOFF&name=^page-", headers=headers).json()["servers"] == []
        assert httpx.get(f"{base}/servers?marker=nope", headers=headers).status_code == 400
        everyone = httpx.get(f"{base}/servers?all_tenants=1", headers=headers)
        assert everyone.status_code == 403
        abase, aheaders = api(cloud, admin)
        listed = httpx.get(f"{abase}/servers/detail?all_tenants=1&name=^page-", headers=aheaders).json()["servers"]
        assert len(listed) == 5 and all("OS-EXT-SRV-ATTR:host" in s for s in listed)
    finally:
        for server in made:
            demo.delete_server(server.id, wait=True, timeout=30)
