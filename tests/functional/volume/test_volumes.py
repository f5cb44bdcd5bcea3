"""Volumes through the real clients: the openstack CLI, openstacksdk, python-cinderclient
and plain HTTP for the error cases; the file driver underneath (DATA_DIR/volumes)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from conftest import connect, random_name

CINDER = str(Path(sys.executable).with_name("cinder"))


def _files(cloud) -> set[str]:
    root = cloud.data_dir / "volumes"
    return {p.name for p in root.iterdir()} if root.exists() else set()


def _wait_cli(cli, kind: str, name: str, status: str, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        shown = cli.run(*kind.split(), "show", name)
        if shown["status"] == status:
            return shown
        assert time.monotonic() < deadline, f"{kind} {name} is {shown['status']}, not {status}"
        time.sleep(0.2)


def test_cli_volume_lifecycle_writes_and_removes_files(cloud, cli):
    name = random_name("vol")
    made = cli.run("volume", "create", "--size", "1", name)
    assert made["size"] == 1 and made["status"] in ("creating", "available")
    shown = _wait_cli(cli, "volume", name, "available")
    assert f"volume-{shown['id']}.qcow2" in _files(cloud)
    assert any(row["Name"] == name for row in cli.run("volume", "list"))
    cli.ok("volume", "set", "--name", name + "-b", "--property", "purpose=test", "--description", "d", name)
    name += "-b"
    cli.ok("volume", "set", "--size", "3", name)
    shown = _wait_cli(cli, "volume", name, "available")
    assert shown["size"] == 3 and shown["properties"] == {"purpose": "test"} and shown["description"] == "d"

    snap = random_name("snap")
    cli.run("volume", "snapshot", "create", "--volume", name, snap)
    snapshot = _wait_cli(cli, "volume snapshot", snap, "available")
    assert f"snapshot-{snapshot['id']}.qcow2" in _files(cloud)
    assert any(row["Name"] == snap for row in cli.run("volume", "snapshot", "list"))
    refused = cli.raw("volume", "delete", name)
    assert refused.returncode != 0 and "snapshots" in refused.stderr
    cli.ok("volume", "snapshot", "delete", snap)
    cli.ok("volume", "delete", name)
    deadline = time.monotonic() + 30
    while any(shown["id"] in f or snapshot["id"] in f for f in _files(cloud)):
        assert time.monotonic() < deadline, _files(cloud)
        time.sleep(0.2)
    assert cli.raw("volume", "show", name).returncode != 0


def test_cli_volume_types_and_services(cli):
    name = random_name("type")
    made = cli.run("volume", "type", "create", "--property", "backend=file", "--private", name)
    assert made["name"] == name
    listed = cli.run("volume", "type", "list", "--long")
    assert any(row["Name"] == name for row in listed) and any(row["Name"] == "__DEFAULT__" for row in listed)
    cli.ok("volume", "type", "delete", name)
    services = {row["Binary"]: row for row in cli.run("volume", "service", "list")}
    assert services["cinder-scheduler"]["State"] == "up"
    assert services["cinder-volume"]["State"] == "up" and "@" in services["cinder-volume"]["Host"]


def test_cinderclient_create_list_delete(cloud):
    password = cloud.passwords()["admin"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env.update(OS_AUTH_URL=cloud.auth_url, OS_USERNAME="admin", OS_PASSWORD=password, OS_PROJECT_NAME="admin",
               OS_USER_DOMAIN_NAME="Default", OS_PROJECT_DOMAIN_NAME="Default", OS_REGION_NAME="RegionOne")
    name = random_name("cinder")

    def cinder(*args):
        done = subprocess.run([CINDER, *args], env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout

    created = cinder("create", "--name", name, "1")
    assert name in created
    deadline = time.monotonic() + 30
    while "available" not in [line for line in cinder("list").splitlines() if name in line][0]:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    cinder("delete", name)


def test_sdk_volume_from_image_and_upload_to_image(admin, raw_image):
    image, data = raw_image
    volume = admin.block_storage.create_volume(size=1, image_id=image.id, name=random_name("fromimg"))
    volume = admin.block_storage.wait_for_status(volume, "available", failures=["error"], wait=60)
    assert volume.is_bootable and volume.volume_image_metadata["image_id"] == image.id
    uploaded = admin.block_storage.upload_volume_to_image(volume, random_name("up"), disk_format="raw")
    new_image = admin.image.wait_for_status(admin.image.get_image(uploaded["image_id"]), "active", wait=60)
    assert new_image.size == 1 << 30
    head = b"".join(admin.image.download_image(new_image, stream=True).iter_content(1 << 16))[:len(data)]
    assert head == data
    admin.image.delete_image(new_image)
    admin.block_storage.wait_for_status(admin.block_storage.get_volume(volume), "available", wait=30)
    admin.block_storage.delete_volume(volume)


def test_bad_input_answers_as_cinder(cloud, admin, api):
    demo_conn = connect(cloud, "demo")
    demo, root = api(demo_conn), api(admin)
    for size in (0, -1, "x"):
        got = demo.post("/volumes", json={"volume": {"size": size}})
        assert got.status_code == 400 and "badRequest" in got.json(), got.text
    mine = root.create()
    assert demo.get(f"/volumes/{mine['id']}").status_code == 404
    assert demo.delete(f"/volumes/{mine['id']}").json()["itemNotFound"]["code"] == 404
    root.wait(mine["id"], "available")

    project = demo_conn.current_project_id
    got = root.put(f"/os-quota-sets/{project}", json={"quota_set": {"gigabytes": 2}})
    assert got.status_code == 200 and got.json()["quota_set"]["gigabytes"] == 2
    try:
        over = demo.post("/volumes", json={"volume": {"size": 3}})
        assert over.status_code == 413 and "overLimit" in over.json(), over.text
        first = demo.create(size=2)
        demo.wait(first["id"], "available")
        assert demo.post("/volumes", json={"volume": {"size": 1}}).status_code == 413
        usage = demo.get(f"/os-quota-sets/{project}", params={"usage": "true"})
        assert usage.status_code == 403 or usage.json()["quota_set"]["gigabytes"]["in_use"] == 2
        demo.delete(f"/volumes/{first['id']}")
        demo.wait(first["id"], "deleted")
    finally:
        root.delete(f"/os-quota-sets/{project}")
    root.delete(f"/volumes/{mine['id']}")


def test_driver_failure_leaves_error_and_frees_nothing_but_the_row(cloud, admin, api):
    """A qcow2 image that is not a qcow2: the copy fails, the volume is error with the
    reason, no file is left, and deleting it frees the quota."""
    image = admin.image.create_image(name=random_name("bad"), disk_format="qcow2", container_format="bare",
                                     data=b"not a qcow2 at all" * 1000)
    admin.image.wait_for_status(image, "active", wait=30)
    root = api(admin)
    before_files = _files(cloud)
    before = root.get(f"/os-quota-sets/{admin.current_project_id}", params={"usage": "true"}).json()
    made = root.create(imageRef=image.id)
    failed = root.wait(made["id"], "error")
    assert failed["id"] == made["id"]
    assert {f for f in _files(cloud) if made["id"] in f or f.startswith(".tmp")} == set()
    during = root.get(f"/os-quota-sets/{admin.current_project_id}", params={"usage": "true"}).json()
    assert during["quota_set"]["volumes"]["in_use"] == before["quota_set"]["volumes"]["in_use"] + 1
    assert root.delete(f"/volumes/{made['id']}").status_code == 202
    root.wait(made["id"], "deleted")
    after = root.get(f"/os-quota-sets/{admin.current_project_id}", params={"usage": "true"}).json()
    assert after["quota_set"]["volumes"]["in_use"] == before["quota_set"]["volumes"]["in_use"]
    assert _files(cloud) - before_files == set()
    admin.image.delete_image(image)


def test_versions_and_microversions(cloud, admin, api):
    import httpx

    root = httpx.get(f"{cloud.url}/volume/")
    assert root.status_code == 300 and root.json()["versions"][0]["version"] == "3.70"
    latest = api(admin, "latest").get("/volumes")
    assert latest.headers["OpenStack-API-Version"] == "volume 3.70"
    assert api(admin, "3.71").get("/volumes").status_code == 406
    assert api(admin, "3.0").get("/attachments").status_code == 404
    assert api(admin, "3.27").get("/attachments").status_code == 200
    assert api(admin).get("/groups").status_code == 404  # 3.13+, as Cinder
    assert api(admin, "3.13").get("/groups").status_code == 200
    assert api(admin).get("/consistencygroups").status_code == 200  # at any microversion, as Cinder
    assert api(admin).post("/workers/cleanup").status_code == 501
