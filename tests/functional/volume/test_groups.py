"""Generic volume groups, group types and group snapshots through the openstack CLI,
openstacksdk and plain HTTP, on the file driver (one snapshot file per member volume)."""

from __future__ import annotations


from conftest import random_name
from volumewait import wait_status

V = ("--os-volume-api-version", "3.14")




def test_group_types_with_specs_and_the_default(cli, admin, api):
    name = random_name("gt")
    made = cli.run(*V, "volume", "group", "type", "create", "--description", "for tests", name)
    assert made["Name"] == name and made["Is Public"] is True
    cli.ok(*V, "volume", "group", "type", "set", "--property", "consistent_group_snapshot_enabled=<is> True", name)
    shown = cli.run(*V, "volume", "group", "type", "show", name)
    assert shown["Properties"] == {"consistent_group_snapshot_enabled": "<is> True"}
    assert any(row["Name"] == name for row in cli.run(*V, "volume", "group", "type", "list"))
    http = api(admin, "3.11")
    assert http.get("/group_types/default").json()["group_type"]["name"] == "default_group_type"
    gt_id = shown["ID"]
    assert http.put(f"/group_types/{gt_id}/group_specs/k", json={"k": "v"}).json() == {"k": "v"}
    assert http.get(f"/group_types/{gt_id}/group_specs/k").json() == {"k": "v"}
    assert http.delete(f"/group_types/{gt_id}/group_specs/k").status_code == 202
    assert http.get(f"/group_types/{gt_id}/group_specs/k").status_code == 404
    assert http.post("/group_types", json={"group_type": {"name": name}}).status_code == 409
    assert api(admin, "3.10").get("/group_types").status_code == 404
    sdk_types = {t.name for t in admin.block_storage.group_types()}
    assert name in sdk_types
    cli.ok(*V, "volume", "group", "type", "delete", name)
    assert http.get(f"/group_types/{gt_id}").status_code == 404


def test_group_lifecycle_snapshot_clone_and_delete(cloud, cli, admin, api):
    http = api(admin, "3.14")
    gt = cli.run(*V, "volume", "group", "type", "create", random_name("gt"))
    group_name = random_name("grp")
    group = cli.run(*V, "volume", "group", "create", "--volume-group-type", gt["ID"], "--volume-type", "__DEFAULT__",
                    "--name", group_name)
    group = wait_status(http, f"/groups/{group['ID']}", "group", "available")
    assert group["name"] == group_name and group["group_type"] == gt["ID"] and len(group["volume_types"]) == 1
    # volumes in the group, one made outside and added, then removed again
    members = [http.post("/volumes", json={"volume": {"size": 1, "name": random_name("gv"),
                                                      "group_id": group["id"]}}).json()["volume"] for _ in range(2)]
    assert all(v["group_id"] == group["id"] for v in members)
    for volume in members:
        http.wait(volume["id"], "available")
    outsider = http.create()
    http.wait(outsider["id"], "available")
    assert http.put(f"/groups/{group['id']}", json={"group": {"add_volumes": outsider["id"]}}).status_code == 202
    assert http.get(f"/volumes/{outsider['id']}").json()["volume"]["group_id"] == group["id"]
    assert "volumes" not in http.get(f"/groups/{group['id']}?list_volume=True").json()["group"]  # 3.25+
    listed = api(admin, "3.25").get(f"/groups/{group['id']}?list_volume=True").json()["group"]
    assert sorted(listed["volumes"]) == sorted([v["id"] for v in members] + [outsider["id"]])
    cli.ok("--os-volume-api-version", "3.13", "volume", "group", "remove", "volume", group["id"], outsider["id"])
    assert http.get(f"/volumes/{outsider['id']}").json()["volume"]["group_id"] is None
    # a member is deleted with its group only
    refused = http.delete(f"/volumes/{members[0]['id']}")
    assert refused.status_code == 400 and "group" in refused.json()["badRequest"]["message"]
    # group snapshot: one snapshot file per member, carrying the group snapshot's id
    gs = cli.run(*V, "volume", "group", "snapshot", "create", "--description", "both", "--name", random_name("gs"),
                 group["id"])
    gs = wait_status(http, f"/group_snapshots/{gs['ID']}", "group_snapshot", "available")
    snaps = [s for s in http.get("/snapshots/detail").json()["snapshots"] if s["group_snapshot_id"] == gs["id"]]
    assert sorted(s["volume_id"] for s in snaps) == sorted(v["id"] for v in members)
    files = {p.name for p in (cloud.data_dir / "volumes").iterdir()}
    assert all(f"snapshot-{s['id']}.qcow2" in files for s in snaps)
    assert http.delete(f"/snapshots/{snaps[0]['id']}").status_code == 400
    # a group from the group snapshot and one from the group: new volumes in new groups
    from_snapshot = http.post("/groups/action", json={"create-from-src": {"group_snapshot_id": gs["id"],
                                                                          "name": random_name("g2")}})
    assert from_snapshot.status_code == 202, from_snapshot.text
    clone = http.post("/groups/action", json={"create-from-src": {"source_group_id": group["id"]}}).json()["group"]
    for made in (from_snapshot.json()["group"], clone):
        shown = wait_status(http, f"/groups/{made['id']}", "group", "available")
        assert shown["group_type"] == gt["ID"]
        volumes = [v for v in http.get("/volumes/detail").json()["volumes"] if v["group_id"] == made["id"]]
        assert len(volumes) == 2 and all(v["status"] == "available" for v in volumes)
    # a group with a snapshot cannot go; without delete-volumes one with volumes cannot either
    refused = http.post(f"/groups/{group['id']}/action", json={"delete": {"delete-volumes": True}})
    assert refused.status_code == 400 and "snapshots" in refused.text
    cli.ok(*V, "volume", "group", "snapshot", "delete", gs["id"])
    wait_status(http, f"/group_snapshots/{gs['id']}", "group_snapshot", "deleted")
    refused = http.post(f"/groups/{clone['id']}/action", json={"delete": {"delete-volumes": False}})
    assert refused.status_code == 400 and "delete-volumes" in refused.text
    for ident in (group["id"], clone["id"], from_snapshot.json()["group"]["id"]):
        assert http.post(f"/groups/{ident}/action", json={"delete": {"delete-volumes": True}}).status_code == 202
    for ident in (group["id"], clone["id"], from_snapshot.json()["group"]["id"]):
        wait_status(http, f"/groups/{ident}", "group", "deleted")
    assert not [v for v in http.get("/volumes").json()["volumes"] if v["id"] != outsider["id"]
                and v["id"] in {m["id"] for m in members}]
    http.delete(f"/volumes/{outsider['id']}")
    http.wait(outsider["id"], "deleted")
    cli.ok(*V, "volume", "group", "type", "delete", gt["ID"])


