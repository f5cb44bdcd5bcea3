"""os-simple-tenant-usage through the openstack CLI, python-novaclient and raw calls per
microversion. Exact hours come from instance rows written straight into the database for
a project of their own (as the agent and delete would leave them); the CLI and novaclient
see a real server on the fake hypervisor."""

from __future__ import annotations

import datetime
import time
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest

from conftest import random_name
from overcast.common.db import Database
from overcast.compute.models import Instance

DAY = "2020-03-01T{}:00:00"
KEYS = {"hours", "flavor", "instance_id", "name", "tenant_id", "memory_mb", "local_gb", "vcpus", "started_at",
        "ended_at", "state", "uptime"}
TOTALS = {"tenant_id", "server_usages", "total_local_gb_usage", "total_vcpus_usage", "total_memory_mb_usage",
          "total_hours", "start", "stop"}


@pytest.fixture
def history(cloud):
    """Three instances of a project of their own on 2020-03-01: one ran 02:00-12:00 and was
    deleted, one launched at 06:00 and still runs, one never launched."""
    db = Database(f"sqlite:///{cloud.data_dir / 'overcast.db'}")
    project = uuid.uuid4().hex
    flavor = {"flavorid": "42", "name": "m1.usage", "vcpus": 2, "memory_mb": 512, "root_gb": 1, "ephemeral_gb": 1}
    at = lambda hour: datetime.datetime(2020, 3, 1, hour)  # noqa: E731
    rows = [dict(launched_at=at(2), terminated_at=at(12), deleted=True, deleted_at=at(12), vm_state="deleted"),
            dict(launched_at=at(6), vm_state="active"), dict(vm_state="error")]
    ids = sorted(str(uuid.uuid4()) for _ in rows)
    with db.session() as session:
        for ident, extra in zip(ids, rows):
            session.add(Instance(uuid=ident, project_id=project, user_id="u", display_name=random_name("old"),
                                 flavor_id="42", flavor=flavor, vcpus=2, memory_mb=512, root_gb=1, ephemeral_gb=1,
                                 created_at=at(1), **extra))
    yield project, ids
    with db.session() as session:
        for ident in ids:
            session.delete(session.get(Instance, ident))
    db.close()


@pytest.fixture(scope="module")
def server(admin, demo):
    image = admin.image.create_image(name=random_name("img"), data=b"\0" * 1024, disk_format="raw",
                                     container_format="bare", visibility="public")
    created = demo.compute.create_server(name=random_name("vm"), flavor_id=demo.compute.find_flavor("m1.nano").id,
                                         image_id=image.id, networks="none")
    demo.compute.wait_for_server(created, wait=20)
    yield created
    demo.compute.delete_server(created)
    demo.compute.wait_for_delete(created, wait=20)
    admin.image.delete_image(image)


def test_usage_hours_from_instance_rows(api, admin, history):
    project, (gone, running, _never) = history
    period = {"start": DAY.format("04"), "end": "2020-03-02T04:00:00.000000"}
    with api(admin) as compute:
        usage = compute.get(f"/os-simple-tenant-usage/{project}", params=period).json()["tenant_usage"]
    assert set(usage) == TOTALS and usage["start"] == "2020-03-01T04:00:00.000000"
    assert usage["stop"] == "2020-03-02T04:00:00.000000"
    by_id = {server["instance_id"]: server for server in usage["server_usages"]}
    assert set(by_id) == {gone, running}  # the one that never launched used nothing
    assert set(by_id[gone]) == KEYS
    assert by_id[gone] == {**by_id[gone], "hours": 8.0, "state": "terminated", "flavor": "m1.usage", "vcpus": 2,
                           "memory_mb": 512, "local_gb": 2, "tenant_id": project, "uptime": 36000,
                           "started_at": "2020-03-01T02:00:00.000000", "ended_at": "2020-03-01T12:00:00.000000"}
    assert by_id[running]["hours"] == 22.0 and by_id[running]["state"] == "active"
    assert by_id[running]["ended_at"] is None and by_id[running]["uptime"] > 86400
    assert usage["total_hours"] == 30.0 and usage["total_vcpus_usage"] == 60.0
    assert usage["total_memory_mb_usage"] == 30.0 * 512 and usage["total_local_gb_usage"] == 60.0

    with api(admin) as compute:
        before = compute.get(f"/os-simple-tenant-usage/{project}", params={"start": DAY.format("00"),
                                                                         "end": DAY.format("01")}).json()
        assert before == {"tenant_usage": {}}
        later = compute.get(f"/os-simple-tenant-usage/{project}", params={"start": DAY.format("13"),
                                                                        "end": DAY.format("14")}).json()
        assert [s["instance_id"] for s in later["tenant_usage"]["server_usages"]] == [running]


