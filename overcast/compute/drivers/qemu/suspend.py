"""Suspend to a file and resume from it, with QEMU's migration to and from a pipe.

Suspend stops the vCPUs, streams the machine state (RAM and devices) into
``memory.state`` through ``exec:cat`` (written to a ``.part`` file, renamed when QEMU
says the migration completed), then QEMU quits: the instance holds its disks and the
state file and no process. Resume starts QEMU again with ``-incoming`` reading that file
and the guest continues where it was; the file is removed once it runs.
"""

from __future__ import annotations

import os
import shlex
import time

from .layout import InstancePaths
from .qmp import QMPError, QMPSession

SAVE_SECONDS = 300.0


def save(paths: InstancePaths, timeout: float = SAVE_SECONDS) -> None:
    """Write the running or paused guest's state to ``paths.saved``; QEMU keeps running
    (paused) so the caller quits it. Raises QMPError."""
    part = paths.saved.with_name(paths.saved.name + ".part")
    part.unlink(missing_ok=True)
    try:
        with QMPSession(str(paths.qmp), timeout=10) as session:
            session.execute("stop")
            session.execute("migrate-set-parameters", **{"max-bandwidth": 1 << 40})
            session.execute("migrate", uri=f"exec:cat > {shlex.quote(str(part))}")
            deadline = time.monotonic() + timeout
            while True:
                status = (session.execute("query-migrate") or {}).get("status")
                if status == "completed":
                    break
                if status in ("failed", "cancelled") or time.monotonic() > deadline:
                    raise QMPError(f"saving the guest's memory ended {status or 'without an answer'}")
                time.sleep(0.05)
        os.replace(part, paths.saved)
    finally:
        part.unlink(missing_ok=True)


def incoming_args(paths: InstancePaths) -> list[str]:
    return ["-incoming", f"exec:cat {shlex.quote(str(paths.saved))}"]


def wait_resumed(paths: InstancePaths, timeout: float = SAVE_SECONDS) -> None:
    """Wait until the incoming state is loaded, let the guest run, drop the file."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with QMPSession(str(paths.qmp), timeout=10) as session:
                status = session.execute("query-status")["status"]
                if status not in ("inmigrate", "prelaunch"):
                    if status != "running":
                        session.execute("cont")
                    break
        except QMPError:
            if time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            raise QMPError(f"the saved guest did not load in {timeout:.0f} s")
        time.sleep(0.1)
    paths.saved.unlink(missing_ok=True)
