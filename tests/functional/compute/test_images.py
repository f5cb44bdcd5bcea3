"""Nova's image proxy (/v2.1/images below 2.36, image metadata below 2.39) with raw calls
per microversion and python-novaclient's session client (its image commands are gone)."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from conftest import random_name

DETAIL_KEYS = {"id", "name", "minRam", "minDisk", "metadata", "created", "updated", "status", "progress",
               "OS-EXT-IMG-SIZE:size", "links"}


@pytest.fixture
def images(cloud, demo):
    """``make(**fields)``: an image of demo's through the image API (``data`` uploads it)."""
    made = []
    client = httpx.Client(base_url=f"{cloud.url}/image/v2", headers={"X-Auth-Token": demo.auth_token})

    def make(data: bytes | None = b"x" * 1024, **fields):
        body = {"name": random_name("img"), "disk_format": "raw", "container_format": "bare", **fields}
        image = client.post("/images", json=body).json()
        made.append(image["id"])
        if data is not None:
            client.put(f"/images/{image['id']}/file", content=data,
                       headers={"Content-Type": "application/octet-stream"}).raise_for_status()
        return client.get(f"/images/{image['id']}").json()

    yield make
    for image_id in made:
        client.delete(f"/images/{image_id}")
    client.close()


def test_image_proxy_show_list_and_versions(api, demo, images):
    server = str(uuid.uuid4())
    active = images(min_ram=64, min_disk=1, os_distro="cirros", auto_disk_config="true", instance_uuid=server,
                    image_type="snapshot")
    queued = images(data=None)
    with api(demo) as v21, api(demo, "2.35") as v235, api(demo, "2.36") as v236:
        shown = v21.get(f"/images/{active['id']}").json()["image"]
        assert set(shown) == DETAIL_KEYS | {"server", "OS-DCF:diskConfig"}
        assert shown == {**shown, "status": "ACTIVE", "progress": 100, "minRam": 64, "minDisk": 1,
                         "OS-EXT-IMG-SIZE:size": 1024, "OS-DCF:diskConfig": "AUTO", "name": active["name"],
                         "metadata": {"os_distro": "cirros", "auto_disk_config": "true", "instance_uuid": server,
                                      "image_type": "snapshot"}}
        assert shown["created"].endswith("Z") and "." not in shown["created"]
        self_link, bookmark, alternate = shown["links"]
        assert self_link["href"].endswith(f"/compute/v2.1/images/{active['id']}") and self_link["rel"] == "self"
        assert bookmark["href"].endswith(f"/compute/images/{active['id']}") and bookmark["rel"] == "bookmark"
        assert alternate == {"rel": "alternate", "type": "application/vnd.openstack.image",
                             "href": self_link["href"].replace("/compute/v2.1/", "/image/")}
        assert shown["server"]["id"] == server and shown["server"]["links"][0]["href"].endswith(f"/servers/{server}")
        waiting = v235.get(f"/images/{queued['id']}").json()["image"]
        assert set(waiting) == DETAIL_KEYS and waiting["status"] == "SAVING" and waiting["progress"] == 25
        assert waiting["OS-EXT-IMG-SIZE:size"] == 0

        listed = v21.get("/images").json()["images"]
        assert {"id": active["id"], "name": active["name"], "links": shown["links"]} in listed
        assert queued["id"] in [image["id"] for image in v21.get("/images/detail").json()["images"]]
        for path in ("/images", "/images/detail", f"/images/{active['id']}", f"/images/{active['id']}/nope"):
            assert v236.get(path).status_code == 404
        assert v236.delete(f"/images/{active['id']}").status_code == 404
        assert v21.get(f"/images/{uuid.uuid4()}").status_code == 404
        assert v21.get("/images/not-a-uuid").json()["itemNotFound"]["code"] == 404


