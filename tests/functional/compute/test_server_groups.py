"""Server groups (os-server-groups): CLI, openstacksdk and the raw API per microversion."""

from __future__ import annotations

import time

import httpx
import pytest

from conftest import connect, random_name


def _api(cloud, conn, version: str | None = None) -> tuple[str, dict]:
    headers = {"X-Auth-Token": conn.auth_token}
    if version:
        headers["OpenStack-API-Version"] = f"compute {version}"
    return f"{cloud.url}/compute/v2.1/os-server-groups", headers


@pytest.mark.cli
def test_cli_create_list_show_delete(cli):
    name = random_name("sg")
    created = cli.run("server", "group", "create", "--policy", "anti-affinity", name)
    assert created["name"] == name and created["members"] == [] and "anti-affinity" in str(created["policy"])
    listed = cli.run("server", "group", "list")
    assert name in [row["Name"] for row in listed]
    shown = cli.run("server", "group", "show", name)
    assert shown["id"] == created["id"]
    cli.ok("server", "group", "delete", created["id"])
    assert name not in [row["Name"] for row in cli.run("server", "group", "list")]


@pytest.mark.cli
def test_cli_rules_from_2_64(cli):
    name = random_name("sg")
    created = cli.run("--os-compute-api-version", "2.64", "server", "group", "create", "--policy", "anti-affinity",
                      "--rule", "max_server_per_host=2", name)
    assert created["policy"] == "anti-affinity" and "max_server_per_host" in str(created["rules"])
    shown = cli.run("--os-compute-api-version", "2.64", "server", "group", "show", created["id"])
    assert "2" in str(shown["rules"])
    cli.ok("server", "group", "delete", created["id"])


def test_sdk_create_find_delete(demo):
    name = random_name("sg")
    group = demo.compute.create_server_group(name=name, policy="soft-anti-affinity")
    assert group.policy == "soft-anti-affinity" and group.member_ids == []
    assert demo.compute.find_server_group(name).id == group.id
    assert group.id in [g.id for g in demo.compute.server_groups()]
    demo.compute.delete_server_group(group)
    assert demo.compute.find_server_group(name) is None


def test_bodies_per_microversion(cloud, demo):
    url, old = _api(cloud, demo)
    created = httpx.post(url, json={"server_group": {"name": "a", "policies": ["affinity"]}}, headers=old)
    assert created.status_code == 200
    body = created.json()["server_group"]
    assert body["policies"] == ["affinity"] and body["metadata"] == {} and body["members"] == []
    assert "project_id" not in body and "policy" not in body
    _, v213 = _api(cloud, demo, "2.13")
    shown = httpx.get(f"{url}/{body['id']}", headers=v213).json()["server_group"]
    assert shown["project_id"] == demo.current_project_id and shown["user_id"] == demo.current_user_id
    _, v264 = _api(cloud, demo, "2.64")
    new = httpx.post(url, json={"server_group": {"name": "b", "policy": "anti-affinity",
                                                 "rules": {"max_server_per_host": "3"}}}, headers=v264)
    assert new.status_code == 200
    new_body = new.json()["server_group"]
    assert new_body["policy"] == "anti-affinity" and new_body["rules"] == {"max_server_per_host": 3}
    assert "policies" not in new_body and "metadata" not in new_body
    plain = httpx.post(url, json={"server_group": {"name": "c", "policy": "affinity"}}, headers=v264).json()
    assert plain["server_group"]["rules"] == {}
    assert httpx.get(f"{url}/{new_body['id']}", headers=old).json()["server_group"]["policies"] == ["anti-affinity"]
    for ident in (body["id"], new_body["id"], plain["server_group"]["id"]):
        assert httpx.delete(f"{url}/{ident}", headers=old).status_code == 204
    assert httpx.delete(f"{url}/{body['id']}", headers=old).status_code == 404


