"""A qemu-driver cloud with one running test guest, for the VNC console tests
(functional/compute/test_qemu_consoles.py and test_qemu_console_browser.py)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from cloudproc import CloudProcess
from conftest import FAST_HASH, Cli, random_name
import testguest


def qemu_pids(marker: str) -> list[int]:
    """Live qemu-system processes whose command line names ``marker`` (the data dir)."""
    pids = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if cmdline.startswith(b"qemu-system") and marker.encode() in cmdline and state != "Z":
            pids.append(int(entry))
    return pids


def cloud(data: Path):
    """Generator for a module fixture: `overcast up` with the qemu driver; no guest may
    outlive it."""
    guest = testguest.build()
    proc = CloudProcess(data, env={**FAST_HASH, "OVERCAST_COMPUTE_DRIVER": "qemu"}).start(timeout=60)
    proc.guest = guest
    try:
        yield proc
    finally:
        proc.stop()
        leftover = qemu_pids(str(data))
        for pid in leftover:  # never leave guests behind a failed test; QEMU quits on SIGTERM
            os.kill(pid, 15)
        assert not leftover, f"qemu processes left behind: {leftover}"


def guest(proc: CloudProcess):
    """Generator for a module fixture: ``(cli, name)`` of an ACTIVE guest without NICs."""
    cli = Cli(proc)
    image = cli.run("image", "create", "--disk-format", "qcow2", "--container-format", "bare", "--file",
                    str(proc.guest / "disk.qcow2"), random_name("guest"))
    flavor = cli.run("flavor", "create", "--ram", "128", "--disk", "1", "--vcpus", "1", random_name("q"))
    name = random_name("vnc")
    try:
        cli.run("server", "create", "--nic", "none", "--flavor", flavor["id"], "--image", image["id"], "--wait", name)
        yield cli, name
    finally:
        cli.raw("server", "delete", "--wait", name)
        cli.raw("image", "delete", image["id"])
        cli.raw("flavor", "delete", flavor["id"])


def wait_status(cli: Cli, server: str, status: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while (shown := cli.run("server", "show", server))["status"] != status:
        assert shown["status"] != "ERROR", shown.get("fault")
        assert time.monotonic() < deadline, f"{server} is {shown['status']}, not {status}"
        time.sleep(0.5)
    return shown


def novnc_url(cli: Cli, name: str) -> str:
    shown = cli.run("console", "url", "show", "--novnc", name)
    assert shown["type"] == "novnc"
    return shown["url"]


def websocket_url(proc: CloudProcess, url: str) -> str:
    """Where noVNC's vnc_lite.html connects for this console URL: ws://<host>/<path>."""
    path = parse_qs(urlsplit(url).query)["path"][0]
    return f"ws://127.0.0.1:{proc.port}/{path}"
