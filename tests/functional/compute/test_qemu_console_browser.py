"""A real browser on a VNC console: headless Chromium loads the noVNC URL that
`openstack console url show --novnc` gives and connects through overcast's proxy to the
guest's VNC server, until noVNC says "Connected" and its canvas has the guest's screen size.

Chromium (Debian package ``chromium``) is driven over the DevTools protocol on a loopback
port; every host name but 127.0.0.1 resolves to nothing and its background services are
off, so the browser talks to loopback only.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time

import httpx
import pytest

import vncguest
from vncguest import novnc_url

websockets_sync = pytest.importorskip("websockets.sync.client", reason="the websockets package is not installed")

pytestmark = pytest.mark.qemu
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
LOOPBACK_ONLY = ["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--no-proxy-server",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-default-apps", "--disable-domain-reliability", "--no-first-run",
                 "--disable-client-side-phishing-detection", "--metrics-recording-only", "--no-pings"]


#: noVNC's status line and the size of its canvas (vnc_lite.html's #status and #screen)
STATE = """({status: (document.getElementById('status') || {}).textContent,
            canvas: (c => c ? [c.width, c.height] : null)(document.querySelector('#screen canvas'))})"""


@pytest.fixture(scope="module")
def vnc_cloud(tmp_path_factory):
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    yield from vncguest.cloud(tmp_path_factory.mktemp("vnc-browser") / "data")


@pytest.fixture(scope="module")
def vnc_guest(vnc_cloud):
    yield from vncguest.guest(vnc_cloud)


@pytest.fixture
def browser(tmp_path):
    """Headless Chromium with an empty tab; yields the DevTools HTTP base URL."""
    profile = tmp_path / "profile"
    proc = subprocess.Popen([CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                             f"--user-data-dir={profile}", "--remote-debugging-address=127.0.0.1",
                             "--remote-debugging-port=0", *LOOPBACK_ONLY, "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        active = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (active.exists() and active.read_text().strip()):
            assert proc.poll() is None, f"chromium exited with {proc.returncode}"
            assert time.monotonic() < deadline, "chromium did not open its DevTools port"
            time.sleep(0.1)
        yield f"http://127.0.0.1:{active.read_text().split()[0]}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Page:
    """One tab over the DevTools protocol: navigate and evaluate JavaScript."""

    def __init__(self, ws):
        self.ws = ws
        self.next_id = 0

    def send(self, method: str, **params) -> dict:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            answer = json.loads(self.ws.recv(timeout=30))
            if answer.get("id") == self.next_id:
                assert "error" not in answer, answer
                return answer["result"]

    def evaluate(self, expression: str):
        return self.send("Runtime.evaluate", expression=expression, returnByValue=True)["result"].get("value")


def test_novnc_in_chromium_connects_to_the_guest(vnc_cloud, vnc_guest, browser):
    cli, name = vnc_guest
    url = novnc_url(cli, name)
    (tab,) = [t for t in httpx.get(f"{browser}/json/list").json() if t["type"] == "page"]
    with websockets_sync.connect(tab["webSocketDebuggerUrl"], max_size=None, open_timeout=10) as ws:
        page = Page(ws)
        page.send("Page.navigate", url=url)
        deadline = time.monotonic() + 60
        state = {}
        while time.monotonic() < deadline:
            state = page.evaluate(STATE) or {}  # keys whose value is undefined (page still loading) are left out
            if (state.get("status") or "").startswith("Connected") and state.get("canvas") \
                    and min(state["canvas"]) > 0:
                break
            time.sleep(0.5)
        assert (state.get("status") or "").startswith("Connected"), state
        width, height = state["canvas"]
        print(f"noVNC in Chromium: {state}")
        assert width >= 320 and height >= 200, state  # the guest's VGA screen (720x400 text or more)