def test_image_proxy_filters_and_paging(api, demo, images):
    server = str(uuid.uuid4())
    snapshot = images(instance_uuid=server, image_type="snapshot", min_ram=128, hw_flag="on")
    plain = images(min_disk=3)
    with api(demo) as compute:
        def ids(**params):
            return [image["id"] for image in compute.get("/images/detail", params=params).json()["images"]]

        assert ids(name=snapshot["name"]) == [snapshot["id"]]
        assert snapshot["id"] in ids(status="ACTIVE") and not ids(status="SAVING", name=plain["name"])
        assert ids(server=server) == [snapshot["id"]]
        assert ids(server=f"http://compute.example/v2.1/servers/{server}") == [snapshot["id"]]
        assert snapshot["id"] in ids(type="snapshot") and plain["id"] not in ids(type="snapshot")
        assert snapshot["id"] in ids(minRam="128") and plain["id"] not in ids(minRam="128")
        assert ids(minDisk="3", name=plain["name"]) == [plain["id"]]
        assert ids(**{"property-hw_flag": "on"}) == [snapshot["id"]]
        assert plain["id"] in ids(**{"changes-since": plain["created_at"]})
        assert not ids(**{"changes-since": "2999-01-01T00:00:00Z"})
        assert compute.get("/images", params={"changes-since": "soon"}).status_code == 400
        assert compute.get("/images", params={"limit": "x"}).status_code == 400
        assert compute.get("/images", params={"marker": str(uuid.uuid4())}).status_code == 400

        first = compute.get("/images", params={"limit": "1"}).json()
        assert [image["id"] for image in first["images"]] == [plain["id"]]  # newest first
        link, = first["images_links"]
        assert link["rel"] == "next" and "/compute/v2.1/images?" in link["href"]
        assert parse_qs(urlsplit(link["href"]).query) == {"limit": ["1"], "marker": [plain["id"]]}
        assert [image["id"] for image in compute.get(link["href"]).json()["images"]] == [snapshot["id"]]
        detail = compute.get("/images/detail", params={"limit": "1"}).json()
        assert "/compute/v2.1/images/detail?" in detail["images_links"][0]["href"]
        assert "images_links" not in compute.get("/images").json()


def test_image_metadata_calls(api, admin, demo, images):
    image = images(os_distro="cirros")
    path = f"/images/{image['id']}/metadata"
    with api(demo, "2.38") as compute:
        assert compute.get(path).json() == {"metadata": {"os_distro": "cirros"}}
        assert compute.post(path, json={"metadata": {"os_version": "1"}}).json() == {
            "metadata": {"os_distro": "cirros", "os_version": "1"}}
        assert compute.put(path, json={"metadata": {"architecture": "x86_64"}}).json() == {
            "metadata": {"architecture": "x86_64"}}
        assert compute.get(path).json() == {"metadata": {"architecture": "x86_64"}}
        assert compute.put(f"{path}/os_type", json={"meta": {"os_type": "linux"}}).json() == {
            "meta": {"os_type": "linux"}}
        assert compute.get(f"{path}/os_type").json() == {"meta": {"os_type": "linux"}}
        assert compute.delete(f"{path}/architecture").status_code == 204
        assert compute.get(path).json() == {"metadata": {"os_type": "linux"}}
        assert compute.get(f"{path}/architecture").status_code == 404
        assert compute.delete(f"{path}/architecture").status_code == 404
        assert compute.put(f"{path}/os_type", json={"meta": {"other": "x"}}).status_code == 400  # mismatch
        assert compute.put(f"{path}/os_type", json={"meta": {"os_type": "a", "b": "c"}}).status_code == 400
        assert compute.post(path, json={"metadata": {"bad/key": "x"}}).status_code == 400
        assert compute.post(path, json={"metadata": {"k": 1}}).status_code == 400
        assert compute.post(path, json={"meta": {"k": "v"}}).status_code == 400
        assert compute.post(path, json={"metadata": {"os_glance_x": "v"}}).status_code == 403  # reserved
        missing = f"/images/{uuid.uuid4()}/metadata"
        assert compute.get(missing).status_code == 404
        assert compute.put(missing, json={"metadata": {}}).status_code == 404
        assert compute.get(f"{missing}/k").status_code == 404
    with api(demo, "2.39") as compute:
        assert compute.get(path).status_code == 404 and compute.post(path, json={"metadata": {}}).status_code == 404
    with api(admin) as compute:
        quota = f"/os-quota-sets/{demo.current_project_id}"
        compute.put(quota, json={"quota_set": {"metadata_items": 2}}).raise_for_status()
        try:
            with api(demo) as own:
                over = own.post(path, json={"metadata": {"a": "1", "b": "2"}})
                assert over.status_code == 403
                assert over.json()["forbidden"]["message"] == "Image metadata limit exceeded"
                assert own.post(path, json={"metadata": {"a": "1"}}).status_code == 200
        finally:
            compute.delete(quota)


