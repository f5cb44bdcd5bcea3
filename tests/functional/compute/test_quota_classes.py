"""os-quota-class-sets: `openstack quota set --class`, fields per microversion, and the
'default' class becoming the defaults of every project without its own limits."""

from __future__ import annotations

import pytest

from conftest import random_name

CLASS_FIELDS_21 = {"cores", "fixed_ips", "floating_ips", "injected_file_content_bytes", "injected_file_path_bytes",
                   "injected_files", "instances", "key_pairs", "metadata_items", "ram", "security_groups",
                   "security_group_rules"}
SERVER_GROUPS = {"server_groups", "server_group_members"}
NETWORK = {"fixed_ips", "floating_ips", "security_groups", "security_group_rules"}
INJECTED = {"injected_file_content_bytes", "injected_file_path_bytes", "injected_files"}


@pytest.fixture
def restore_defaults(api, admin):
    """Put the 'default' class back as it was (other tests expect the configured defaults)."""
    with api(admin, "2.1") as compute:
        before = compute.get("/os-quota-class-sets/default").json()["quota_class_set"]
    before.pop("id")
    yield
    with api(admin, "2.1") as compute:
        assert compute.put("/os-quota-class-sets/default", json={"quota_class_set": before}).status_code == 200


@pytest.fixture
def project(admin):
    created = admin.identity.create_project(name=random_name("qc"), domain_id="default")
    yield created
    admin.identity.delete_project(created)


@pytest.mark.cli
def test_cli_quota_set_class_changes_every_default(cli, api, admin, project, restore_defaults):
    cli.ok("quota", "set", "--class", "--instances", "20", "--cores", "31", "default")
    # (the CLI no longer shows a class; its defaults view reads /os-quota-sets/{id}/defaults)
    shown = {row["Resource"]: row["Limit"] for row in cli.run("quota", "show", "--default", "--compute", project.id)}
    assert shown["instances"] == 20 and shown["cores"] == 31
    shown = {row["Resource"]: row["Limit"] for row in cli.run("quota", "show", "--compute", project.id)}
    assert shown["instances"] == 20
    # a project without limits of its own now gets the class's values ...
    with api(admin, "2.57") as compute:
        fresh = compute.get(f"/os-quota-sets/{project.id}").json()["quota_set"]
        assert fresh["instances"] == 20 and fresh["cores"] == 31 and fresh["ram"] == 51200
        assert compute.get(f"/os-quota-sets/{project.id}/defaults").json()["quota_set"]["instances"] == 20
        own = compute.get(f"/os-quota-sets/{admin.current_project_id}").json()["quota_set"]["instances"]
        assert compute.get("/limits").json()["limits"]["absolute"]["maxTotalInstances"] == own
        # ... while its own limit wins over the class
        compute.put(f"/os-quota-sets/{project.id}", json={"quota_set": {"instances": 3}})
        mine = compute.get(f"/os-quota-sets/{project.id}").json()["quota_set"]
        assert mine["instances"] == 3 and mine["cores"] == 31
        compute.delete(f"/os-quota-sets/{project.id}")


def test_class_fields_follow_the_microversion(api, admin):
    with api(admin, "2.1") as compute:
        body = compute.get("/os-quota-class-sets/default").json()["quota_class_set"]
        assert set(body) == CLASS_FIELDS_21 | {"id"} and body["id"] == "default"  # no server groups below 2.50
    with api(admin, "2.50") as compute:
        body = compute.get("/os-quota-class-sets/default").json()["quota_class_set"]
        assert set(body) == (CLASS_FIELDS_21 - NETWORK) | SERVER_GROUPS | {"id"}
    with api(admin, "2.57") as compute:
        body = compute.get("/os-quota-class-sets/default").json()["quota_class_set"]
        assert set(body) == (CLASS_FIELDS_21 - NETWORK - INJECTED) | SERVER_GROUPS | {"id"}


def test_update_answers_without_id_and_checks_values(api, admin, restore_defaults):
    with api(admin, "2.57") as compute:
        answer = compute.put("/os-quota-class-sets/default", json={"quota_class_set": {"key_pairs": "150"}})
        assert answer.status_code == 200
        body = answer.json()["quota_class_set"]
        assert "id" not in body and body["key_pairs"] == 150 and "server_groups" in body
        for bad in ({"instances": -2}, {"instances": "ten"}, {"instances": 2 ** 31}, {"instances": True},
                    {"instances": 1.5}, {"wheels": 4}, {"floating_ips": 5}, {"injected_files": 2}):
            answer = compute.put("/os-quota-class-sets/default", json={"quota_class_set": bad})
            assert answer.status_code == 400 and "badRequest" in answer.json(), bad
        assert compute.put("/os-quota-class-sets/default", json={"quota_set": {}}).status_code == 400
        assert compute.put("/os-quota-class-sets/default", json={"quota_class_set": {}, "x": 1}).status_code == 400
        assert compute.put("/os-quota-class-sets/default", json=[]).status_code == 400
        assert compute.put("/os-quota-class-sets/" + "c" * 256, json={"quota_class_set": {}}).status_code == 400
    with api(admin, "2.1") as compute:  # 2.1 still takes the network ones and (hidden) server group ones
        answer = compute.put("/os-quota-class-sets/default",
                             json={"quota_class_set": {"floating_ips": 12, "server_groups": 11}})
        assert answer.status_code == 200 and answer.json()["quota_class_set"]["floating_ips"] == 12
        assert "server_groups" not in answer.json()["quota_class_set"]
    with api(admin, "2.50") as compute:
        assert compute.get("/os-quota-class-sets/default").json()["quota_class_set"]["server_groups"] == 11


def test_other_classes_are_kept_but_change_no_default(api, admin):
    name = random_name("gold")
    with api(admin, "2.57") as compute:
        shown = compute.get(f"/os-quota-class-sets/{name}").json()["quota_class_set"]
        assert shown["id"] == name and shown["instances"] == 10  # an unknown class shows the configured values
        assert compute.put(f"/os-quota-class-sets/{name}", json={"quota_class_set": {"instances": 99}}).status_code \
            == 200
        assert compute.get(f"/os-quota-class-sets/{name}").json()["quota_class_set"]["instances"] == 99
        assert compute.get("/os-quota-class-sets/default").json()["quota_class_set"]["instances"] == 10


def test_quota_classes_are_admin_only(api, demo):
    with api(demo, "2.57") as compute:
        assert compute.get("/os-quota-class-sets/default").status_code == 403
        answer = compute.put("/os-quota-class-sets/default", json={"quota_class_set": {"instances": 50}})
        assert answer.status_code == 403 and "forbidden" in answer.json()
