"""os-hosts (deprecated; gone at 2.43) through the openstack CLI's `host` commands and raw
calls: listing by zone, a host's resources per project, and the switches Nova's libvirt
driver answers 501 for. Instances are written onto the spare host (see conftest.py)."""

from __future__ import annotations

import uuid

import pytest

from conftest import random_name
from overcast.compute.models import ComputeServiceRow, Instance


def place(spare, project: str, vcpus: int, memory_mb: int, root_gb: int, ephemeral_gb: int = 0) -> str:
    server = str(uuid.uuid4())
    with spare.db.session() as session:
        session.add(Instance(uuid=server, project_id=project, user_id="u", display_name="vm", flavor_id="42",
                             flavor={}, vcpus=vcpus, memory_mb=memory_mb, root_gb=root_gb, ephemeral_gb=ephemeral_gb,
                             host=spare.name, node=spare.name, vm_state="active"))
    return server


def unplace(spare, servers: list[str]) -> None:
    with spare.db.session() as session:
        for server in servers:
            session.get(Instance, server).deleted = True


@pytest.mark.cli
def test_cli_host_list_show_set(cli, spare):
    rows = cli.run("host", "list")
    assert {"Host Name": spare.name, "Service": "compute", "Zone": "nova"} in rows
    assert {"scheduler", "conductor", "compute"} <= {row["Service"] for row in rows}
    assert all(row["Zone"] == "internal" for row in rows if row["Service"] != "compute")
    assert cli.run("host", "list", "--zone", "nowhere") == []
    shown = cli.run("host", "show", spare.name)
    assert shown[:3] == [
        {"Host": spare.name, "Project": "(total)", "CPU": 1, "Memory MB": 32, "Disk GB": 1},
        {"Host": spare.name, "Project": "(used_now)", "CPU": 0, "Memory MB": 0, "Disk GB": 0},
        {"Host": spare.name, "Project": "(used_max)", "CPU": 0, "Memory MB": 0, "Disk GB": 0}]
    cli.ok("host", "set", "--enable", spare.name)  # status is answered, maintenance mode is not
    failed = cli.raw("host", "set", "--enable-maintenance", spare.name)
    assert failed.returncode != 0 and "not supported" in failed.stderr


def test_list_filters_by_zone_and_skips_disabled(api, admin, spare):
    with api(admin) as compute, api(admin, "2.53") as v253:
        hosts = compute.get("/os-hosts").json()["hosts"]
        assert {"host_name": spare.name, "service": "compute", "zone": "nova"} in hosts
        assert compute.get("/os-hosts", params={"zone": ""}).json()["hosts"] == hosts  # blank: every zone
        assert compute.get("/os-hosts", params={"zone": "xxx"}).json()["hosts"] == []
        internal = compute.get("/os-hosts", params={"zone": "internal"}).json()["hosts"]
        assert internal and all(host["zone"] == "internal" for host in internal)
        assert compute.get("/os-hosts", params={"other": "ignored"}).status_code == 200
        service_id = v253.get("/os-services", params={"host": spare.name}).json()["services"][0]["id"]
        v253.put(f"/os-services/{service_id}", json={"status": "disabled"})
        assert spare.name not in {host["host_name"] for host in compute.get("/os-hosts").json()["hosts"]}


def test_show_sums_instances_per_project(api, admin, spare):
    first, second = random_name("p"), random_name("p")
    servers = [place(spare, first, 1, 8, 1), place(spare, first, 2, 4, 1, 2), place(spare, second, 1, 16, 0)]
    try:
        with api(admin) as compute:
            rows = [item["resource"] for item in compute.get(f"/os-hosts/{spare.name}").json()["host"]]
    finally:
        unplace(spare, servers)
    assert [row["project"] for row in rows] == ["(total)", "(used_now)", "(used_max)", first, second]
    assert rows[2] == {"host": spare.name, "project": "(used_max)", "cpu": 4, "memory_mb": 28, "disk_gb": 4}
    assert rows[3] == {"host": spare.name, "project": first, "cpu": 3, "memory_mb": 12, "disk_gb": 4}
    assert rows[4] == {"host": spare.name, "project": second, "cpu": 1, "memory_mb": 16, "disk_gb": 0}


def test_show_unknown_and_non_compute_hosts_404(api, admin, spare):
    lone = random_name("sched")
    with spare.db.session() as session:
        session.add(ComputeServiceRow(uuid=str(uuid.uuid4()), host=lone, binary="nova-scheduler", topic="scheduler"))
    try:
        with api(admin) as compute:
            missing = compute.get("/os-hosts/nonexistent_hostname")
            assert missing.status_code == 404 and "itemNotFound" in missing.json()
            assert "not mapped to any cell" in compute.get(f"/os-hosts/{lone}").json()["itemNotFound"]["message"]
            assert compute.put(f"/os-hosts/{lone}", json={"status": "enable"}).status_code == 404
    finally:
        with spare.db.session() as session:
            session.delete(session.query(ComputeServiceRow).filter_by(host=lone).one())


def test_update_answers_like_libvirt(api, admin, spare):
    url = f"/os-hosts/{spare.name}"
    with api(admin) as compute:
        assert compute.put(url, json={"status": "enable"}).json() == {"host": spare.name, "status": "enabled"}
        assert compute.put(url, json={"status": "DISABLE"}).json() == {"host": spare.name, "status": "disabled"}
        # the service itself stays enabled: os-services is where that changes
        assert spare.name in {host["host_name"] for host in compute.get("/os-hosts").json()["hosts"]}
        for body in ({"maintenance_mode": "enable"}, {"status": "enable", "maintenance_mode": "disable"}):
            answer = compute.put(url, json=body)
            assert answer.status_code == 501 and "notImplemented" in answer.json(), body
        for body in ({}, {"status": "invalid", "maintenance_mode": "enable"},
                     {"status": "enable", "maintenance_mode": "invalid"}, {"status": "enable", "extra": 1},
                     {"status": True}, ["status"]):
            assert compute.put(url, json=body).status_code == 400, body
        assert compute.put("/os-hosts/nonexistent_hostname", json={"status": "enable"}).status_code == 404


def test_power_actions_are_not_supported(api, admin, spare):
    with api(admin) as compute:
        for action in ("startup", "shutdown", "reboot"):
            answer = compute.get(f"/os-hosts/{spare.name}/{action}")
            assert answer.status_code == 501, action
            assert answer.json()["notImplemented"]["message"] == "The requested functionality is not supported."
            assert compute.get(f"/os-hosts/nonexistent_hostname/{action}").status_code == 404


def test_removed_at_243_and_admin_only(api, admin, demo, spare):
    with api(admin, "2.43") as compute:
        for path in ("/os-hosts", f"/os-hosts/{spare.name}", f"/os-hosts/{spare.name}/reboot"):
            assert compute.get(path).status_code == 404, path
        assert compute.put(f"/os-hosts/{spare.name}", json={"status": "enable"}).status_code == 404
    with api(admin, "2.42") as compute:
        assert compute.get("/os-hosts").status_code == 200
    with api(demo) as compute:
        for path in ("/os-hosts", f"/os-hosts/{spare.name}", f"/os-hosts/{spare.name}/startup",
                     f"/os-hosts/{spare.name}/shutdown", f"/os-hosts/{spare.name}/reboot"):
            answer = compute.get(path)
            assert answer.status_code == 403 and "forbidden" in answer.json(), path
        assert compute.put(f"/os-hosts/{spare.name}", json={"status": "enable"}).status_code == 403
