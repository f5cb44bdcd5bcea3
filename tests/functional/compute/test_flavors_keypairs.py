"""Flavors and keypairs with the real `openstack` CLI and openstacksdk; microversions."""

from __future__ import annotations

import subprocess

import httpx
import openstack.exceptions as exc
import pytest

from conftest import random_name


@pytest.fixture(scope="module")
def public_key(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("keys") / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    return str(path) + ".pub"


@pytest.mark.cli
def test_cli_flavor_list_create_access_delete(cli):
    names = [f["Name"] for f in cli.run("flavor", "list")]
    assert {"m1.nano", "m1.tiny", "m1.small", "m1.medium", "m1.large", "m1.xlarge"} <= set(names)
    name = random_name("flavor")
    created = cli.run("flavor", "create", "--ram", "128", "--disk", "1", "--vcpus", "1", "--private",
                      "--property", "hw:cpu_policy=dedicated", name)
    assert created["os-flavor-access:is_public"] is False and created["properties"] == {"hw:cpu_policy": "dedicated"}
    assert name not in [f["Name"] for f in cli.run("flavor", "list", cloud_name="overcast-demo")]
    cli.ok("flavor", "set", "--project", "demo", name)
    assert name in [f["Name"] for f in cli.run("flavor", "list", "--all", cloud_name="overcast-demo")]
    result = cli.raw("flavor", "create", "--ram", "1", "--disk", "1", "--vcpus", "1", "x", cloud_name="overcast-demo")
    assert result.returncode != 0 and "403" in result.stderr
    cli.ok("flavor", "delete", name)
    assert name not in [f["Name"] for f in cli.run("flavor", "list", "--all")]


@pytest.mark.cli
def test_cli_keypair_create_list_show_delete(cli, public_key):
    name = random_name("key")
    created = cli.run("keypair", "create", "--public-key", public_key, name)
    expected = subprocess.run(["ssh-keygen", "-l", "-E", "md5", "-f", public_key], capture_output=True,
                              text=True, check=True).stdout.split()[1].removeprefix("MD5:")
    assert created["fingerprint"] == expected
    assert name in [k["Name"] for k in cli.run("keypair", "list")]
    assert name not in [k["Name"] for k in cli.run("keypair", "list", cloud_name="overcast-demo")]
    assert cli.run("keypair", "show", name)["type"] == "ssh"
    cli.ok("keypair", "delete", name)
    assert name not in [k["Name"] for k in cli.run("keypair", "list")]


def test_sdk_keypairs_and_errors(admin, public_key):
    name = random_name("sdk")
    with open(public_key) as handle:
        key = admin.compute.create_keypair(name=name, public_key=handle.read())
    assert admin.compute.get_keypair(name).fingerprint == key.fingerprint
    with pytest.raises(exc.ConflictException):
        admin.compute.create_keypair(name=name, public_key=open(public_key).read())
    with pytest.raises(exc.BadRequestException):
        admin.compute.create_keypair(name=random_name("bad"), public_key="ssh-rsa not-a-key")
    admin.compute.delete_keypair(name)
    with pytest.raises(exc.NotFoundException):
        admin.compute.get_keypair(name)


def test_sdk_flavors_extra_specs(admin):
    flavor = admin.compute.create_flavor(name=random_name("f"), ram=256, vcpus=2, disk=2, description="d")
    admin.compute.create_flavor_extra_specs(flavor, {"quota:cpu_shares": "1024"})
    fetched = admin.compute.get_flavor(flavor.id)
    assert fetched.extra_specs == {"quota:cpu_shares": "1024"} and fetched.description == "d"
    assert admin.compute.find_flavor(flavor.name).id == flavor.id
    admin.compute.delete_flavor_extra_specs_property(flavor, "quota:cpu_shares")
    assert admin.compute.get_flavor(flavor.id).extra_specs == {}
    admin.compute.delete_flavor(flavor)


def test_microversions_shape_and_errors(cloud, admin):
    headers = {"X-Auth-Token": admin.auth_token}
    url = f"{cloud.url}/compute/v2.1"
    old = httpx.get(f"{url}/flavors/1", headers=headers)
    assert old.headers["OpenStack-API-Version"] == "compute 2.1" and old.json()["flavor"]["swap"] == ""
    assert "description" not in old.json()["flavor"]
    new = httpx.get(f"{url}/flavors/1", headers={**headers, "OpenStack-API-Version": "compute 2.75"})
    assert new.json()["flavor"]["swap"] == 0 and new.json()["flavor"]["description"] is None
    legacy = httpx.get(f"{url}/flavors/1", headers={**headers, "X-OpenStack-Nova-API-Version": "2.61"})
    assert legacy.headers["X-OpenStack-Nova-API-Version"] == "2.61" and "extra_specs" in legacy.json()["flavor"]
    too_new = httpx.get(f"{url}/flavors", headers={**headers, "OpenStack-API-Version": "compute 2.999"})
    assert too_new.status_code == 406
    garbled = httpx.get(f"{url}/flavors", headers={**headers, "OpenStack-API-Version": "compute two"})
    assert garbled.status_code == 400 and garbled.json()["badRequest"]["code"] == 400
    missing = httpx.get(f"{url}/flavors/nope", headers=headers)
    assert missing.status_code == 404 and "nope" in missing.json()["itemNotFound"]["message"]
    version = httpx.get(f"{cloud.url}/compute/v2.1").json()["version"]
    assert version["min_version"] == "2.1" and version["version"] == "2.100"
