"""Admin host APIs, os-services and os-hypervisors, through the openstack CLI, openstacksdk
and raw calls per microversion. Changes happen on a spare host (see conftest.py); the
all-in-one's own compute host is only read."""

from __future__ import annotations

import uuid

import pytest

from conftest import random_name
from overcast.compute.models import Instance


def service_row(client, host: str) -> dict:
    return client.get("/os-services", params={"host": host, "binary": "nova-compute"}).json()["services"][0]


# -- os-services ------------------------------------------------------------------------

@pytest.mark.cli
def test_cli_compute_service_list_and_set(cli, spare):
    rows = cli.run("compute", "service", "list", "--long")
    assert {"nova-scheduler", "nova-conductor", "nova-compute"} <= {row["Binary"] for row in rows}
    assert all(row["Zone"] == "internal" for row in rows if row["Binary"] != "nova-compute")
    cli.ok("compute", "service", "set", "--disable", "--disable-reason", "maintenance", spare.name, "nova-compute")
    row, = cli.run("compute", "service", "list", "--long", "--host", spare.name)
    assert row["Status"] == "disabled" and row["Disabled Reason"] == "maintenance" and row["State"] == "up"
    cli.ok("compute", "service", "set", "--enable", "--down", spare.name, "nova-compute")
    row, = cli.run("compute", "service", "list", "--long", "--host", spare.name)
    assert row["Status"] == "enabled" and row["State"] == "down" and row["Forced Down"] is True
    cli.ok("compute", "service", "set", "--up", spare.name, "nova-compute")
    assert cli.run("compute", "service", "list", "--host", spare.name)[0]["State"] == "up"


def test_services_by_microversion(api, admin, spare):
    with api(admin) as v21, api(admin, "2.11") as v211, api(admin, "2.53") as v253:
        old = service_row(v21, spare.name)
        assert isinstance(old["id"], int) and "forced_down" not in old and old["zone"] == "nova"
        assert old["updated_at"] and "T" in old["updated_at"] and not old["updated_at"].endswith("Z")
        assert service_row(v211, spare.name)["forced_down"] is False
        assert uuid.UUID(service_row(v253, spare.name)["id"])
        assert v21.get("/os-services", params={"binary": "nova-nothing"}).json() == {"services": []}
        assert v21.get("/os-services", params={"whatever": "x"}).status_code == 200
        assert api(admin, "2.75").get("/os-services", params={"whatever": "x"}).status_code == 400

        body = {"host": spare.name, "binary": "nova-compute"}
        answer = v21.put("/os-services/disable-log-reason", json={**body, "disabled_reason": "disk"}).json()
        assert answer == {"service": {**body, "status": "disabled", "disabled_reason": "disk"}}
        assert v21.put("/os-services/enable", json=body).json()["service"]["status"] == "enabled"
        assert v21.put("/os-services/disable-log-reason", json=body).status_code == 400  # no reason
        assert v21.put("/os-services/force-down", json=body).status_code == 404  # before 2.11
        assert v211.put("/os-services/force-down", json={**body, "forced_down": True}).json()["service"] == {
            **body, "forced_down": True}
        assert v211.put("/os-services/force-down", json={**body, "forced_down": "off"}).status_code == 200
        assert v21.put("/os-services/reboot", json=body).status_code == 404
        assert v21.put("/os-services/enable", json={**body, "extra": 1}).status_code == 400
        assert v21.put("/os-services/enable", json={**body, "host": "no-such-host"}).status_code == 404
        assert v21.put("/os-services/enable", json={**body, "binary": "nova-scheduler"}).status_code == 400

        ident = service_row(v253, spare.name)["id"]
        updated = v253.put(f"/os-services/{ident}", json={"status": "disabled", "disabled_reason": "rack"}).json()
        assert updated["service"]["status"] == "disabled" and updated["service"]["disabled_reason"] == "rack"
        assert updated["service"]["forced_down"] is False and updated["service"]["id"] == ident
        enabled = v253.put(f"/os-services/{ident}", json={"status": "enabled"}).json()["service"]
        assert enabled["status"] == "enabled" and enabled["disabled_reason"] is None
        bad = [({"status": "enabled", "disabled_reason": "x"}, ident, 400), ({}, ident, 400),
               ({"status": "paused"}, ident, 400), ({"status": "enabled"}, "not-a-uuid", 400),
               ({"status": "enabled"}, str(uuid.uuid4()), 404), ({"forced_down": "maybe"}, ident, 400)]
        for payload, target, status in bad:
            assert v253.put(f"/os-services/{target}", json=payload).status_code == status, payload
        scheduler, = v253.get("/os-services", params={"binary": "nova-scheduler"}).json()["services"]
        refused = v253.put(f"/os-services/{scheduler['id']}", json={"status": "disabled"})
        assert refused.status_code == 400 and "nova-scheduler" in refused.json()["badRequest"]["message"]


