"""`openstack server image create` of a server booted from a volume (Nova's
snapshot_volume_backed): a volume snapshot per attached volume, an image with no data
that maps them, and `server create --image` of that image booting from new volumes; the
server rebuilds only with its root volume's image below 2.93."""

from __future__ import annotations

import json
import time

import httpx

from conftest import random_name


def _wait_snapshot(root, snapshot_id: str, status: str = "available", timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        shown = root.get(f"/snapshots/{snapshot_id}").json()["snapshot"]
        if shown["status"] == status:
            return shown
        assert shown["status"] != "error" and time.monotonic() < deadline, shown
        time.sleep(0.2)


def test_image_of_a_volume_backed_server_snapshots_its_volumes_and_boots(cloud, cli, admin, api, raw_image):
    image, _ = raw_image
    root = api(admin)
    name = random_name("bfv")
    made = cli.run("server", "create", "--flavor", "1", "--image", image.id, "--boot-from-volume", "1",
                   "--wait", name)
    data = root.create()
    root.wait(data["id"], "available")
    cli.ok("server", "add", "volume", made["id"], data["id"])
    root.wait(data["id"], "in-use")
    boot_volume = [a["id"] for a in admin.compute.get_server(made["id"]).attached_volumes if a["id"] != data["id"]][0]

    snap_name = random_name("snap")
    cli.ok("server", "image", "create", "--name", snap_name, "--wait", name)
    shown = cli.run("image", "show", snap_name)
    assert shown["status"] == "active" and shown["size"] in (0, None)
    props = shown["properties"]
    assert props["bdm_v2"] in ("True", True) and props["root_device_name"] == "/dev/vda"
    mapping = props["block_device_mapping"]
    mapping = json.loads(mapping) if isinstance(mapping, str) else mapping
    assert [(m["device_name"], m["boot_index"], m["source_type"], m["destination_type"]) for m in mapping] == [
        ("/dev/vda", 0, "snapshot", "volume"), ("/dev/vdb", None, "snapshot", "volume")]
    snapshots = {s["volume_id"]: s for s in root.get("/snapshots/detail").json()["snapshots"]
                 if s["name"] == f"snapshot for {snap_name}"}
    assert set(snapshots) == {boot_volume, data["id"]}
    assert {m["snapshot_id"] for m in mapping} == {s["id"] for s in snapshots.values()}
    for snapshot in snapshots.values():
        _wait_snapshot(root, snapshot["id"])
    actions = [a["Action"] for a in cli.run("server", "event", "list", name)]
    assert "createImage" in actions

    refused = cli.raw("server", "backup", "create", "--name", random_name("b"), name)
    assert refused.returncode != 0 and "backup volume backed" in refused.stderr
    # below 2.93 (the SDK asks at its newest microversion: it would reimage the root volume)
    with httpx.Client(base_url=f"{cloud.url}/compute/v2.1", timeout=30,
                      headers={"X-Auth-Token": admin.auth_token, "OpenStack-API-Version": "compute 2.92"}) as old:
        refused = old.post(f"/servers/{made['id']}/action", json={"rebuild": {"imageRef": shown["id"]}})
        assert refused.status_code == 400 and "different image for a volume-backed server" in refused.text
        assert old.post(f"/servers/{made['id']}/action",  # the root volume's own image
                        json={"rebuild": {"imageRef": image.id}}).status_code == 202
    admin.compute.wait_for_server(admin.compute.get_server(made["id"]), wait=60)
    assert not admin.compute.get_server(made["id"]).image.get("id")
    assert {a["id"] for a in admin.compute.get_server(made["id"]).attached_volumes} == {boot_volume, data["id"]}

    clone = random_name("clone")
    booted = cli.run("server", "create", "--flavor", "1", "--image", shown["id"], "--wait",
                     clone)
    assert booted["status"] == "ACTIVE"
    server = admin.compute.get_server(booted["id"])
    assert not server.image.get("id")  # volume-backed: no image of its own
    new_volumes = [a["id"] for a in server.attached_volumes]
    assert len(new_volumes) == 2 and not set(new_volumes) & {boot_volume, data["id"]}
    sources = {root.wait(v, "in-use")["snapshot_id"] for v in new_volumes}
    assert sources == {s["id"] for s in snapshots.values()}

    cli.ok("server", "delete", "--wait", clone, name)
    for volume_id in [*new_volumes, boot_volume, data["id"]]:
        root.wait(volume_id, "available")
        assert root.delete(f"/volumes/{volume_id}?cascade=true").status_code == 202  # with their snapshots
    cli.ok("image", "delete", shown["id"])