def test_usage_list_paging_and_detail_by_microversion(api, admin, history):
    project, (gone, running, _never) = history
    period = {"start": DAY.format("00"), "end": "2020-03-01 23:00:00.000000", "detailed": "1"}
    with api(admin) as v21, api(admin, "2.40") as v240:
        listed = v21.get("/os-simple-tenant-usage", params=period).json()
        assert "tenant_usages_links" not in listed
        mine, = [usage for usage in listed["tenant_usages"] if usage["tenant_id"] == project]
        assert len(mine["server_usages"]) == 2 and mine["total_hours"] == 27.0
        summary = v21.get("/os-simple-tenant-usage", params={**period, "detailed": "0"}).json()["tenant_usages"]
        assert "server_usages" not in [u for u in summary if u["tenant_id"] == project][0]
        assert v21.get("/os-simple-tenant-usage", params={**period, "limit": "1"}).json() == listed  # no paging

        first = v240.get("/os-simple-tenant-usage", params={**period, "limit": "1"}).json()
        assert sum(len(u["server_usages"]) for u in first["tenant_usages"]) == 1
        link, = first["tenant_usages_links"]
        query = parse_qs(urlsplit(link["href"]).query)
        assert link["rel"] == "next" and query["limit"] == ["1"] and query["detailed"] == ["1"]
        assert query["marker"] == [first["tenant_usages"][0]["server_usages"][0]["instance_id"]]
        shown = v240.get(f"/os-simple-tenant-usage/{project}", params={**period, "limit": "1"}).json()
        assert [s["instance_id"] for s in shown["tenant_usage"]["server_usages"]] == [gone]
        link, = shown["tenant_usage_links"]
        assert f"/os-simple-tenant-usage/{project}?" in link["href"] and f"marker={gone}" in link["href"]
        page2 = v240.get(link["href"]).json()
        assert [s["instance_id"] for s in page2["tenant_usage"]["server_usages"]] == [running]
        page3 = v240.get(f"/os-simple-tenant-usage/{project}", params={**period, "limit": "1", "marker": running})
        assert page3.json() == {"tenant_usage": {}}
        assert v240.get("/os-simple-tenant-usage", params={**period, "marker": str(uuid.uuid4())}).status_code == 400
        assert v240.get("/os-simple-tenant-usage", params={**period, "limit": "x"}).status_code == 400
        assert v240.get("/os-simple-tenant-usage", params={**period, "whatever": "1"}).status_code == 200
    with api(admin, "2.75") as v275:
        assert v275.get("/os-simple-tenant-usage", params={**period, "whatever": "1"}).status_code == 400
        assert v275.get(f"/os-simple-tenant-usage/{project}", params={**period}).status_code == 400  # detailed
        assert v275.get(f"/os-simple-tenant-usage/{project}", params={"start": period["start"]}).status_code == 200


def test_usage_bad_periods_and_policy(api, admin, demo):
    demo_project = demo.current_project_id
    with api(admin) as compute:
        backwards = compute.get("/os-simple-tenant-usage", params={"start": DAY.format("05"), "end": DAY.format("04")})
        assert backwards.status_code == 400 and "start time" in backwards.json()["badRequest"]["message"]
        for bad in ("2020-03-01", "2020-03-01T00:00:00Z", "yesterday"):
            assert compute.get("/os-simple-tenant-usage", params={"start": bad}).status_code == 400
        assert compute.get("/os-simple-tenant-usage/").status_code == 404
        assert compute.get(f"/os-simple-tenant-usage/{demo_project}",
                           params={"start": DAY.format("00")}).status_code == 200  # end defaults to now
    with api(demo) as compute:
        denied = compute.get("/os-simple-tenant-usage", params={"start": DAY.format("00")})
        assert denied.status_code == 403 and "os-simple-tenant-usage:list" in denied.json()["forbidden"]["message"]
        assert compute.get(f"/os-simple-tenant-usage/{demo_project}").status_code in (200, 400)
        assert compute.get(f"/os-simple-tenant-usage/{demo_project}",
                           params={"start": DAY.format("00")}).status_code == 200
        assert compute.get(f"/os-simple-tenant-usage/{admin.current_project_id}",
                           params={"start": DAY.format("00")}).status_code == 403


@pytest.mark.cli
def test_cli_usage_list_and_show(cli, demo, server):
    start = (datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=1)).strftime("%Y-%m-%d")
    end = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1)).strftime("%Y-%m-%d")
    rows = cli.run("usage", "list", "--start", start, "--end", end)
    mine, = [row for row in rows if row["Project"] in ("demo", demo.current_project_id)]
    assert float(mine["RAM MB-Hours"]) > 0  # no Servers: the SDK sends detailed=True, Nova wants detailed=1
    assert not mine["Servers"]
    for args, cloud_name in ((("--project", "demo"), "overcast"), ((), "overcast-demo")):
        shown = cli.run("usage", "show", *args, "--start", start, "--end", end, cloud_name=cloud_name)
        assert server.id in [row["instance_id"] for row in shown["Servers"]] and float(shown["CPU Hours"]) > 0


def test_novaclient_usage(demo, admin, server):
    from novaclient import client as nova_client

    start = datetime.datetime.now(datetime.UTC).replace(tzinfo=None) - datetime.timedelta(hours=1)
    time.sleep(0.01)
    end = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    for version in ("2.1", "2.40"):
        nova = nova_client.Client(version, session=admin.session)
        usages = nova.usage.list(start, end, detailed=True)
        mine, = [usage for usage in usages if usage.tenant_id == demo.current_project_id]
        assert server.id in [row["instance_id"] for row in mine.server_usages]
        own = nova_client.Client(version, session=demo.session).usage.get(demo.current_project_id, start, end)
        assert own.tenant_id == demo.current_project_id and own.total_hours > 0
        assert {row["instance_id"]: row["state"] for row in own.server_usages}[server.id] == "active"