def test_services_are_admin_only(api, demo, spare):
    with api(demo) as client, api(demo, "2.53") as v253:
        assert client.get("/os-services").status_code == 403
        assert "forbidden" in client.get("/os-services").json()
        assert client.put("/os-services/enable", json={"host": spare.name, "binary": "nova-compute"}).status_code == 403
        assert v253.put(f"/os-services/{uuid.uuid4()}", json={"status": "enabled"}).status_code == 403
        assert v253.delete(f"/os-services/{uuid.uuid4()}").status_code == 403


def test_sdk_disable_force_down_and_delete(api, admin, spare):
    service = admin.compute.find_service("nova-compute", ignore_missing=False, host=spare.name)
    admin.compute.disable_service(service, spare.name, "nova-compute", disabled_reason="sdk")
    assert admin.compute.find_service("nova-compute", host=spare.name).status == "disabled"
    admin.compute.enable_service(service, spare.name, "nova-compute")
    admin.compute.update_service_forced_down(service, spare.name, "nova-compute", True)
    assert admin.compute.find_service("nova-compute", host=spare.name).state == "down"

    with api(admin, "2.53") as client, api(admin) as v21:
        aggregate = client.post("/os-aggregates", json={"aggregate": {"name": random_name("agg")}}).json()["aggregate"]
        client.post(f"/os-aggregates/{aggregate['id']}/action", json={"add_host": {"host": spare.name}})
        server = str(uuid.uuid4())
        with spare.db.session() as session:  # an instance placed on the host blocks the delete
            session.add(Instance(uuid=server, project_id="p", user_id="u", display_name="pinned", flavor_id="42",
                                 flavor={}, vcpus=1, memory_mb=16, root_gb=1, host=spare.name, node=spare.name,
                                 vm_state="active"))
        try:
            assert client.delete(f"/os-services/{service.id}").status_code == 409
        finally:
            with spare.db.session() as session:
                session.get(Instance, server).deleted = True
        assert v21.delete("/os-services/not-a-number").status_code == 400
        assert client.delete("/os-services/12").status_code == 400
        admin.compute.delete_service(service)
        assert client.delete(f"/os-services/{service.id}").status_code == 404
        assert v21.delete("/os-services/999999").status_code == 404
        nodes = client.get("/os-hypervisors", params={"hypervisor_hostname_pattern": spare.name})
        assert nodes.status_code == 404
        assert client.get(f"/os-aggregates/{aggregate['id']}").json()["aggregate"]["hosts"] == []
        client.delete(f"/os-aggregates/{aggregate['id']}")


# -- os-hypervisors ---------------------------------------------------------------------

@pytest.mark.cli
def test_cli_hypervisor_list_show_stats(cli, spare):
    rows = cli.run("hypervisor", "list")
    assert f"{spare.name}.node" in {row["Hypervisor Hostname"] for row in rows}
    shown = cli.run("hypervisor", "show", f"{spare.name}.node")
    assert shown["service_host"] == spare.name and shown["state"] == "up" and shown["hypervisor_type"] == "fake"
    stats = cli.run("hypervisor", "stats", "show")
    assert stats["count"] >= 2 and stats["vcpus"] >= 1


