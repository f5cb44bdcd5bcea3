"""Nova 2.93: rebuild of a volume-backed server reimages its root volume (the fake
hypervisor, the file volume driver): `openstack server rebuild --reimage-boot-volume`,
openstacksdk, the 400 below 2.93, and ``OS-EXT-SRV-ATTR:kernel_id``/``ramdisk_id`` from
the image's properties."""

from __future__ import annotations


import httpx
import pytest

from conftest import connect, random_name


@pytest.fixture(scope="module")
def second_image(admin):
    data = b"the second image" + b"\0" * (1024 * 1024)
    kernel = admin.image.create_image(name=random_name("aki"), disk_format="aki", container_format="aki",
                                      data=b"kernel", visibility="public")
    ramdisk = admin.image.create_image(name=random_name("ari"), disk_format="ari", container_format="ari",
                                       data=b"ramdisk", visibility="public")
    image = admin.image.create_image(name=random_name("img2"), disk_format="raw", container_format="bare",
                                     visibility="public", data=data, kernel_id=kernel.id, ramdisk_id=ramdisk.id)
    admin.image.wait_for_status(image, "active", wait=30)
    yield image, data, kernel.id, ramdisk.id
    for made in (image, kernel, ramdisk):
        admin.image.delete_image(made, ignore_missing=True)


def _compute(cloud, admin, version: str) -> httpx.Client:
    return httpx.Client(base_url=f"{cloud.url}/compute/v2.1", timeout=30,
                        headers={"X-Auth-Token": admin.auth_token, "OpenStack-API-Version": f"compute {version}"})


def test_cli_rebuild_at_2_93_reimages_the_root_volume(cloud, cli, admin, api, raw_image, second_image,
                                                      volume_bytes):
    first, first_data = raw_image
    second, second_data, kernel_id, ramdisk_id = second_image
    volumes = api(admin)
    name = random_name("bfv")
    made = cli.run("server", "create", "--flavor", "1", "--image", first.id, "--boot-from-volume", "1", "--wait",
                   name)
    root = admin.compute.get_server(made["id"]).attached_volumes[0]["id"]
    assert volumes.wait(root, "in-use")["volume_image_metadata"]["image_id"] == first.id
    compute = _compute(cloud, admin, "2.92")
    try:
        old = compute.post(f"/servers/{made['id']}/action", json={"rebuild": {"imageRef": second.id}})
        assert old.status_code == 400 and old.json()["badRequest"]["message"] == (
            f"Image {second.id} is unacceptable: Unable to rebuild with a different image for a volume-backed "
            f"server.")
        shown = compute.get(f"/servers/{made['id']}").json()["server"]
        assert shown["OS-EXT-SRV-ATTR:kernel_id"] == "" and shown["OS-EXT-SRV-ATTR:root_device_name"] == "/dev/vda"

        cli.ok("--os-compute-api-version", "2.93", "server", "rebuild", "--image", second.id,
               "--reimage-boot-volume", "--wait", name)
        server = admin.compute.get_server(made["id"])
        assert server.status == "ACTIVE" and not server.image.get("id")
        assert [a["id"] for a in server.attached_volumes] == [root]  # the same volume
        volume = volumes.wait(root, "in-use")
        assert volume["volume_image_metadata"]["image_id"] == second.id
        assert len(volume["attachments"]) == 1 and volume["attachments"][0]["server_id"] == made["id"]
        assert volume_bytes(root, 16) == second_data[:16]
        shown = compute.get(f"/servers/{made['id']}").json()["server"]
        assert shown["OS-EXT-SRV-ATTR:kernel_id"] == kernel_id and shown["OS-EXT-SRV-ATTR:ramdisk_id"] == ramdisk_id
        assert shown["OS-EXT-SRV-ATTR:root_device_name"] == "/dev/vda"
        actions = [a["Action"] for a in cli.run("server", "event", "list", name)]
        assert actions.count("rebuild") == 1

        # openstacksdk at 2.93 (a connection of its own: the microversion is the proxy's)
        sdk = connect(cloud)
        sdk.compute.default_microversion = "2.93"
        sdk.compute.rebuild_server(made["id"], image=first.id)
        sdk.close()
        admin.compute.wait_for_server(admin.compute.get_server(made["id"]), status="ACTIVE", wait=60)
        assert volumes.wait(root, "in-use")["volume_image_metadata"]["image_id"] == first.id
        assert volume_bytes(root, 20) == first_data[:20]
        shown = compute.get(f"/servers/{made['id']}").json()["server"]
        assert shown["OS-EXT-SRV-ATTR:kernel_id"] == ""
    finally:
        compute.close()
        cli.ok("server", "delete", "--wait", name)
        volumes.wait(root, "available")
        volumes.delete(f"/volumes/{root}")


def test_image_server_gets_kernel_and_ramdisk_of_its_image(cloud, cli, admin, second_image):
    second, _, kernel_id, ramdisk_id = second_image
    name = random_name("ami")
    made = cli.run("server", "create", "--flavor", "1", "--image", second.id, "--wait", name)
    compute = _compute(cloud, admin, "2.3")
    try:
        shown = compute.get(f"/servers/{made['id']}").json()["server"]
        assert shown["OS-EXT-SRV-ATTR:kernel_id"] == kernel_id and shown["OS-EXT-SRV-ATTR:ramdisk_id"] == ramdisk_id
        assert shown["OS-EXT-SRV-ATTR:root_device_name"] == "/dev/vda"
    finally:
        compute.close()
        cli.ok("server", "delete", "--wait", name)


def test_rebuild_whose_reimage_fails_puts_the_server_in_error(cloud, cli, admin, api, raw_image):
    """The volume agent cannot write the image: the volume goes error, no volume-reimaged
    comes and after ``reimage_timeout_per_gb`` (20 s for this 1 GiB image) the server is
    ERROR with Nova's fault."""
    first, _ = raw_image
    broken = admin.image.create_image(name=random_name("broken"), disk_format="vmdk", container_format="bare",
                                      data=b"not a vmdk at all" * 64)
    name = random_name("bfv")
    made = cli.run("server", "create", "--flavor", "1", "--image", first.id, "--boot-from-volume", "1", "--wait",
                   name)
    root = admin.compute.get_server(made["id"]).attached_volumes[0]["id"]
    try:
        cli.ok("--os-compute-api-version", "2.93", "server", "rebuild", "--image", broken.id,
               "--reimage-boot-volume", name)
        server = admin.compute.wait_for_server(admin.compute.get_server(made["id"]), status="ERROR", wait=120)
        assert "Failed to rebuild volume backed instance." in server.fault["message"]
        assert api(admin).wait(root, "error")["id"] == root
    finally:
        cli.ok("server", "delete", "--wait", name)
        admin.image.delete_image(broken)
        api(admin).delete(f"/volumes/{root}")
