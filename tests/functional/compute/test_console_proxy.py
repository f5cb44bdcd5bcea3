"""The noVNC proxy with the fake driver: its pages are served, a token opens the websocket
once, and the fake's console (no VNC server) is refused with a reason. The relay to a real
VNC server is tested with the qemu driver (test_qemu_consoles.py)."""

from __future__ import annotations

import os
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

websockets_sync = pytest.importorskip("websockets.sync.client", reason="the websockets package is not installed")
from websockets.exceptions import ConnectionClosed, InvalidStatus  # noqa: E402

from conftest import random_name  # noqa: E402


@pytest.fixture(scope="module")
def server(admin):
    image = admin.image.create_image(name=random_name("img"), data=b"\0" * 1024, disk_format="raw",
                                     container_format="bare", visibility="public")
    created = admin.compute.create_server(name=random_name("vnc"), image_id=image.id, flavor_id="42")
    created = admin.compute.wait_for_server(created, interval=0.1, wait=30)
    yield created
    admin.compute.delete_server(created)
    admin.compute.wait_for_delete(created, interval=0.1, wait=30)
    admin.image.delete_image(image)


def call(cloud, conn, method: str, path: str, version: str = "2.1", **kwargs) -> httpx.Response:
    headers = {"X-Auth-Token": conn.auth_token, "OpenStack-API-Version": f"compute {version}"}
    return httpx.request(method, f"{cloud.url}/compute/v2.1{path}", headers=headers, **kwargs)


def console_url(cloud, admin, server_id: str) -> str:
    answer = call(cloud, admin, "POST", f"/servers/{server_id}/remote-consoles", "2.6",
                  json={"remote_console": {"protocol": "vnc", "type": "novnc"}})
    assert answer.status_code == 200, answer.text
    return answer.json()["remote_console"]["url"]


def websocket_url(cloud, url: str) -> str:
    """Where noVNC's vnc_lite.html connects for this console URL: ws://<host>/<path>."""
    path = parse_qs(urlsplit(url).query)["path"][0]
    return f"ws://127.0.0.1:{cloud.port}/{path}"


def closed_reason(ws_url: str) -> tuple[int, str]:
    with websockets_sync.connect(ws_url, subprotocols=["binary"], open_timeout=10) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
    return closed.value.rcvd.code, closed.value.rcvd.reason


def test_novnc_pages_are_served_under_vnc(cloud):
    if not os.path.isdir("/usr/share/novnc"):
        pytest.skip("noVNC is not installed (apt-get install novnc)")
    page = httpx.get(f"{cloud.url}/vnc/vnc_lite.html")
    assert page.status_code == 200 and "core/rfb.js" in page.text
    assert httpx.get(f"{cloud.url}/vnc/core/rfb.js").status_code == 200


def test_the_fake_console_is_refused_with_a_reason_and_the_token_works_once(cloud, admin, server):
    ws_url = websocket_url(cloud, console_url(cloud, admin, server.id))
    code, reason = closed_reason(ws_url)
    assert code == 1011 and "no VNC socket" in reason
    code, reason = closed_reason(ws_url)
    assert code == 1008 and "unknown, expired or already used" in reason


def test_a_made_up_token_is_refused(cloud):
    code, reason = closed_reason(f"ws://127.0.0.1:{cloud.port}/vnc/websockify?token=made-up")
    assert code == 1008 and "token" in reason


def test_a_page_from_another_origin_cannot_open_a_console(cloud, admin, server):
    ws_url = websocket_url(cloud, console_url(cloud, admin, server.id))
    with pytest.raises(InvalidStatus) as refused:
        websockets_sync.connect(ws_url, origin="http://evil.example", open_timeout=10)
    assert refused.value.response.status_code == 403


def test_an_admin_reads_a_token_without_using_it(cloud, admin, demo, server):
    url = console_url(cloud, admin, server.id)
    token = parse_qs(urlsplit(url).query)["path"][0].removeprefix("?token=")
    shown = call(cloud, admin, "GET", f"/os-console-auth-tokens/{token}", "2.31")
    assert shown.status_code == 200, shown.text
    console = shown.json()["console"]
    assert console["instance_uuid"] == server.id and console["host"] == server.compute_host
    assert set(console) == {"instance_uuid", "host", "port", "internal_access_path"}
    assert call(cloud, admin, "GET", f"/os-console-auth-tokens/{token}", "2.30").status_code == 401
    assert call(cloud, demo, "GET", f"/os-console-auth-tokens/{token}", "2.31").status_code == 403
    assert call(cloud, admin, "GET", "/os-console-auth-tokens/made-up", "2.31").status_code == 404
    code, _ = closed_reason(websocket_url(cloud, url))
    assert code == 1011  # the token still worked: the fake's console is what failed