def test_image_proxy_delete_and_ownership(api, admin, demo, images):
    mine = images()
    public = admin.image.create_image(name=random_name("pub"), data=b"x", disk_format="raw",
                                      container_format="bare", visibility="public")
    try:
        with api(demo) as compute:
            assert compute.delete(f"/images/{public.id}").status_code == 403
            assert compute.post(f"/images/{public.id}/metadata", json={"metadata": {"a": "b"}}).status_code == 403
            assert compute.get(f"/images/{public.id}/metadata").status_code == 200
            assert compute.delete(f"/images/{mine['id']}").status_code == 204
            assert compute.get(f"/images/{mine['id']}").status_code == 404
            assert compute.delete(f"/images/{mine['id']}").status_code == 404
            assert compute.delete("/images/").status_code == 404
            assert compute.delete("/images/-1").status_code == 404
    finally:
        admin.image.delete_image(public)
    assert admin.image.find_image(mine["id"]) is None


def test_novaclient_image_proxy(demo, images):
    from novaclient import client as nova_client

    image = images(os_distro="cirros")
    nova = nova_client.Client("2.1", session=demo.session)
    response, body = nova.client.get(f"/images/{image['id']}")
    assert response.status_code == 200 and body["image"]["metadata"] == {"os_distro": "cirros"}
    _, body = nova.client.get("/images/detail")
    assert image["id"] in [row["id"] for row in body["images"]]
    _, body = nova.client.post(f"/images/{image['id']}/metadata", body={"metadata": {"os_version": "2"}})
    assert body == {"metadata": {"os_distro": "cirros", "os_version": "2"}}
    response, _ = nova.client.delete(f"/images/{image['id']}")
    assert response.status_code == 204
    newer = nova_client.Client("2.36", session=demo.session)
    from novaclient import exceptions

    with pytest.raises(exceptions.NotFound):
        newer.client.get("/images")


def test_an_ami_whose_kernel_the_caller_cannot_see_is_refused(api, admin, demo, images):
    """An AMI's kernel_id/ramdisk_id are checked with the caller's rights, as Nova's API
    does: another project's private kernel is not found (400), the caller's own one boots."""
    hidden = admin.image.create_image(name=random_name("aki"), data=b"k" * 512, disk_format="aki",
                                      container_format="aki", visibility="private")
    try:
        own_kernel = images(disk_format="aki", container_format="aki")
        with api(demo, "2.37") as compute:
            for kernel in (hidden.id, own_kernel["id"]):
                ami = images(disk_format="ami", container_format="ami", kernel_id=kernel)
                body = {"server": {"name": random_name("ami"), "imageRef": ami["id"], "flavorRef": "42",
                                   "networks": "none"}}
                answer = compute.post("/servers", json=body)
                if kernel == hidden.id:
                    assert answer.status_code == 400, answer.text
                    assert f"Image {hidden.id} could not be found." in answer.json()["badRequest"]["message"]
                else:
                    assert answer.status_code == 202, answer.text
                    assert compute.delete(f"/servers/{answer.json()['server']['id']}").status_code == 204
    finally:
        admin.image.delete_image(hidden)