def test_group_bad_input_reset_status_and_quota(admin, demo, api):
    http = api(admin, "3.20")
    gt = http.post("/group_types", json={"group_type": {"name": random_name("gt")}}).json()["group_type"]
    assert http.post("/groups", json={"group": {"volume_types": ["__DEFAULT__"]}}).status_code == 400
    assert http.post("/groups", json={"group": {"group_type": gt["id"]}}).status_code == 400
    assert http.post("/groups", json={"group": {"group_type": gt["id"], "volume_types": ["nope"]}}).status_code == 404
    group = http.post("/groups", json={"group": {"group_type": gt["id"], "volume_types": ["__DEFAULT__"]}})
    assert group.status_code == 202 and set(group.json()["group"]) == {"id", "name"}
    group_id = group.json()["group"]["id"]
    for status in ("creating", "error", "available"):
        assert http.post(f"/groups/{group_id}/action", json={"reset_status": {"status": status}}).status_code == 202
        assert http.get(f"/groups/{group_id}").json()["group"]["status"] == status
    assert http.post(f"/groups/{group_id}/action", json={"reset_status": {"status": "bogus"}}).status_code == 400
    # another project's group is not there; a member cannot reset status
    other = api(demo, "3.20")
    assert other.get(f"/groups/{group_id}").status_code == 404
    assert http.delete(f"/group_types/{gt['id']}").status_code == 400  # in use
    # the groups quota: 413 past it
    project = admin.current_project_id
    assert http.put(f"/os-quota-sets/{project}", json={"quota_set": {"groups": 1}}).status_code == 200
    try:
        usage = http.get(f"/os-quota-sets/{project}?usage=True").json()["quota_set"]["groups"]
        assert usage["in_use"] == 1 and usage["limit"] == 1
        over = http.post("/groups", json={"group": {"group_type": gt["id"], "volume_types": ["__DEFAULT__"]}})
        assert over.status_code == 413
    finally:
        http.put(f"/os-quota-sets/{project}", json={"quota_set": {"groups": 10}})
    assert http.post(f"/groups/{group_id}/action", json={"delete": {}}).status_code == 202
    wait_status(http, f"/groups/{group_id}", "group", "deleted")
    assert http.delete(f"/group_types/{gt['id']}").status_code == 202