@pytest.mark.parametrize("version, group", [
    (None, {"name": "x", "policies": ["spread-out"]}),
    (None, {"name": "x", "policies": ["soft-affinity"]}),  # soft policies arrive in 2.15
    (None, {"name": "x", "policies": ["affinity", "anti-affinity"]}),
    (None, {"name": "x", "policies": []}),
    (None, {"name": "x", "policy": "affinity"}),
    (None, {"policies": ["affinity"]}),
    (None, {"name": " padded ", "policies": ["affinity"]}),
    (None, {"name": "x", "policies": ["affinity"], "extra": 1}),
    ("2.64", {"name": "x", "policies": ["affinity"]}),
    ("2.64", {"name": "x", "policy": "spread-out"}),
    ("2.64", {"name": "x", "policy": "affinity", "rules": {"max_server_per_host": 2}}),
    ("2.64", {"name": "x", "policy": "anti-affinity", "rules": {"max_server_per_host": 0}}),
    ("2.64", {"name": "x", "policy": "anti-affinity", "rules": {"max_server_per_host": "two"}}),
    ("2.64", {"name": "x", "policy": "anti-affinity", "rules": {"max_servers": 2}}),
])
def test_bad_bodies_are_400(cloud, demo, version, group):
    url, headers = _api(cloud, demo, version)
    response = httpx.post(url, json={"server_group": group}, headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["badRequest"]["code"] == 400


def test_soft_policies_from_2_15(cloud, demo):
    url, headers = _api(cloud, demo, "2.15")
    response = httpx.post(url, json={"server_group": {"name": "s", "policies": ["soft-affinity"]}}, headers=headers)
    assert response.status_code == 200 and response.json()["server_group"]["policies"] == ["soft-affinity"]
    httpx.delete(f"{url}/{response.json()['server_group']['id']}", headers=headers)


def test_other_projects_groups_are_404_admin_sees_all(cloud, admin, demo):
    url, demo_headers = _api(cloud, demo)
    _, admin_headers = _api(cloud, admin, "2.13")
    theirs = httpx.post(url, json={"server_group": {"name": "adm", "policies": ["affinity"]}},
                        headers=admin_headers).json()["server_group"]
    mine = httpx.post(url, json={"server_group": {"name": "demo", "policies": ["affinity"]}},
                      headers=demo_headers).json()["server_group"]
    missing = httpx.get(f"{url}/{theirs['id']}", headers=demo_headers)
    assert missing.status_code == 404 and theirs["id"] in missing.json()["itemNotFound"]["message"]
    assert httpx.delete(f"{url}/{theirs['id']}", headers=demo_headers).status_code == 404
    assert httpx.get(f"{url}/{mine['id']}", headers=admin_headers).status_code == 200
    ids = lambda response: [group["id"] for group in response.json()["server_groups"]]  # noqa: E731
    assert mine["id"] not in ids(httpx.get(url, headers=admin_headers))
    everyone = ids(httpx.get(url, params={"all_projects": "True"}, headers=admin_headers))
    assert mine["id"] in everyone and theirs["id"] in everyone
    # a member asking for all projects gets its own groups, as in Nova
    assert ids(httpx.get(url, params={"all_projects": "1"}, headers=demo_headers)) == ids(
        httpx.get(url, headers=demo_headers))
    for ident in (mine["id"], theirs["id"]):
        assert httpx.delete(f"{url}/{ident}", headers=admin_headers).status_code == 204


def test_limit_and_offset(cloud, admin):
    project = admin.identity.create_project(name=random_name("sgp"), domain_id="default")
    user = admin.identity.create_user(name=random_name("sgu"), password="pw-sg-1", domain_id="default")
    admin.identity.assign_project_role_to_user(project, user, admin.identity.find_role("member"))
    conn = connect(cloud, user.name, "pw-sg-1", project.name)
    url, headers = _api(cloud, conn)
    made = [httpx.post(url, json={"server_group": {"name": f"g{i}", "policies": ["affinity"]}},
                       headers=headers).json()["server_group"]["id"] for i in range(3)]
    page = httpx.get(url, params={"limit": 2, "offset": 1}, headers=headers).json()["server_groups"]
    assert [group["id"] for group in page] == made[1:3]
    assert len(httpx.get(url, params={"limit": 0}, headers=headers).json()["server_groups"]) == 3
    assert httpx.get(url, params={"limit": -1}, headers=headers).status_code == 400
    assert httpx.get(url, params={"bogus": 1}, headers=headers).status_code == 200
    _, v275 = _api(cloud, conn, "2.75")
    assert httpx.get(url, params={"bogus": 1}, headers=v275).status_code == 400
    admin.identity.delete_user(user)
    admin.identity.delete_project(project)


def test_server_group_quota_is_403(cloud, admin):
    project = admin.identity.create_project(name=random_name("sgq"), domain_id="default")
    user = admin.identity.create_user(name=random_name("sgq"), password="pw-sgq-1", domain_id="default")
    admin.identity.assign_project_role_to_user(project, user, admin.identity.find_role("member"))
    quota_url = f"{cloud.url}/compute/v2.1/os-quota-sets/{project.id}"
    httpx.put(quota_url, json={"quota_set": {"server_groups": 1}}, headers={"X-Auth-Token": admin.auth_token})
    conn = connect(cloud, user.name, "pw-sgq-1", project.name)
    url, headers = _api(cloud, conn)
    first = httpx.post(url, json={"server_group": {"name": "one", "policies": ["affinity"]}}, headers=headers)
    assert first.status_code == 200
    second = httpx.post(url, json={"server_group": {"name": "two", "policies": ["affinity"]}}, headers=headers)
    assert second.status_code == 403
    assert second.json()["forbidden"]["message"] == "Quota exceeded, too many server groups."
    limits = httpx.get(f"{cloud.url}/compute/v2.1/limits", headers=headers).json()["limits"]["absolute"]
    assert limits["maxServerGroups"] == 1 and limits["totalServerGroupsUsed"] == 1
    detail = httpx.get(f"{quota_url}/detail", headers={"X-Auth-Token": admin.auth_token}).json()["quota_set"]
    assert detail["server_groups"]["in_use"] == 1
    httpx.delete(f"{url}/{first.json()['server_group']['id']}", headers=headers)
    admin.identity.delete_user(user)
    admin.identity.delete_project(project)


@pytest.fixture(scope="module")
def image(admin):
    created = admin.image.create_image(name=random_name("sg-img"), data=b"\0" * 1024, disk_format="raw",
                                       container_format="bare", visibility="public")
    yield created
    admin.image.delete_image(created)


def _boot(cli, admin, name: str, image, group_id: str) -> dict:
    """`openstack server create --hint group=...`, then wait (briskly) for ACTIVE or ERROR."""
    created = cli.run("server", "create", "--flavor", "1", "--image", image.id, "--hint", f"group={group_id}", name)
    return _settled(admin, created["id"])


def _settled(admin, server_id: str) -> dict:
    server = admin.compute.get_server(server_id)
    for _ in range(300):
        if server.status in ("ACTIVE", "ERROR"):
            break
        time.sleep(0.1)
        server = admin.compute.get_server(server_id)
    return {"id": server.id, "status": server.status, "fault": server.fault}


def _cleanup(admin, names: list[str]) -> None:
    for name in names:
        server = admin.compute.find_server(name)
        if server is not None:
            admin.compute.delete_server(server)
            admin.compute.wait_for_delete(server, wait=60)


@pytest.mark.cli
def test_anti_affinity_on_one_host_fails_the_second_boot(cli, admin, image):
    group = cli.run("server", "group", "create", "--policy", "anti-affinity", random_name("sg"))
    names = [random_name("sg-vm"), random_name("sg-vm")]
    try:
        first = _boot(cli, admin, names[0], image, group["id"])
        assert first["status"] == "ACTIVE"
        second = _boot(cli, admin, names[1], image, group["id"])
        assert second["status"] == "ERROR"
        assert "No valid host was found" in str(second["fault"])
        members = cli.run("server", "group", "show", group["id"])["members"]
        assert {first["id"], second["id"]} <= set(members if isinstance(members, list) else members.split(", "))
    finally:
        _cleanup(admin, names)
    members = cli.run("server", "group", "show", group["id"])["members"]
    assert not members  # deleted servers leave the group
    cli.ok("server", "group", "delete", group["id"])


def test_max_server_per_host_rule_lets_two_share_a_host(admin, image):
    group = admin.compute.create_server_group(name=random_name("sg"), policy="anti-affinity",
                                              rules={"max_server_per_host": 2})
    names = [random_name("sg-vm") for _ in range(3)]
    try:
        statuses = []
        for name in names:
            server = admin.compute.create_server(name=name, flavor_id="1", image_id=image.id, networks="none",
                                                 scheduler_hints={"group": group.id})
            statuses.append(_settled(admin, server.id)["status"])
        assert statuses == ["ACTIVE", "ACTIVE", "ERROR"]
        assert len(admin.compute.get_server_group(group.id).member_ids) == 3
    finally:
        _cleanup(admin, names)
    admin.compute.delete_server_group(group)


def test_group_hint_must_name_a_visible_group(cloud, admin, demo, image):
    url = f"{cloud.url}/compute/v2.1"
    theirs = admin.compute.create_server_group(name=random_name("sg"), policy="affinity")
    try:
        for hint in ("not-a-uuid", "4f1a6e3e-3f3e-4c55-9bd2-3a3a1bb7c2d0", theirs.id):
            body = {"server": {"name": random_name("sg-vm"), "flavorRef": "1", "imageRef": image.id,
                               "networks": "none"}, "os:scheduler_hints": {"group": hint}}
            response = httpx.post(f"{url}/servers", json=body, headers={"X-Auth-Token": demo.auth_token,
                                                                         "OpenStack-API-Version": "compute 2.37"})
            assert response.status_code == 400, response.text
    finally:
        admin.compute.delete_server_group(theirs)
