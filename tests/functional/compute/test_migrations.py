"""os-migrations and /servers/{id}/migrations over the wire: fields per microversion,
filters, 2.59 paging, policy, and the in-progress live migration views. Migrations are
recorded with the service the resize code calls, on instances written to the spare host."""

from __future__ import annotations

import uuid

import pytest

from conftest import connect, random_name
from overcast.compute.models import Instance
from overcast.compute.service.migrations import Migrations

V20_KEYS = {"created_at", "dest_compute", "dest_host", "dest_node", "id", "instance_uuid", "new_instance_type_id",
            "old_instance_type_id", "source_compute", "source_node", "status", "updated_at"}
TINY, SMALL = {"flavorid": "1", "name": "m1.tiny"}, {"flavorid": str(uuid.uuid4()), "name": "custom"}


@pytest.fixture
def moves(admin, spare):
    """(record(type, status, source, dest) -> migration uuid, instance uuid, project id)."""
    project, instance = admin.current_project_id, str(uuid.uuid4())
    with spare.db.session() as session:
        session.add(Instance(uuid=instance, project_id=project, user_id=admin.current_user_id, display_name="mv",
                             flavor_id="1", flavor=TINY, vcpus=1, memory_mb=16, root_gb=1, host=spare.name,
                             node=spare.name, vm_state="active"))
    service = Migrations(spare.db)

    def record(kind="resize", status="finished", source=None, dest=None):
        return service.record(instance, project, admin.current_user_id, source or spare.name, dest or spare.name,
                              TINY, SMALL, kind, status)

    yield record, instance, project
    with spare.db.session() as session:
        session.get(Instance, instance).deleted = True