def test_hypervisors_by_microversion(api, admin, spare):
    node = f"{spare.name}.node"
    with api(admin) as v21, api(admin, "2.28") as v228, api(admin, "2.53") as v253, \
            api(admin, "2.88") as v288:
        old, = [h for h in v21.get("/os-hypervisors/detail").json()["hypervisors"] if h["hypervisor_hostname"] == node]
        assert isinstance(old["id"], int) and old["cpu_info"] == '{"arch": "x86_64"}'
        assert old["vcpus"] == 1 and old["memory_mb"] == 32 and old["running_vms"] == 0 and old["free_ram_mb"] == 32
        assert old["service"]["host"] == spare.name and isinstance(old["service"]["id"], int)
        assert v228.get(f"/os-hypervisors/{old['id']}").json()["hypervisor"]["cpu_info"] == {"arch": "x86_64"}
        assert v21.get("/os-hypervisors/not-a-number").status_code == 404
        assert v21.get("/os-hypervisors/999999").status_code == 404
        assert v21.get(f"/os-hypervisors/{spare.name}/search").json()["hypervisors"][0]["id"] == old["id"]
        assert "servers" not in v21.get(f"/os-hypervisors/{spare.name}/servers").json()["hypervisors"][0]
        assert v21.get("/os-hypervisors/no-such-node/search").status_code == 404
        assert v21.get(f"/os-hypervisors/{old['id']}/uptime").status_code == 501  # only this machine's is known

        new, = v253.get("/os-hypervisors/detail", params={"hypervisor_hostname_pattern": spare.name}).json()[
            "hypervisors"]
        assert uuid.UUID(new["id"]) and uuid.UUID(new["service"]["id"])
        assert v253.get(f"/os-hypervisors/{spare.name}/search").status_code == 404  # the route ends at 2.52
        assert v253.get("/os-hypervisors/not-a-uuid").status_code == 400
        assert v253.get(f"/os-hypervisors/{uuid.uuid4()}").status_code == 404
        assert v253.get("/os-hypervisors", params={"bogus": "1"}).status_code == 400
        assert v253.get("/os-hypervisors", params={"with_servers": "perhaps"}).status_code == 400
        assert v253.get("/os-hypervisors", params={"hypervisor_hostname_pattern": "x", "limit": 1}).status_code == 400
        shown = v253.get(f"/os-hypervisors/{new['id']}", params={"with_servers": "true"}).json()["hypervisor"]
        assert "servers" not in shown  # no servers: the key appears from 2.75
        with api(admin, "2.75") as v275:
            assert v275.get(f"/os-hypervisors/{new['id']}", params={"with_servers": "1"}).json()["hypervisor"][
                "servers"] == []
        page = v253.get("/os-hypervisors", params={"limit": 1}).json()
        assert len(page["hypervisors"]) == 1 and "marker=" in page["hypervisors_links"][0]["href"]
        after = v253.get("/os-hypervisors", params={"marker": page["hypervisors"][0]["id"]}).json()["hypervisors"]
        assert page["hypervisors"][0]["id"] not in {h["id"] for h in after}
        assert v253.get("/os-hypervisors", params={"marker": str(uuid.uuid4())}).status_code == 400

        latest = v288.get(f"/os-hypervisors/{new['id']}").json()["hypervisor"]
        assert "vcpus" not in latest and "cpu_info" not in latest and latest["uptime"] is None
        assert v288.get("/os-hypervisors/statistics").status_code == 404
        assert v288.get(f"/os-hypervisors/{new['id']}/uptime").status_code == 404
        stats = v21.get("/os-hypervisors/statistics").json()["hypervisor_statistics"]
        assert stats["count"] >= 2 and set(stats) >= {"vcpus", "free_disk_gb", "running_vms", "current_workload"}


def test_sdk_hypervisors_and_local_uptime(admin):
    local = [h for h in admin.compute.hypervisors(details=True) if h.hypervisor_type == "fake"
             and not h.name.startswith("spare-")]
    assert local and local[0].status == "enabled"
    shown = admin.compute.get_hypervisor(local[0].id)
    assert shown.name == local[0].name and " up " in (shown.uptime or "")


def test_hypervisors_are_admin_only(api, demo):
    with api(demo) as client:
        for path in ("/os-hypervisors", "/os-hypervisors/detail", "/os-hypervisors/statistics", "/os-hypervisors/1",
                     "/os-hypervisors/1/uptime", "/os-hypervisors/x/search", "/os-hypervisors/x/servers"):
            assert client.get(path).status_code == 403, path
