"""Servers moving between hosts in a cloud of two fake compute hosts ([compute] fake_hosts,
allow_resize_to_same_host off as in Nova): cold migration with confirm and revert, resize
to another host, live migration, the migration records, scheduler hints and group
policies on moves, and the openstack CLI's migrate commands."""

from __future__ import annotations

import time

import httpx
import pytest

from cloudproc import CloudProcess
from conftest import FAST_HASH, Cli, connect, random_name


@pytest.fixture(scope="module")
def two_hosts(tmp_path_factory):
    data = tmp_path_factory.mktemp("moves") / "data"
    proc = CloudProcess(data, env={**FAST_HASH, "OVERCAST_COMPUTE_FAKE_HOSTS": "2",
                                   "OVERCAST_COMPUTE_ALLOW_RESIZE_TO_SAME_HOST": "false",
                                   "OVERCAST_COMPUTE_HOST": random_name("mv")}).start()
    yield proc
    assert proc.stop() == 0


@pytest.fixture(scope="module")
def admin2(two_hosts):
    return connect(two_hosts)


@pytest.fixture(scope="module")
def image(admin2):
    made = admin2.image.create_image(name=random_name("img"), data=b"\0" * 1024, disk_format="raw",
                                     container_format="bare", visibility="public")
    yield made
    admin2.image.delete_image(made)


@pytest.fixture
def server(admin2, image):
    created = admin2.compute.create_server(name=random_name("mv"), image_id=image.id, flavor_id="42")
    created = admin2.compute.wait_for_server(created, interval=0.1, wait=30)
    yield created
    admin2.compute.delete_server(created)
    admin2.compute.wait_for_delete(created, interval=0.1, wait=30)


def call(cloud, conn, method: str, path: str, version: str = "latest", **kwargs) -> httpx.Response:
    headers = {"X-Auth-Token": conn.auth_token, "OpenStack-API-Version": f"compute {version}"}
    return httpx.request(method, f"{cloud.url}/compute/v2.1{path}", headers=headers, **kwargs)


