"""Volume transfers between projects (openstack CLI) and QoS specs (plain HTTP)."""

from __future__ import annotations

from conftest import connect, random_name


def test_transfer_moves_a_volume_to_another_project(cloud, cli, admin, api):
    demo_conn = connect(cloud, "demo")
    root, demo = api(admin), api(demo_conn, "3.55")
    volume = root.create()
    root.wait(volume["id"], "available")
    offer = cli.run("volume", "transfer", "request", "create", volume["id"])
    assert offer["auth_key"] and offer["volume_id"] == volume["id"]
    root.wait(volume["id"], "awaiting-transfer")
    assert any(row["ID"] == offer["id"] for row in cli.run("volume", "transfer", "request", "list"))
    wrong = demo.post(f"/volume-transfers/{offer['id']}/accept", json={"accept": {"auth_key": "nope"}})
    assert wrong.status_code == 400
    taken = demo.post(f"/volume-transfers/{offer['id']}/accept", json={"accept": {"auth_key": offer["auth_key"]}})
    assert taken.status_code == 202, taken.text
    mine = demo.wait(volume["id"], "available")
    assert mine["user_id"] == demo_conn.current_user_id
    assert root.get(f"/volumes/{volume['id']}").json()["volume"]["os-vol-tenant-attr:tenant_id"] == \
        demo_conn.current_project_id
    demo.delete(f"/volumes/{volume['id']}")
    demo.wait(volume["id"], "deleted")


def test_transfer_cancelled_gives_the_volume_back(cli, admin, api):
    root = api(admin)
    volume = root.create()
    root.wait(volume["id"], "available")
    offer = cli.run("volume", "transfer", "request", "create", volume["id"])
    root.wait(volume["id"], "awaiting-transfer")
    cli.ok("volume", "transfer", "request", "delete", offer["id"])
    root.wait(volume["id"], "available")
    root.delete(f"/volumes/{volume['id']}")


def test_qos_specs_associate_with_types(admin, api):
    root = api(admin)
    made = root.post("/qos-specs", json={"qos_specs": {"name": random_name("qos"), "consumer": "front-end",
                                                       "read_iops_sec": "200"}})
    assert made.status_code == 200, made.text
    qos = made.json()["qos_specs"]
    assert qos["specs"] == {"read_iops_sec": "200"} and qos["consumer"] == "front-end"
    vtype = root.post("/types", json={"volume_type": {"name": random_name("type")}}).json()["volume_type"]
    assert root.get(f"/qos-specs/{qos['id']}/associate", params={"vol_type_id": vtype["id"]}).status_code == 202
    assert root.get(f"/types/{vtype['id']}").json()["volume_type"]["qos_specs_id"] == qos["id"]
    associations = root.get(f"/qos-specs/{qos['id']}/associations").json()["qos_associations"]
    assert [a["id"] for a in associations] == [vtype["id"]]
    assert root.delete(f"/qos-specs/{qos['id']}").status_code == 400  # still associated
    assert root.put(f"/qos-specs/{qos['id']}", json={"qos_specs": {"write_iops_sec": "100"}}).status_code == 200
    assert root.put(f"/qos-specs/{qos['id']}/delete_keys", json={"keys": ["read_iops_sec"]}).status_code == 202
    assert root.get(f"/qos-specs/{qos['id']}").json()["qos_specs"]["specs"] == {"write_iops_sec": "100"}
    assert root.get(f"/qos-specs/{qos['id']}/disassociate_all").status_code == 202
    assert root.delete(f"/qos-specs/{qos['id']}").status_code == 202
    assert root.get(f"/qos-specs/{qos['id']}").status_code == 404
    root.delete(f"/types/{vtype['id']}")


def test_encryption_type_marks_volumes_encrypted(admin, api):
    root = api(admin)
    vtype = root.post("/types", json={"volume_type": {"name": random_name("enc")}}).json()["volume_type"]
    made = root.post(f"/types/{vtype['id']}/encryption", json={"encryption": {
        "provider": "luks", "cipher": "aes-xts-plain64", "key_size": 256, "control_location": "front-end"}})
    assert made.status_code == 200, made.text
    assert root.get(f"/types/{vtype['id']}/encryption").json()["cipher"] == "aes-xts-plain64"
    volume = root.create(volume_type=vtype["name"])
    assert root.wait(volume["id"], "available")["encrypted"] is True
    refused = root.delete(f"/types/{vtype['id']}/encryption/{made.json()['encryption']['encryption_id']}")
    assert refused.status_code == 400  # a type in use keeps its encryption
    root.delete(f"/volumes/{volume['id']}")
    root.wait(volume["id"], "deleted")
    assert root.delete(f"/types/{vtype['id']}/encryption/{made.json()['encryption']['encryption_id']}").status_code \
        == 202
    assert root.get(f"/types/{vtype['id']}/encryption").json() == {}
    root.delete(f"/types/{vtype['id']}")


def test_front_end_qos_specs_reach_the_connection_info(admin, api):
    root = api(admin)
    specs = {"name": random_name("qos"), "consumer": "both", "total_bytes_sec": "1048576",
             "read_iops_sec_per_gb": "30", "read_iops_sec_per_gb_min": "100"}
    qos = root.post("/qos-specs", json={"qos_specs": specs}).json()["qos_specs"]
    vtype = root.post("/types", json={"volume_type": {"name": random_name("type")}}).json()["volume_type"]
    root.get(f"/qos-specs/{qos['id']}/associate", params={"vol_type_id": vtype["id"]})
    connector = {"connector": {"host": "h1", "initiator": "iqn.1993-08.org.debian:01:h1"}}
    small = root.create(volume_type=vtype["name"], size=1)
    large = root.create(volume_type=vtype["name"], size=10)
    for volume, iops in ((small, "100"), (large, "300")):  # per GB, at least the minimum
        root.wait(volume["id"], "available")
        info = root.post(f"/volumes/{volume['id']}/action", json={"os-initialize_connection": connector})
        assert info.status_code == 200, info.text
        assert info.json()["connection_info"]["data"]["qos_specs"] == {"total_bytes_sec": "1048576",
                                                                       "read_iops_sec": iops}
    root.put(f"/qos-specs/{qos['id']}", json={"qos_specs": {"consumer": "back-end"}})
    info = root.post(f"/volumes/{small['id']}/action", json={"os-initialize_connection": connector}).json()
    assert info["connection_info"]["data"]["qos_specs"] is None
    for volume in (small, large):
        root.delete(f"/volumes/{volume['id']}")
