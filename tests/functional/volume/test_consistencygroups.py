"""Consistency groups and cgsnapshots (Cinder's older API, served on generic groups) through
the openstack CLI, python-cinderclient's consisgroup-*/cgsnapshot-* and plain HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import random_name
from volumewait import wait_status

CINDER = str(Path(sys.executable).with_name("cinder"))




def test_cli_consistency_group_lifecycle(cli, admin, api):
    http = api(admin)
    name = random_name("cg")
    made = cli.run("consistency", "group", "create", "--volume-type", "__DEFAULT__", "--description", "two", name)
    assert made["name"] == name  # the create answers id and name only, as Cinder's
    shown = cli.run("consistency", "group", "show", name)
    assert shown["status"] == "available" and len(shown["volume_types"]) == 1 and shown["description"] == "two"
    # a consistency group is a group of default_cgsnapshot_type, which the groups API leaves alone
    group = api(admin, "3.14").get(f"/groups/{made['id']}")
    assert group.status_code == 400 and "default_cgsnapshot" not in group.text and "CG APIs" in group.text
    assert made["id"] not in [g["id"] for g in api(admin, "3.13").get("/groups").json()["groups"]]
    volumes = [cli.run("volume", "create", "--size", "1", "--consistency-group", name, random_name("cgv"))
               for _ in range(2)]
    for volume in volumes:
        http.wait(volume["id"], "available")
        assert api(admin, "3.13").get(f"/volumes/{volume['id']}").json()["volume"]["group_id"] == made["id"]
    outsider = http.create()
    http.wait(outsider["id"], "available")
    cli.ok("consistency", "group", "add", "volume", name, outsider["id"])
    assert api(admin, "3.13").get(f"/volumes/{outsider['id']}").json()["volume"]["group_id"] == made["id"]
    cli.ok("consistency", "group", "remove", "volume", name, outsider["id"])
    assert api(admin, "3.13").get(f"/volumes/{outsider['id']}").json()["volume"]["group_id"] is None
    renamed = random_name("cg")
    cli.ok("consistency", "group", "set", "--name", renamed, name)
    listed = cli.run("consistency", "group", "list", "--long")
    assert [row for row in listed if row["ID"] == made["id"]][0]["Name"] == renamed
    # a cgsnapshot: one snapshot per member volume
    snap_name = random_name("cgs")
    snap = cli.run("consistency", "group", "snapshot", "create", "--consistency-group", renamed, snap_name)
    wait_status(http, f"/cgsnapshots/{snap['id']}", "cgsnapshot", "available")
    shown = cli.run("consistency", "group", "snapshot", "show", snap_name)
    assert shown["consistencygroup_id"] == made["id"] and shown["status"] == "available"
    # (openstacksdk filters the answer by status on the client, None unless --status is given)
    listed = cli.run("consistency", "group", "snapshot", "list", "--long", "--status", "available",
                     "--consistency-group", renamed)
    assert [row["ID"] for row in listed] == [snap["id"]]
    members = [s for s in api(admin, "3.14").get("/snapshots/detail").json()["snapshots"]
               if s["group_snapshot_id"] == snap["id"]]
    assert sorted(s["volume_id"] for s in members) == sorted(v["id"] for v in volumes)
    refused = api(admin, "3.14").get(f"/group_snapshots/{snap['id']}")
    assert refused.status_code == 400 and "CG snapshot APIs" in refused.text
    # new consistency groups from the cgsnapshot and from the group: new member volumes
    from_snap = cli.run("consistency", "group", "create", "--consistency-group-snapshot", snap_name,
                        random_name("cg"))
    clone = cli.run("consistency", "group", "create", "--consistency-group-source", renamed, random_name("cg"))
    for new in (from_snap, clone):
        wait_status(http, f"/consistencygroups/{new['id']}", "consistencygroup", "available")
        copies = [v for v in api(admin, "3.13").get("/volumes/detail").json()["volumes"] if v["group_id"] == new["id"]]
        assert len(copies) == 2 and all(v["status"] == "available" for v in copies)
    cli.ok("consistency", "group", "snapshot", "delete", snap_name)
    wait_status(http, f"/cgsnapshots/{snap['id']}", "cgsnapshot", "deleted")
    # without --force a group with volumes stays; with it, it goes with its volumes
    refused = http.post(f"/consistencygroups/{made['id']}/delete", json={"consistencygroup": {"force": False}})
    assert refused.status_code == 400 and "delete-volumes" in refused.json()["badRequest"]["message"]
    cli.ok("consistency", "group", "delete", "--force", renamed, from_snap["id"], clone["id"])
    for ident in (made["id"], from_snap["id"], clone["id"]):
        wait_status(http, f"/consistencygroups/{ident}", "consistencygroup", "deleted")
    for volume in volumes:
        http.wait(volume["id"], "deleted")
    http.delete(f"/volumes/{outsider['id']}")
    http.wait(outsider["id"], "deleted")


def test_cinderclient_consisgroup_and_cgsnapshot(cloud, admin, api):
    password = cloud.passwords()["admin"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env.update(OS_AUTH_URL=cloud.auth_url, OS_USERNAME="admin", OS_PASSWORD=password, OS_PROJECT_NAME="admin",
               OS_USER_DOMAIN_NAME="Default", OS_PROJECT_DOMAIN_NAME="Default", OS_REGION_NAME="RegionOne")

    def cinder(*args):
        done = subprocess.run([CINDER, *args], env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout

    http = api(admin)
    name = random_name("ccg")
    cinder("consisgroup-create", "--name", name, "__DEFAULT__")
    group = [g for g in http.get("/consistencygroups/detail").json()["consistencygroups"] if g["name"] == name][0]
    assert set(group) == {"id", "status", "availability_zone", "created_at", "name", "description", "volume_types"}
    assert name in cinder("consisgroup-list") and group["id"] in cinder("consisgroup-show", name)
    volume = http.create(consistencygroup_id=group["id"])
    http.wait(volume["id"], "available")
    outsider = http.create()
    http.wait(outsider["id"], "available")
    cinder("consisgroup-update", "--add-volumes", outsider["id"], "--description", "updated", name)
    shown = http.get(f"/consistencygroups/{group['id']}").json()["consistencygroup"]
    assert shown["description"] == "updated"
    assert api(admin, "3.13").get(f"/volumes/{outsider['id']}").json()["volume"]["group_id"] == group["id"]
    snap_name = random_name("ccgs")
    cinder("cgsnapshot-create", "--name", snap_name, name)
    snap = [s for s in http.get("/cgsnapshots/detail").json()["cgsnapshots"] if s["name"] == snap_name][0]
    wait_status(http, f"/cgsnapshots/{snap['id']}", "cgsnapshot", "available")
    assert snap_name in cinder("cgsnapshot-list", "--consistencygroup-id", group["id"])
    assert snap_name not in cinder("cgsnapshot-list", "--status", "error")
    assert group["id"] in cinder("cgsnapshot-show", snap["id"])
    clone = random_name("ccg")
    cinder("consisgroup-create-from-src", "--cgsnapshot", snap["id"], "--name", clone)
    clone_id = [g["id"] for g in http.get("/consistencygroups").json()["consistencygroups"] if g["name"] == clone][0]
    wait_status(http, f"/consistencygroups/{clone_id}", "consistencygroup", "available")
    cinder("cgsnapshot-delete", snap["id"])
    wait_status(http, f"/cgsnapshots/{snap['id']}", "cgsnapshot", "deleted")
    cinder("consisgroup-delete", "--force", name, clone)
    for ident in (group["id"], clone_id):
        wait_status(http, f"/consistencygroups/{ident}", "consistencygroup", "deleted")
    for ident in (volume["id"], outsider["id"]):
        http.wait(ident, "deleted")


def test_bad_requests_answer_as_cinder(admin, api):
    http = api(admin)
    cases = [
        ("/consistencygroups", {"consistencygroup": {"name": "x"}},
         "volume_types must be provided to create consistency group x."),
        ("/consistencygroups/create_from_src", {"consistencygroup-from-src": {"name": "x"}},
         "Either 'cgsnapshot_id' or 'source_cgid' must be provided to create consistency group x from source."),
        ("/consistencygroups/create_from_src",
         {"consistencygroup-from-src": {"cgsnapshot_id": "a", "source_cgid": "b"}},
         "Cannot provide both 'cgsnapshot_id' and 'source_cgid' to create consistency group None from source."),
        ("/cgsnapshots", {"cgsnapshot": {"name": "x"}}, "'consistencygroup_id' must be specified"),
        ("/consistencygroups", {"group": {}}, "Invalid input received: Missing required element 'consistencygroup' "
                                              "in request body."),
    ]
    for path, body, message in cases:
        got = http.post(path, json=body)
        assert got.status_code == 400, got.text
        assert got.json() == {"badRequest": {"code": 400, "message": message}}
    missing = "00000000-0000-0000-0000-000000000000"
    assert http.get(f"/consistencygroups/{missing}").json() == {
        "itemNotFound": {"code": 404, "message": f"Group {missing} could not be found."}}
    assert http.get(f"/cgsnapshots/{missing}").status_code == 404
    assert http.post("/cgsnapshots", json={"cgsnapshot": {"consistencygroup_id": missing}}).status_code == 404
    assert http.post(f"/consistencygroups/{missing}/delete", json={"consistencygroup": {}}).status_code == 404
    assert http.post("/consistencygroups", json={"consistencygroup": {"volume_types": "nope"}}).status_code == 404
    before = len(http.get("/consistencygroups").json()["consistencygroups"])
    made = http.post("/consistencygroups", json={"consistencygroup": {"volume_types": "__DEFAULT__,"}})
    assert made.status_code == 202 and set(made.json()["consistencygroup"]) == {"id", "name"}
    ident = made.json()["consistencygroup"]["id"]
    empty = http.put(f"/consistencygroups/{ident}", json={"consistencygroup": {"name": ""}})
    assert empty.json()["badRequest"]["message"] == ("Name, description, add_volumes, and remove_volumes can not be "
                                                     "all empty in the request body.")
    assert http.put(f"/consistencygroups/{ident}/update", json={}).json()["badRequest"]["message"] == \
        "Missing request body."
    bad = http.post(f"/consistencygroups/{ident}/delete", json={"consistencygroup": {"force": "maybe"}})
    assert bad.json()["badRequest"]["message"] == "Invalid value 'maybe' for force."
    assert len(http.get("/consistencygroups").json()["consistencygroups"]) == before + 1
    # the groups API refuses it; the consistency group API also takes generic groups
    assert api(admin, "3.13").post(f"/groups/{ident}/action", json={"delete": {}}).status_code == 400
    gt = api(admin, "3.11").post("/group_types", json={"group_type": {"name": random_name("gt")}}).json()["group_type"]
    generic = api(admin, "3.13").post("/groups", json={"group": {"group_type": gt["id"],
                                                                 "volume_types": ["__DEFAULT__"]}})
    generic_id = generic.json()["group"]["id"]
    assert http.get(f"/consistencygroups/{generic_id}").json()["consistencygroup"]["status"] == "available"
    cg_type = [t for t in api(admin, "3.11").get("/group_types").json()["group_types"]
               if t["name"] == "default_cgsnapshot_type"][0]
    assert cg_type["group_specs"] == {"consistent_group_snapshot_enabled": "<is> True"}
    refused = api(admin, "3.13").post("/groups", json={"group": {"group_type": cg_type["id"],
                                                                 "volume_types": ["__DEFAULT__"]}})
    assert refused.status_code == 400 and "reserved for migrating CGs" in refused.text
    for group_id in (ident, generic_id):
        assert http.post(f"/consistencygroups/{group_id}/delete").status_code == 202
        wait_status(http, f"/consistencygroups/{group_id}", "consistencygroup", "deleted")
    assert api(admin, "3.11").delete(f"/group_types/{gt['id']}").status_code == 202