def wait_for(cloud, conn, uuid: str, status: str, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        body = call(cloud, conn, "GET", f"/servers/{uuid}").json()["server"]
        if body["status"] == status and body["OS-EXT-STS:task_state"] is None:
            return body
        assert body["status"] != "ERROR", body.get("fault")
        assert time.monotonic() < deadline, f"server {uuid} is {body['status']}, not {status}"
        time.sleep(0.1)


def migrations(cloud, conn, uuid: str) -> list[dict]:
    found = call(cloud, conn, "GET", "/os-migrations", params={"instance_uuid": uuid}).json()["migrations"]
    return sorted(found, key=lambda m: m["id"])


def test_both_hosts_are_listed(two_hosts, admin2):
    hypervisors = call(two_hosts, admin2, "GET", "/os-hypervisors/detail").json()["hypervisors"]
    services = call(two_hosts, admin2, "GET", "/os-services", params={"binary": "nova-compute"}).json()["services"]
    hosts = {s["host"] for s in services}
    assert len(hypervisors) == 2 and len(hosts) == 2
    assert any(h.endswith("-2") for h in hosts)
    assert all(s["state"] == "up" for s in services)


def test_cold_migration_confirm_moves_the_server(two_hosts, admin2, server):
    source = wait_for(two_hosts, admin2, server.id, "ACTIVE")["OS-EXT-SRV-ATTR:host"]
    assert call(two_hosts, admin2, "POST", f"/servers/{server.id}/action", json={"migrate": None}).status_code == 202
    moved = wait_for(two_hosts, admin2, server.id, "VERIFY_RESIZE")
    assert moved["OS-EXT-SRV-ATTR:host"] != source
    [record] = migrations(two_hosts, admin2, server.id)
    assert (record["migration_type"], record["status"]) == ("migration", "finished")
    assert (record["source_compute"], record["dest_compute"]) == (source, moved["OS-EXT-SRV-ATTR:host"])
    answer = call(two_hosts, admin2, "POST", f"/servers/{server.id}/action", json={"confirmResize": None})
    assert answer.status_code == 204
    done = wait_for(two_hosts, admin2, server.id, "ACTIVE")
    assert done["OS-EXT-SRV-ATTR:host"] == moved["OS-EXT-SRV-ATTR:host"]
    assert migrations(two_hosts, admin2, server.id)[0]["status"] == "confirmed"
    ports = admin2.network.ports(device_id=server.id)
    assert all(p.binding_host_id == done["OS-EXT-SRV-ATTR:host"] for p in ports)


def test_cold_migration_revert_and_a_named_host(two_hosts, admin2, server):
    source = wait_for(two_hosts, admin2, server.id, "ACTIVE")["OS-EXT-SRV-ATTR:host"]
    services = call(two_hosts, admin2, "GET", "/os-services", params={"binary": "nova-compute"}).json()["services"]
    other = next(s["host"] for s in services if s["host"] != source)
    same = call(two_hosts, admin2, "POST", f"/servers/{server.id}/action", json={"migrate": {"host": source}})
    assert same.status_code == 400
    unknown = call(two_hosts, admin2, "POST", f"/servers/{server.id}/action", json={"migrate": {"host": "nope"}})
    assert unknown.status_code == 404
    old = call(two_hosts, admin2, "POST", f"/servers/{server.id}/action", "2.55", json={"migrate": {"host": other}})
    assert old.status_code == 400
    asked = call(two_hosts, admin2, "POST", f"/servers/{server.id}/action", json={"migrate": {"host": other}})
    assert asked.status_code == 202
    assert wait_for(two_hosts, admin2, server.id, "VERIFY_RESIZE")["OS-EXT-SRV-ATTR:host"] == other
    reverted = call(two_hosts, admin2, "POST", f"/servers/{server.id}/action", json={"revertResize": None})
    assert reverted.status_code == 202
    back = wait_for(two_hosts, admin2, server.id, "ACTIVE")
    assert back["OS-EXT-SRV-ATTR:host"] == source and back["OS-EXT-STS:power_state"] == 1
    assert migrations(two_hosts, admin2, server.id)[-1]["status"] == "reverted"


def test_live_migration_keeps_it_running(two_hosts, admin2, server):
    source = wait_for(two_hosts, admin2, server.id, "ACTIVE")["OS-EXT-SRV-ATTR:host"]
    services = call(two_hosts, admin2, "GET", "/os-services", params={"binary": "nova-compute"}).json()["services"]
    other = next(s["host"] for s in services if s["host"] != source)
    bad = call(two_hosts, admin2, "POST", f"/servers/{server.id}/action",
               json={"os-migrateLive": {"host": "nope", "block_migration": "auto"}})
    assert bad.status_code == 400
    answer = call(two_hosts, admin2, "POST", f"/servers/{server.id}/action",
                  json={"os-migrateLive": {"host": other, "block_migration": "auto"}})
    assert answer.status_code == 202
    moved = wait_for(two_hosts, admin2, server.id, "ACTIVE")
    assert moved["OS-EXT-SRV-ATTR:host"] == other and moved["OS-EXT-STS:power_state"] == 1
    [record] = migrations(two_hosts, admin2, server.id)
    assert (record["migration_type"], record["status"]) == ("live-migration", "completed")
    assert call(two_hosts, admin2, "GET", f"/servers/{server.id}/migrations").json()["migrations"] == []
    # the claim moved too: the source's hypervisor no longer counts the server
    hypervisors = call(two_hosts, admin2, "GET", "/os-hypervisors/detail", "2.87").json()["hypervisors"]
    used = {h["service"]["host"]: h["vcpus_used"] for h in hypervisors}
    assert used == {source: 0, other: 1}


def test_live_migration_of_a_suspended_server_conflicts(two_hosts, admin2, server):
    wait_for(two_hosts, admin2, server.id, "ACTIVE")
    call(two_hosts, admin2, "POST", f"/servers/{server.id}/action", json={"suspend": None})
    wait_for(two_hosts, admin2, server.id, "SUSPENDED")
    answer = call(two_hosts, admin2, "POST", f"/servers/{server.id}/action",
                  json={"os-migrateLive": {"host": None, "block_migration": "auto"}})
    assert answer.status_code == 409
    assert migrations(two_hosts, admin2, server.id) == []  # a refused move leaves no record


def test_cli_migrate_confirm_live_and_list(two_hosts, admin2, server):
    cli = Cli(two_hosts)
    source = wait_for(two_hosts, admin2, server.id, "ACTIVE")["OS-EXT-SRV-ATTR:host"]
    cli.ok("server", "migrate", "--wait", server.id)
    moved = wait_for(two_hosts, admin2, server.id, "VERIFY_RESIZE")["OS-EXT-SRV-ATTR:host"]
    assert moved != source
    cli.ok("server", "migrate", "confirm", server.id)
    wait_for(two_hosts, admin2, server.id, "ACTIVE")
    cli.ok("--os-compute-api-version", "2.30", "server", "migrate", "--live-migration", "--host", source, server.id)
    assert wait_for(two_hosts, admin2, server.id, "ACTIVE")["OS-EXT-SRV-ATTR:host"] == source
    listed = cli.run("server", "migration", "list", "--server", server.id)
    kinds = sorted((m["Type"], m["Status"]) for m in listed)
    assert kinds == [("live-migration", "completed"), ("migration", "confirmed")]


def test_unshelve_to_a_named_host(two_hosts, admin2, server):
    source = wait_for(two_hosts, admin2, server.id, "ACTIVE")["OS-EXT-SRV-ATTR:host"]
    services = call(two_hosts, admin2, "GET", "/os-services", params={"binary": "nova-compute"}).json()["services"]
    other = next(s["host"] for s in services if s["host"] != source)
    action = f"/servers/{server.id}/action"
    assert call(two_hosts, admin2, "POST", action, json={"unshelve": {"host": other}}).status_code == 409  # ACTIVE
    call(two_hosts, admin2, "POST", action, json={"shelve": None})
    wait_for(two_hosts, admin2, server.id, "SHELVED_OFFLOADED")  # offloaded at once, as shelved_offload_time 0
    assert call(two_hosts, admin2, "POST", action, json={"unshelve": {"host": "nope"}}).status_code == 400
    assert call(two_hosts, admin2, "POST", action, "2.90", json={"unshelve": {"host": other}}).status_code == 400
    assert call(two_hosts, admin2, "POST", action, json={"unshelve": {"host": other}}).status_code == 202
    assert wait_for(two_hosts, admin2, server.id, "ACTIVE")["OS-EXT-SRV-ATTR:host"] == other


def test_same_host_and_different_host_hints(two_hosts, admin2, server, image):
    host = wait_for(two_hosts, admin2, server.id, "ACTIVE")["OS-EXT-SRV-ATTR:host"]
    made = []
    for hint, upper in (("same_host", server.id.upper()), ("different_host", [server.id])):
        answer = call(two_hosts, admin2, "POST", "/servers", json={
            "server": {"name": random_name(hint), "imageRef": image.id, "flavorRef": "42", "networks": "none"},
            "os:scheduler_hints": {hint: upper}})
        assert answer.status_code == 202, answer.text
        made.append(answer.json()["server"]["id"])
    try:
        same, different = (wait_for(two_hosts, admin2, uuid, "ACTIVE")["OS-EXT-SRV-ATTR:host"] for uuid in made)
        assert same == host and different != host
        bad = call(two_hosts, admin2, "POST", "/servers", json={
            "server": {"name": "x", "imageRef": image.id, "flavorRef": "42", "networks": "none"},
            "os:scheduler_hints": {"same_host": "not-a-uuid"}})
        assert bad.status_code == 400
    finally:
        for uuid in made:
            call(two_hosts, admin2, "DELETE", f"/servers/{uuid}")


def test_a_move_keeps_the_anti_affinity_policy(two_hosts, admin2, image):
    group = call(two_hosts, admin2, "POST", "/os-server-groups",
                 json={"server_group": {"name": random_name("anti"), "policy": "anti-affinity"}}).json()["server_group"]
    made = []
    try:
        for _ in range(2):
            answer = call(two_hosts, admin2, "POST", "/servers", json={
                "server": {"name": random_name("anti"), "imageRef": image.id, "flavorRef": "42", "networks": "none"},
                "os:scheduler_hints": {"group": group["id"]}})
            made.append(answer.json()["server"]["id"])
        hosts = {wait_for(two_hosts, admin2, uuid, "ACTIVE")["OS-EXT-SRV-ATTR:host"] for uuid in made}
        assert len(hosts) == 2
        refused = call(two_hosts, admin2, "POST", f"/servers/{made[0]}/action", json={"migrate": None})
        assert refused.status_code == 400 and "No valid host" in refused.text
        live = call(two_hosts, admin2, "POST", f"/servers/{made[0]}/action",
                    json={"os-migrateLive": {"host": None, "block_migration": "auto"}})
        assert live.status_code == 400
        assert wait_for(two_hosts, admin2, made[0], "ACTIVE")["OS-EXT-STS:task_state"] is None
    finally:
        for uuid in made:
            call(two_hosts, admin2, "DELETE", f"/servers/{uuid}")
        for uuid in made:
            deadline = time.monotonic() + 30
            while call(two_hosts, admin2, "GET", f"/servers/{uuid}").status_code != 404 and time.monotonic() < deadline:
                time.sleep(0.1)
        call(two_hosts, admin2, "DELETE", f"/os-server-groups/{group['id']}")


def test_resize_leaves_the_host_when_it_may_not_stay(two_hosts, admin2, server):
    source = wait_for(two_hosts, admin2, server.id, "ACTIVE")["OS-EXT-SRV-ATTR:host"]
    action = f"/servers/{server.id}/action"
    assert call(two_hosts, admin2, "POST", action, json={"resize": {"flavorRef": "1"}}).status_code == 202
    moved = wait_for(two_hosts, admin2, server.id, "VERIFY_RESIZE")
    assert moved["OS-EXT-SRV-ATTR:host"] != source and moved["flavor"]["original_name"] == "m1.tiny"
    [record] = migrations(two_hosts, admin2, server.id)
    assert (record["migration_type"], record["status"]) == ("resize", "finished")
    assert call(two_hosts, admin2, "POST", action, json={"revertResize": None}).status_code == 202
    back = wait_for(two_hosts, admin2, server.id, "ACTIVE")
    assert back["OS-EXT-SRV-ATTR:host"] == source and back["flavor"]["original_name"] == "m1.nano"
    assert call(two_hosts, admin2, "POST", action, json={"resize": {"flavorRef": "1"}}).status_code == 202
    wait_for(two_hosts, admin2, server.id, "VERIFY_RESIZE")
    held = used_vcpus(two_hosts, admin2)[source]
    assert call(two_hosts, admin2, "POST", action, json={"confirmResize": None}).status_code == 204
    done = wait_for(two_hosts, admin2, server.id, "ACTIVE")
    assert done["OS-EXT-SRV-ATTR:host"] != source and done["flavor"]["original_name"] == "m1.tiny"
    assert used_vcpus(two_hosts, admin2)[source] == held - 1  # the source's claim went with the confirm


def used_vcpus(cloud, conn) -> dict[str, int]:
    hypervisors = call(cloud, conn, "GET", "/os-hypervisors/detail", "2.87").json()["hypervisors"]
    return {h["service"]["host"]: h["vcpus_used"] for h in hypervisors}
