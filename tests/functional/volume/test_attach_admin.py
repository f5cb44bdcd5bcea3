"""What Nova and Cinder do around attached volumes beyond attach/detach: volume swap,
assisted snapshots, refused boot mappings, os-attach/os-force_detach and the read-only
flag, through openstacksdk, python-novaclient and python-cinderclient."""

from __future__ import annotations

import uuid

import httpx
import pytest
from cinderclient import client as cinder_client
from cinderclient import exceptions as cinder_exceptions
from novaclient import client as nova_client
from openstack import exceptions

from conftest import random_name


def _server(admin, image_id: str):
    server = admin.compute.create_server(name=random_name("srv"), flavor_id="1", image_id=image_id, networks="none")
    return admin.compute.wait_for_server(server, wait=60)


def _gone(admin, server):
    admin.compute.delete_server(server)
    admin.compute.wait_for_delete(server, wait=60)


def test_swap_volume_moves_the_attachment(admin, api, raw_image):
    image, _ = raw_image
    server = _server(admin, image.id)
    root = api(admin)
    old, new = root.create(), root.create(size=2)
    for volume in (old, new):
        root.wait(volume["id"], "available")
    admin.compute.create_volume_attachment(server, volume_id=old["id"], device="/dev/vdc")
    root.wait(old["id"], "in-use")

    with pytest.raises(exceptions.NotFoundException):  # an unknown volume in the URI: 404
        admin.compute.update_volume_attachment(server, str(uuid.uuid4()), volume_id=new["id"])
    with pytest.raises(exceptions.ConflictException):  # no migration started by block storage: 409
        admin.compute.update_volume_attachment(server, old["id"], volume_id=new["id"])
    assert root.get(f"/volumes/{new['id']}").json()["volume"]["status"] == "available"
    for volume in (old, new):  # what Cinder's migration would have set (os-reset_status, admin)
        marked = root.post(f"/volumes/{volume['id']}/action",
                           json={"os-reset_status": {"migration_status": "migrating"}})
        assert marked.status_code == 202, marked.text
    with pytest.raises(exceptions.BadRequestException):  # an unknown new volume: 400
        admin.compute.update_volume_attachment(server, old["id"], volume_id=str(uuid.uuid4()))
    with pytest.raises(exceptions.BadRequestException, match="different instance"):  # not this server's
        admin.compute.update_volume_attachment(server, new["id"], volume_id=old["id"])

    admin.compute.update_volume_attachment(server, old["id"], volume_id=new["id"])
    swapped = root.wait(new["id"], "in-use")
    assert swapped["attachments"][0]["server_id"] == server.id
    assert swapped["attachments"][0]["device"] == "/dev/vdc"
    assert root.wait(old["id"], "available")["attachments"] == []
    assert [a.volume_id for a in admin.compute.volume_attachments(server)] == [new["id"]]
    _gone(admin, server)
    for volume in (old, new):
        root.wait(volume["id"], "available")
        root.delete(f"/volumes/{volume['id']}")


def test_assisted_volume_snapshots_with_novaclient(admin, api, raw_image):
    image, _ = raw_image
    nova = nova_client.Client("2.1", session=admin.session)
    root = api(admin)
    volume = root.create()
    root.wait(volume["id"], "available")
    info = {"snapshot_id": str(uuid.uuid4()), "type": "qcow2", "new_file": "new_file", "id": str(uuid.uuid4())}
    with pytest.raises(Exception) as refused:  # not attached: Nova finds no block device mapping
        nova.assisted_volume_snapshots.create(volume["id"], info)
    assert getattr(refused.value, "code", None) == 400

    server = _server(admin, image.id)
    admin.compute.create_volume_attachment(server, volume_id=volume["id"])
    root.wait(volume["id"], "in-use")
    made = nova.assisted_volume_snapshots.create(volume["id"], info)
    assert made.id == info["id"] and made.volumeId == volume["id"]
    nova.assisted_volume_snapshots.delete(made, {"volume_id": volume["id"]})
    bare = httpx.delete(f"{admin.compute.get_endpoint()}/os-assisted-volume-snapshots/{made.id}",
                        headers={"X-Auth-Token": admin.auth_token}, timeout=30)
    assert bare.status_code == 400  # no delete_info

    _gone(admin, server)
    root.wait(volume["id"], "available")
    root.delete(f"/volumes/{volume['id']}")


def test_boot_refuses_a_non_bootable_volume_and_a_bad_mapping(admin, api, raw_image):
    image, _ = raw_image
    root = api(admin)
    volume = root.create()
    root.wait(volume["id"], "available")
    assert root.get(f"/volumes/{volume['id']}").json()["volume"]["bootable"] == "false"
    with pytest.raises(exceptions.BadRequestException, match="is not bootable"):
        admin.compute.create_server(name=random_name("srv"), flavor_id="1", networks="none",
                                    block_device_mapping=[{"uuid": volume["id"], "source_type": "volume",
                                                           "destination_type": "volume", "boot_index": 0}])
    with pytest.raises(exceptions.BadRequestException, match="destination_type"):
        admin.compute.create_server(name=random_name("srv"), flavor_id="1", networks="none", image_id=image.id,
                                    block_device_mapping=[{"uuid": image.id, "source_type": "image",
                                                           "destination_type": "local", "boot_index": 0},
                                                          {"uuid": volume["id"], "source_type": "volume",
                                                           "destination_type": "invalid"}])
    assert root.get(f"/volumes/{volume['id']}").json()["volume"]["status"] == "available"
    root.delete(f"/volumes/{volume['id']}")


def test_os_attach_force_detach_and_readonly_with_cinderclient(admin, api):
    cinder = cinder_client.Client("3", session=admin.session)
    root = api(admin)
    volume = root.create()
    root.wait(volume["id"], "available")
    assert "readonly" not in root.get(f"/volumes/{volume['id']}").json()["volume"]["metadata"]
    server_id = str(uuid.uuid4())  # os-attach only records the attachment: no server needed
    for flag in (True, False):
        cinder.volumes.update_readonly_flag(volume["id"], flag)
        assert cinder.volumes.get(volume["id"]).metadata["readonly"] == str(flag)
        if flag:  # a read-only volume refuses a read-write os-attach
            with pytest.raises(cinder_exceptions.BadRequest, match="Invalid attaching mode"):
                cinder.volumes.attach(volume["id"], server_id, "/dev/vdb", mode="rw")
            assert root.get(f"/volumes/{volume['id']}").json()["volume"]["status"] == "available"

    cinder.volumes.attach(volume["id"], server_id, "/dev/vdb")
    attached = root.wait(volume["id"], "in-use")
    attachment_id = attached["attachments"][0]["attachment_id"]
    cinder.volumes.reset_state(volume["id"], "error")
    root.wait(volume["id"], "error")
    admin.block_storage.detach_volume(volume["id"], attachment_id, force=True)
    assert root.wait(volume["id"], "available")["attachments"] == []
    cinder.volumes.detach(volume["id"])  # nothing attached any more: Cinder just says available
    assert root.get(f"/volumes/{volume['id']}").json()["volume"]["status"] == "available"
    root.delete(f"/volumes/{volume['id']}")
