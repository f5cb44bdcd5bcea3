"""Compute quotas: `openstack quota show/set`, limits, and keypair quota enforcement."""

from __future__ import annotations

import subprocess

import httpx
import pytest

from conftest import connect, random_name


@pytest.fixture
def project(admin):
    created = admin.identity.create_project(name=random_name("quota"), domain_id="default")
    yield created
    admin.identity.delete_project(created)


@pytest.mark.cli
def test_cli_quota_show_and_set(cli, project):
    shown = {row["Resource"]: row["Limit"] for row in cli.run("quota", "show", project.id)}
    assert shown["instances"] == 10 and shown["cores"] == 20 and shown["key-pairs"] == 100
    cli.ok("quota", "set", "--instances", "3", "--cores", "8", project.id)
    shown = {row["Resource"]: row["Limit"] for row in cli.run("quota", "show", project.id)}
    assert shown["instances"] == 3 and shown["cores"] == 8 and shown["ram"] == 51200


def test_quota_api_detail_defaults_update_delete(cloud, admin, demo, project):
    url = f"{cloud.url}/compute/v2.1/os-quota-sets/{project.id}"
    admin_headers = {"X-Auth-Token": admin.auth_token, "OpenStack-API-Version": "compute 2.57"}
    detail = httpx.get(f"{url}/detail", headers=admin_headers).json()["quota_set"]
    assert detail["instances"] == {"limit": 10, "in_use": 0, "reserved": 0}
    assert "floating_ips" not in detail and "injected_files" not in detail  # gone at 2.36 / 2.57
    old = httpx.get(url, headers={"X-Auth-Token": admin.auth_token}).json()["quota_set"]
    assert old["floating_ips"] == 10 and old["id"] == project.id
    updated = httpx.put(url, json={"quota_set": {"instances": 1, "force": True}}, headers=admin_headers)
    assert updated.status_code == 200 and updated.json()["quota_set"]["instances"] == 1
    bad = httpx.put(url, json={"quota_set": {"instances": -2}}, headers=admin_headers)
    assert bad.status_code == 400 and "badRequest" in bad.json()
    unknown = httpx.put(url, json={"quota_set": {"wheels": 4}}, headers=admin_headers)
    assert unknown.status_code == 400
    member = httpx.put(url, json={"quota_set": {"instances": 50}}, headers={"X-Auth-Token": demo.auth_token})
    assert member.status_code == 403
    assert httpx.delete(url, headers=admin_headers).status_code == 202
    assert httpx.get(url, headers=admin_headers).json()["quota_set"]["instances"] == 10
    defaults = httpx.get(f"{url}/defaults", headers=admin_headers).json()["quota_set"]
    assert defaults["key_pairs"] == 100


def test_keypair_quota_is_enforced_with_403(cloud, admin, tmp_path):
    project = admin.identity.create_project(name=random_name("kp"), domain_id="default")
    user = admin.identity.create_user(name=random_name("kp"), password="pw-kp-1", domain_id="default")
    admin.identity.assign_project_role_to_user(project, user, admin.identity.find_role("member"))
    url = f"{cloud.url}/compute/v2.1"
    admin_headers = {"X-Auth-Token": admin.auth_token}
    httpx.put(f"{url}/os-quota-sets/{project.id}", json={"quota_set": {"key_pairs": 1}}, headers=admin_headers)
    conn = connect(cloud, user.name, "pw-kp-1", project.name)
    keys = []
    for index in range(2):
        path = tmp_path / f"key{index}"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
        keys.append((tmp_path / f"key{index}.pub").read_text())
    headers = {"X-Auth-Token": conn.auth_token}
    first = httpx.post(f"{url}/os-keypairs", json={"keypair": {"name": "one", "public_key": keys[0]}}, headers=headers)
    assert first.status_code == 200
    second = httpx.post(f"{url}/os-keypairs", json={"keypair": {"name": "two", "public_key": keys[1]}},
                        headers=headers)
    assert second.status_code == 403 and "key pairs" in second.json()["forbidden"]["message"]
    limits = httpx.get(f"{url}/limits", headers=headers).json()["limits"]["absolute"]
    assert limits["maxTotalKeypairs"] == 1
    admin.identity.delete_user(user)
    admin.identity.delete_project(project)
