"""VNC consoles of real guests: `openstack console url show --novnc` gives a noVNC URL,
and the websocket that URL's page opens reaches the guest's VNC server through overcast's
proxy (the RFB greeting and the security handshake travel both ways); the token works once,
and a stopped guest has no console (409)."""

from __future__ import annotations

import pytest

import vncguest
from vncguest import novnc_url, wait_status, websocket_url

websockets_sync = pytest.importorskip("websockets.sync.client", reason="the websockets package is not installed")
from websockets.exceptions import ConnectionClosed  # noqa: E402

pytestmark = pytest.mark.qemu


@pytest.fixture(scope="module")
def vnc_cloud(tmp_path_factory):
    yield from vncguest.cloud(tmp_path_factory.mktemp("vnc-cloud") / "data")


@pytest.fixture(scope="module")
def vnc_guest(vnc_cloud):
    yield from vncguest.guest(vnc_cloud)


def test_the_console_url_reaches_the_guests_vnc_server_once(vnc_cloud, vnc_guest):
    cli, name = vnc_guest
    url = novnc_url(cli, name)
    assert url.startswith(f"{vnc_cloud.url}/vnc/vnc_lite.html?path=%3Ftoken%3D")
    ws_url = websocket_url(vnc_cloud, url)
    with websockets_sync.connect(ws_url, subprotocols=["binary"], open_timeout=10) as ws:
        assert ws.subprotocol == "binary"
        assert ws.recv(timeout=15) == b"RFB 003.008\n"
        ws.send(b"RFB 003.008\n")
        security = ws.recv(timeout=15)
        assert security[0] >= 1 and 1 in security[1:]  # QEMU offers "None" without a password
    with websockets_sync.connect(ws_url, open_timeout=10) as ws:  # a second use of the token
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
    assert closed.value.rcvd.code == 1008


def test_a_stopped_guest_has_no_console(vnc_cloud, vnc_guest):
    cli, name = vnc_guest
    url = novnc_url(cli, name)  # made while it runs, used after it stopped
    cli.ok("server", "stop", name)
    wait_status(cli, name, "SHUTOFF")
    refused = cli.raw("console", "url", "show", "--novnc", name)
    assert refused.returncode != 0 and "not ready" in refused.stderr
    with websockets_sync.connect(websocket_url(vnc_cloud, url), open_timeout=10) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
    assert closed.value.rcvd.code == 1011 and "not ready" in closed.value.rcvd.reason
    cli.ok("server", "start", name)
    wait_status(cli, name, "ACTIVE")
    with websockets_sync.connect(websocket_url(vnc_cloud, novnc_url(cli, name)), open_timeout=10) as ws:
        assert ws.recv(timeout=15) == b"RFB 003.008\n"
