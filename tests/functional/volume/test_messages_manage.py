"""User messages, clusters and manage/unmanage through the openstack CLI, python-cinderclient
and plain HTTP, on the file driver (a file of the volume directory is managed by its name)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from conftest import random_name

CINDER = str(Path(sys.executable).with_name("cinder"))


def test_a_volume_no_backend_takes_leaves_a_user_message(cli, admin, api):
    http = api(admin, "3.5")
    vtype = http.post("/types", json={"volume_type": {"name": random_name("nowhere"),
                                                      "extra_specs": {"storage_protocol": "nvme"}}})
    vtype = vtype.json()["volume_type"]
    volume = http.create(volume_type=vtype["id"])
    http.wait(volume["id"], "error")
    found = [m for m in http.get("/messages").json()["messages"] if m.get("resource_uuid") == volume["id"]]
    assert len(found) == 1, found
    message = found[0]
    assert message["event_id"] == "VOLUME_VOLUME_001_003" and message["resource_type"] == "VOLUME"
    assert message["user_message"] == "schedule allocate volume:Could not find any available weighted backend."
    assert message["message_level"] == "ERROR" and message["guaranteed_until"] > message["created_at"]
    # (the CLI's `volume message show` reads the SDK's Message, whose resource_key is "messages",
    # so it shows nothing from Cinder's {"message": ...} either; the list is right)
    listed = cli.run("--os-volume-api-version", "3.3", "volume", "message", "list")
    assert any(row["ID"] == message["id"] and row["Event ID"] == message["event_id"] for row in listed), listed
    filtered = http.get("/messages?event_id=VOLUME_VOLUME_001_003").json()["messages"]
    assert message["id"] in [m["id"] for m in filtered]
    assert api(admin, "3.2").get("/messages").status_code == 404
    cli.ok("--os-volume-api-version", "3.3", "volume", "message", "delete", message["id"])
    assert http.get(f"/messages/{message['id']}").status_code == 404
    http.delete(f"/volumes/{volume['id']}")
    http.wait(volume["id"], "deleted")
    http.delete(f"/types/{vtype['id']}")


def test_clusters_are_empty_as_cinder_without_clustering(cli, admin, api):
    http = api(admin, "3.7")
    assert http.get("/clusters").json() == {"clusters": []}
    assert http.get("/clusters/detail").json() == {"clusters": []}
    assert http.get("/clusters/mycluster").status_code == 404
    assert http.put("/clusters/enable", json={"name": "mycluster"}).status_code == 404
    assert http.put("/clusters/disable", json={}).status_code == 400
    assert api(admin, "3.6").get("/clusters").status_code == 404
    assert cli.run("--os-volume-api-version", "3.7", "block", "storage", "cluster", "list") == []


def test_unmanage_then_manage_a_volume_and_a_snapshot(cloud, admin, api):
    http = api(admin, "3.8")
    volume = http.create()
    volume = http.wait(volume["id"], "available")
    host = http.get(f"/volumes/{volume['id']}").json()["volume"]["os-vol-host-attr:host"]
    backend = host.split("#")[0]
    snap = http.post("/snapshots", json={"snapshot": {"volume_id": volume["id"]}}).json()["snapshot"]
    deadline = time.monotonic() + 30
    while http.get(f"/snapshots/{snap['id']}").json()["snapshot"]["status"] != "available":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    listed = http.get(f"/manageable_snapshots/detail?host={backend}").json()["manageable-snapshots"]
    mine = next(e for e in listed if e["reference"] == {"source-name": f"snapshot-{snap['id']}.qcow2"})
    assert mine["safe_to_manage"] is False and mine["cinder_id"] == snap["id"]
    # unmanage the snapshot (its file stays), then the volume
    assert http.post(f"/snapshots/{snap['id']}/action", json={"os-unmanage": None}).status_code == 202
    while http.get(f"/snapshots/{snap['id']}").status_code != 404:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    files = cloud.data_dir / "volumes"
    assert (files / f"snapshot-{snap['id']}.qcow2").exists()
    assert http.post(f"/volumes/{volume['id']}/action", json={"os-unmanage": None}).status_code == 202
    http.wait(volume["id"], "deleted")
    assert (files / f"volume-{volume['id']}.qcow2").exists()
    # now listed as manageable; cinderclient lists them too
    listed = http.get(f"/manageable_volumes/detail?host={backend}").json()["manageable-volumes"]
    entry = next(e for e in listed if e["reference"] == {"source-name": f"volume-{volume['id']}.qcow2"})
    assert entry["safe_to_manage"] is True and entry["size"] == 1 and entry["cinder_id"] is None
    assert set(http.get(f"/manageable_volumes?host={backend}").json()["manageable-volumes"][0]) == {
        "reference", "size", "safe_to_manage"}
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env.update(OS_AUTH_URL=cloud.auth_url, OS_USERNAME="admin", OS_PASSWORD=cloud.passwords()["admin"],
               OS_PROJECT_NAME="admin", OS_USER_DOMAIN_NAME="Default", OS_PROJECT_DOMAIN_NAME="Default")
    out = subprocess.run([CINDER, "--os-volume-api-version", "3.8", "manageable-list", backend],
                         capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 0 and f"volume-{volume['id']}.qcow2" in out.stdout, out.stderr
    # manage it back under a new id; the file is renamed to it
    managed = http.post("/os-volume-manage", json={"volume": {
        "host": host, "ref": {"source-name": f"volume-{volume['id']}.qcow2"}, "name": "managed"}})
    assert managed.status_code == 202, managed.text
    managed = http.wait(managed.json()["volume"]["id"], "available")
    assert managed["size"] == 1 and managed["name"] == "managed"
    assert (files / f"volume-{managed['id']}.qcow2").exists() and not (files / f"volume-{volume['id']}.qcow2").exists()
    snap2 = http.post("/os-snapshot-manage", json={"snapshot": {
        "volume_id": managed["id"], "ref": {"source-name": f"snapshot-{snap['id']}.qcow2"}, "name": "s"}})
    assert snap2.status_code == 202, snap2.text
    snap2 = snap2.json()["snapshot"]
    while http.get(f"/snapshots/{snap2['id']}").json()["snapshot"]["status"] != "available":
        assert time.monotonic() < deadline + 30
        time.sleep(0.1)
    # bad references: a missing file ends in error_managing; an unknown host is 404
    bad = http.post("/os-volume-manage", json={"volume": {"host": host, "ref": {"source-name": "nope.qcow2"}}})
    bad_id = bad.json()["volume"]["id"]
    assert http.wait(bad_id, "error_managing")["status"] == "error_managing"
    assert http.post("/os-volume-manage", json={"volume": {"host": "elsewhere@file", "ref": {"source-name": "x"}}}) \
        .status_code == 404
    assert http.post("/os-volume-manage", json={"volume": {"host": host}}).status_code == 400
    for ident in (bad_id,):
        http.delete(f"/volumes/{ident}")
        http.wait(ident, "deleted")
    http.delete(f"/snapshots/{snap2['id']}")
    while http.get(f"/snapshots/{snap2['id']}").status_code != 404:
        time.sleep(0.1)
    http.delete(f"/volumes/{managed['id']}")
    http.wait(managed["id"], "deleted")
    assert not (files / f"volume-{managed['id']}.qcow2").exists()
