"""Attaching volumes to servers: `openstack server add/remove volume`, the v3 attachments
API, and what a deleted server leaves."""

from __future__ import annotations

import time

from conftest import random_name


def _server(admin, image_id: str):
    server = admin.compute.create_server(name=random_name("srv"), flavor_id="1", image_id=image_id, networks="none")
    return admin.compute.wait_for_server(server, wait=60)


def test_server_add_and_remove_volume(cli, admin, api, raw_image):
    image, _ = raw_image
    server = _server(admin, image.id)
    root = api(admin)
    volume = root.create()
    root.wait(volume["id"], "available")
    cli.ok("server", "add", "volume", server.id, volume["id"], "--device", "/dev/vdc")
    attached = root.wait(volume["id"], "in-use")
    assert attached["attachments"][0]["server_id"] == server.id
    assert attached["attachments"][0]["device"] == "/dev/vdc"
    listed = cli.run("server", "volume", "list", server.id)
    assert [row["Volume ID"] for row in listed] == [volume["id"]]
    again = cli.raw("server", "add", "volume", server.id, volume["id"])
    assert again.returncode != 0
    refused = root.delete(f"/volumes/{volume['id']}")
    assert refused.status_code == 400, refused.text
    cli.ok("server", "remove", "volume", server.id, volume["id"])
    root.wait(volume["id"], "available")
    assert cli.run("server", "volume", "list", server.id) in ([], None)

    cli.ok("server", "add", "volume", server.id, volume["id"])
    root.wait(volume["id"], "in-use")
    admin.compute.delete_server(server)
    admin.compute.wait_for_delete(server, wait=60)
    root.wait(volume["id"], "available")
    root.delete(f"/volumes/{volume['id']}")


def test_attachments_api_reserve_connect_complete_delete(admin, api):
    root = api(admin, "3.44")
    volume = root.create()
    root.wait(volume["id"], "available")
    server_id = "11111111-2222-3333-4444-555555555555"
    made = root.post("/attachments", json={"attachment": {"volume_uuid": volume["id"], "instance_uuid": server_id}})
    assert made.status_code == 200, made.text
    attachment = made.json()["attachment"]
    assert attachment["status"] == "reserved"
    assert root.wait(volume["id"], "reserved")
    updated = root.put(f"/attachments/{attachment['id']}",
                       json={"attachment": {"connector": {"host": "h1", "initiator": "x"}}})
    info = updated.json()["attachment"]["connection_info"]
    assert info["driver_volume_type"] == "file" and info["data"]["path"].endswith(".qcow2")
    assert root.post(f"/attachments/{attachment['id']}/action", json={"os-complete": {}}).status_code == 204
    in_use = root.wait(volume["id"], "in-use")
    assert in_use["attachments"][0]["attachment_id"] == attachment["id"]
    assert root.delete(f"/attachments/{attachment['id']}").status_code == 200
    root.wait(volume["id"], "available")
    root.delete(f"/volumes/{volume['id']}")


def test_boot_from_volume_cli_and_delete_on_termination(cli, admin, api, raw_image):
    image, _ = raw_image
    root = api(admin)
    name = random_name("bfv")
    made = cli.run("server", "create", "--flavor", "1", "--image", image.id, "--boot-from-volume", "1",
                   "--wait", name)
    assert made["status"] == "ACTIVE"
    server = admin.compute.get_server(made["id"])
    assert not server.image.get("id")
    attached = [a["id"] for a in server.attached_volumes]
    assert len(attached) == 1
    volume = root.wait(attached[0], "in-use")
    assert volume["bootable"] == "true" and volume["attachments"][0]["device"] == "/dev/vda"
    cli.ok("server", "delete", "--wait", name)
    root.wait(volume["id"], "available")  # the CLI asks to keep it (delete_on_termination false)
    root.delete(f"/volumes/{volume['id']}")

    server = admin.compute.create_server(
        name=random_name("bfv"), flavor_id="1", networks="none",
        block_device_mapping=[{"uuid": image.id, "source_type": "image", "destination_type": "volume",
                               "boot_index": 0, "volume_size": 1, "delete_on_termination": True}])
    server = admin.compute.wait_for_server(server, wait=60)
    volume_id = server.attached_volumes[0]["id"]
    root.wait(volume_id, "in-use")
    admin.compute.delete_server(server)
    admin.compute.wait_for_delete(server, wait=60)
    root.wait(volume_id, "deleted")


def test_boot_from_missing_volume_is_400(admin, api):
    import httpx

    got = httpx.post(f"{admin.compute.get_endpoint()}/servers", headers={"X-Auth-Token": admin.auth_token},
                     json={"server": {"name": "x", "flavorRef": "1", "networks": "none",
                                      "block_device_mapping_v2": [{"uuid": "3b4a4a52-0000-4000-8000-000000000000",
                                                                   "source_type": "volume",
                                                                   "destination_type": "volume",
                                                                   "boot_index": 0}]}},
                     timeout=30)
    assert got.status_code == 400 and "badRequest" in got.json()
