"""Admin server APIs: diagnostics per microversion, external events, migrate on one host."""

from __future__ import annotations

import json
import sqlite3

import httpx
import pytest

from conftest import random_name


@pytest.fixture(scope="module")
def server(admin):
    image = admin.image.create_image(name=random_name("img"), data=b"\0" * 1024, disk_format="raw",
                                     container_format="bare", visibility="public")
    created = admin.compute.create_server(name=random_name("adm"), image_id=image.id, flavor_id="42")
    created = admin.compute.wait_for_server(created, interval=0.1, wait=30)
    yield created
    admin.compute.delete_server(created)
    admin.compute.wait_for_delete(created, interval=0.1, wait=30)
    admin.image.delete_image(image)


def call(cloud, conn, method: str, path: str, version: str = "2.1", **kwargs) -> httpx.Response:
    headers = {"X-Auth-Token": conn.auth_token, "OpenStack-API-Version": f"compute {version}"}
    return httpx.request(method, f"{cloud.url}/compute/v2.1{path}", headers=headers, **kwargs)


def test_diagnostics_legacy_and_standard(cloud, admin, demo, server):
    legacy = call(cloud, admin, "GET", f"/servers/{server.id}/diagnostics").json()
    assert legacy["memory"] == 64 * 1024 and "cpu0_time" in legacy and "vda_read" in legacy
    standard = call(cloud, admin, "GET", f"/servers/{server.id}/diagnostics", "2.48").json()
    assert standard["num_cpus"] == 1 and standard["memory_details"]["maximum"] == 64
    assert standard["state"] == "running" and standard["driver"] == "libvirt"
    assert set(standard["disk_details"][0]) == {"read_bytes", "read_requests", "write_bytes", "write_requests",
                                                "errors_count"}
    assert call(cloud, demo, "GET", f"/servers/{server.id}/diagnostics").status_code in (403, 404)


def test_external_events_codes(cloud, admin, demo, server):
    unknown = "00000000-0000-0000-0000-000000000000"
    ok = call(cloud, admin, "POST", "/os-server-external-events",
              json={"events": [{"name": "network-vif-plugged", "server_uuid": server.id, "tag": "port-1"}]})
    assert ok.status_code == 200 and ok.json()["events"][0]["code"] == 200
    mixed = call(cloud, admin, "POST", "/os-server-external-events",
                 json={"events": [{"name": "network-changed", "server_uuid": server.id},
                                  {"name": "network-changed", "server_uuid": unknown}]})
    assert mixed.status_code == 207 and [e["code"] for e in mixed.json()["events"]] == [200, 404]
    none = call(cloud, admin, "POST", "/os-server-external-events",
                json={"events": [{"name": "network-changed", "server_uuid": unknown}]})
    assert none.status_code == 404
    too_new = call(cloud, admin, "POST", "/os-server-external-events",
                   json={"events": [{"name": "power-update", "server_uuid": server.id, "tag": "POWER_ON"}]})
    assert too_new.status_code == 400
    assert call(cloud, demo, "POST", "/os-server-external-events",
                json={"events": [{"name": "network-changed", "server_uuid": server.id}]}).status_code == 403


def test_migrate_needs_another_host(cloud, admin, server):
    answer = call(cloud, admin, "POST", f"/servers/{server.id}/action", json={"migrate": None})
    assert answer.status_code == 400 and "No valid host" in answer.json()["badRequest"]["message"]
    missing = call(cloud, admin, "POST", "/servers/00000000-0000-0000-0000-000000000000/action",
                   json={"migrate": None})
    assert missing.status_code == 404


def test_actions_the_hypervisor_lacks_are_refused_before_the_cast(cloud, admin, server):
    db = sqlite3.connect(cloud.data_dir / "overcast.db")
    try:
        (saved,) = db.execute("SELECT capabilities FROM compute_nodes WHERE host = ?",
                              (server.compute_host,)).fetchone()
        lacking = {**json.loads(saved), "supports_pause": False}
        with db:
            db.execute("UPDATE compute_nodes SET capabilities = ? WHERE host = ?",
                       (json.dumps(lacking), server.compute_host))
        answer = call(cloud, admin, "POST", f"/servers/{server.id}/action", json={"pause": None})
        assert answer.status_code == 409 and "does not support" in answer.json()["conflictingRequest"]["message"]
        assert admin.compute.get_server(server.id).status == "ACTIVE"
    finally:
        with db:
            db.execute("UPDATE compute_nodes SET capabilities = ? WHERE host = ?", (saved, server.compute_host))
        db.close()


def test_remote_consoles_give_novnc_urls_and_other_types_stay_unavailable(cloud, admin, server):
    modern = call(cloud, admin, "POST", f"/servers/{server.id}/remote-consoles", "2.6",
                  json={"remote_console": {"protocol": "vnc", "type": "novnc"}})
    assert modern.status_code == 200, modern.text
    console = modern.json()["remote_console"]
    assert (console["protocol"], console["type"]) == ("vnc", "novnc")
    assert console["url"].startswith(f"{cloud.url}/vnc/vnc_lite.html?path=%3Ftoken%3D")
    legacy = call(cloud, admin, "POST", f"/servers/{server.id}/action", json={"os-getVNCConsole": {"type": "novnc"}})
    assert legacy.status_code == 200 and set(legacy.json()["console"]) == {"type", "url"}
    assert legacy.json()["console"]["url"] != console["url"]  # a new token each time
    spice = call(cloud, admin, "POST", f"/servers/{server.id}/remote-consoles", "2.6",
                 json={"remote_console": {"protocol": "spice", "type": "spice-html5"}})
    assert spice.status_code == 400 and "Unavailable console type spice-html5" in spice.json()["badRequest"]["message"]
    old = call(cloud, admin, "POST", f"/servers/{server.id}/remote-consoles", "2.5",
               json={"remote_console": {"protocol": "vnc", "type": "novnc"}})
    assert old.status_code == 404


