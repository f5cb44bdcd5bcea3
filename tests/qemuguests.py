"""Helpers for tests that drive real QEMU guests through the CLI: a cloud with the qemu
compute driver, the qemu processes of a cloud, and waiting on a server or its console."""

from __future__ import annotations

import os
import time

from cloudproc import CloudProcess
from conftest import FAST_HASH, Cli
import testguest


def start_cloud(data, **env) -> CloudProcess:
    """`overcast up` on ``data`` with the qemu driver; ``proc.guest`` is the test guest."""
    guest = testguest.build()
    proc = CloudProcess(data, env={**FAST_HASH, "OVERCAST_COMPUTE_DRIVER": "qemu", **env}).start(timeout=60)
    proc.guest = guest
    return proc


def stop_cloud(proc: CloudProcess) -> None:
    """Stop the cloud; a qemu process of it still running is killed and fails the test."""
    proc.stop()
    leftover = qemu_pids(str(proc.data_dir))
    for pid in leftover:
        os.kill(pid, 15)
    assert not leftover, f"qemu processes left behind: {leftover}"


def qemu_pids(marker: str) -> list[int]:
    pids = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                cmdline = handle.read()
            with open(f"/proc/{entry}/stat") as handle:
                state = handle.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if cmdline.startswith(b"qemu-system") and marker.encode() in cmdline and state != "Z":
            pids.append(int(entry))
    return pids


def wait_status(cli: Cli, server: str, status: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        shown = cli.run("server", "show", server)
        if shown["status"] == status:
            return shown
        assert shown["status"] != "ERROR", shown.get("fault")
        assert time.monotonic() < deadline, f"{server} is {shown['status']}, not {status}"
        time.sleep(0.5)


def wait_volume(cli: Cli, volume: str, status: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        shown = cli.run("volume", "show", volume)
        if shown["status"] == status:
            return shown
        assert shown["status"] not in ("error", "error_deleting", "error_attaching"), shown
        assert time.monotonic() < deadline, f"volume {volume} is {shown['status']}, not {status}"
        time.sleep(0.5)


def console(cli: Cli, server: str) -> str:
    return cli.ok("console", "log", "show", server)


def after_last_boot(text: str) -> str:
    return text.rsplit("OVERCAST-INIT-START", 1)[-1]