def items(client, **params) -> list[dict]:
    answer = client.get("/os-migrations", params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()["migrations"]


def test_fields_per_microversion(api, admin, moves):
    record, instance, project = moves
    resize, live = record(), record("live-migration", "running")
    with api(admin) as v21, api(admin, "2.23") as v223, api(admin, "2.59") as v259, api(admin, "2.80") as v280:
        old = {item["instance_uuid"]: item for item in items(v21, instance_uuid=instance)}
        assert len(old) == 1 and set(old[instance]) == V20_KEYS
        first = items(v21, instance_uuid=instance)[0]
        assert first["old_instance_type_id"] == 1 and first["new_instance_type_id"] is None  # a uuid flavor id
        assert first["created_at"] and "T" in first["created_at"] and not first["created_at"].endswith("Z")
        by_type = {item["migration_type"]: item for item in items(v223, instance_uuid=instance)}
        assert set(by_type) == {"resize", "live-migration"} and "links" not in by_type["resize"]
        link = by_type["live-migration"]["links"][0]["href"]
        assert link.endswith(f"/v2.1/servers/{instance}/migrations/{by_type['live-migration']['id']}")
        newest = items(v259, instance_uuid=instance)
        assert [item["uuid"] for item in newest] == [live, resize]
        assert {"user_id", "project_id"} & set(newest[0]) == set()
        latest = items(v280, instance_uuid=instance)[0]
        assert latest["project_id"] == project and latest["user_id"] == admin.current_user_id


def test_filters(api, admin, spare, moves):
    record, instance, project = moves
    resize, live = record(), record("live-migration", "running", dest="elsewhere")
    with api(admin) as v21, api(admin, "2.59") as v259, api(admin, "2.80") as v280:
        def uuids(client, **params):
            return {item["uuid"] for item in items(client, instance_uuid=instance, **params)}

        assert uuids(v259, status="running") == {live} and uuids(v259, migration_type="resize") == {resize}
        assert uuids(v259, host="elsewhere") == {live} and uuids(v259, source_compute=spare.name) == {resize, live}
        assert uuids(v259, hidden="1") == set() and uuids(v259, status="confirmed") == set()
        assert uuids(v280, project_id=project, user_id=admin.current_user_id) == {resize, live}
        assert uuids(v280, user_id="someone-else") == set()
        assert len(items(v21, instance_uuid=instance, project_id=project, anything="x")) == 2  # below 2.59: loose
        for params in ({"user_id": "x"}, {"anything": "x"}, {"changes-before": "2024-01-01T00:00:00Z"}):
            assert v259.get("/os-migrations", params=params).status_code == 400, params


def test_paging_and_changes_since(api, admin, spare, moves):
    record, instance, _ = moves
    made = [record() for _ in range(3)]
    Migrations(spare.db).set_status(instance, "confirmed")
    with api(admin, "2.59") as v259, api(admin, "2.66") as v266:
        page = v259.get("/os-migrations", params={"instance_uuid": instance, "limit": 2}).json()
        assert [item["uuid"] for item in page["migrations"]] == made[:0:-1]
        link = page["migrations_links"][0]
        assert link["rel"] == "next" and f"marker={made[1]}" in link["href"] and "limit=2" in link["href"]
        rest = v259.get("/os-migrations", params={"instance_uuid": instance, "limit": 2, "marker": made[1]}).json()
        assert [item["uuid"] for item in rest["migrations"]] == made[:1] and "migrations_links" not in rest
        assert items(v259, instance_uuid=instance, limit=0) == []
        since = items(v259, instance_uuid=instance, **{"changes-since": "2000-01-01T00:00:00Z"})
        assert [item["uuid"] for item in since] == [made[-1]]  # the only one updated after it was made
        assert items(v266, instance_uuid=instance, **{"changes-before": "2000-01-01T00:00:00Z"}) == []
        for params in ({"marker": "nope"}, {"limit": "-1"}, {"limit": "x"}, {"changes-since": "yesterday"}):
            assert v259.get("/os-migrations", params=params).status_code == 400, params
        crossed = {"changes-since": "2024-02-01T00:00:00Z", "changes-before": "2024-01-01T00:00:00Z"}
        assert v266.get("/os-migrations", params=crossed).status_code == 400


@pytest.mark.cli
def test_cli_server_migration_list(cli, spare, moves):
    record, instance, _ = moves
    record(), record("live-migration", "running", dest="elsewhere")
    rows = [row for row in cli.run("server", "migration", "list", "--host", spare.name)
            if row["Server UUID"] == instance]
    assert sorted(row["Type"] for row in rows) == ["live-migration", "resize"]
    rows = cli.run("server", "migration", "list", "--host", "elsewhere", "--status", "running")
    assert [(row["Server UUID"], row["Dest Compute"]) for row in rows] == [(instance, "elsewhere")]


def test_policy_admin_all_manager_own_project_member_none(cloud, api, admin, demo, moves):
    record, instance, project = moves
    record()
    with api(demo) as client:
        assert client.get("/os-migrations").status_code == 403
    name, password = random_name("mgr"), "pw-mgr-1"
    user = admin.identity.create_user(name=name, password=password, domain_id="default")
    try:
        admin.identity.assign_project_role_to_user(project, user, admin.identity.find_role("manager"))
        manager = connect(cloud, name, password, "admin")  # the admin connection's project
        with api(manager, "2.80") as client:
            assert client.get("/os-migrations").status_code == 403  # every project: admins only
            own = items(client, project_id=project, instance_uuid=instance)
            assert own and own[0]["source_compute"] is None and own[0]["dest_host"] is None  # hosts: admins only
    finally:
        admin.identity.delete_user(user)


def test_server_migrations_show_live_ones_in_progress(api, admin, demo, moves):
    record, instance, _ = moves
    record()
    record("live-migration", "running")
    url = f"/servers/{instance}/migrations"
    with api(admin, "2.22") as v222, api(admin, "2.23") as v223, api(admin, "2.80") as v280:
        assert v222.get(url).status_code == 404
        listed = v223.get(url).json()["migrations"]
        assert len(listed) == 1 and listed[0]["server_uuid"] == instance and listed[0]["status"] == "running"
        assert listed[0]["memory_total_bytes"] is None and "uuid" not in listed[0]
        live_id = listed[0]["id"]
        shown = v280.get(f"{url}/{live_id}").json()["migration"]
        assert shown["id"] == live_id and shown["project_id"] and shown["uuid"]
        resize_id = items(v223, instance_uuid=instance, migration_type="resize")[0]["id"]
        missing = v223.get(f"{url}/{resize_id}")
        assert missing.status_code == 404 and "is not live-migration" in missing.json()["itemNotFound"]["message"]
        assert v223.get(f"{url}/999999").status_code == 404
        assert v223.get(f"/servers/{uuid.uuid4()}/migrations").status_code == 404
    with api(demo, "2.23") as client:  # another project's server is not found
        assert client.get(url).status_code == 404


def test_abort_and_force_complete_need_a_migrating_server(api, admin, moves):
    record, instance, _ = moves
    record("live-migration", "running")
    with api(admin, "2.23") as v223, api(admin, "2.24") as v224, api(admin, "2.22") as v222:
        live_id = v223.get(f"/servers/{instance}/migrations").json()["migrations"][0]["id"]
        url = f"/servers/{instance}/migrations/{live_id}"
        assert v223.delete(url).status_code == 404  # abort came with 2.24
        refused = v224.delete(url)
        assert refused.status_code == 409 and "task_state None" in refused.json()["conflictingRequest"]["message"]
        assert v222.post(f"{url}/action", json={"force_complete": None}).status_code == 409
        assert v222.post(f"{url}/action", json={"force_completes": None}).status_code == 400
        assert api(admin, "2.21").post(f"{url}/action", json={"force_complete": None}).status_code == 404
