"""The disks of a live migration: each local disk of the source mirrored into the
destination's NBD export of it (see ``live``), and the mirror jobs ended.

Local disks are the guest's own files (root overlay, ephemeral, swap), not volumes (both
QEMUs open the same file) nor the config drive (written again at the destination). Over
unix sockets and plain tcp a ``drive-mirror`` opens the target by URI; in TLS the target
is an NBD node made with ``blockdev-add`` carrying the source's client credentials (and
the destination's address to check its certificate against), mirrored into with
``blockdev-mirror`` and deleted once its job has ended.
"""

from __future__ import annotations

import time

from . import remote
from .guest import Guest
from .qmp import QMPError, QMPSession

LOCAL_DISKS = ("disk", "eph0", "swap")
JOB = "mirror-"  # job ids: mirror-<device>
TARGET = "mirror-target-"  # node names of the NBD targets of TLS mirrors


def local_disks(session: QMPSession, guest: Guest) -> dict[str, tuple[str, str]]:
    """This guest's own writable disk files: file name -> (device, node name)."""
    wanted = {getattr(guest.paths, name).name for name in LOCAL_DISKS}
    found = {}
    for block in session.execute("query-block") or []:
        inserted = block.get("inserted") or {}
        name = str(inserted.get("file", "")).rsplit("/", 1)[-1]
        if name in wanted and not inserted.get("ro"):
            found[name] = (block["device"], inserted["node-name"])
    return found


def start(session: QMPSession, data: dict, name: str, device: str, speed: int, creds: dict) -> None:
    """A mirror of ``device`` into the destination's export of ``name`` (``data``: the
    migrate data); ``creds`` ({"tls-creds": id} or empty): in TLS."""
    options = {"job-id": f"{JOB}{device}", "speed": speed} if speed else {"job-id": f"{JOB}{device}"}
    export = data["exports"][name]
    if creds:
        host, port = remote.split_address(data["nbd"])
        node = f"{TARGET}{device}"
        session.execute("blockdev-add", driver="nbd", export=export, **{
            "node-name": node, "server": {"type": "inet", "host": host, "port": port},
            "tls-hostname": host, **creds})
        session.execute("blockdev-mirror", device=device, target=node, sync="top", **options)
        return
    if data["transport"] == "tcp":
        target = f"nbd://{data['nbd']}/{export}"
    else:
        target = f"nbd+unix:///{export}?socket={data['nbd']}"
    session.execute("drive-mirror", device=device, target=target, format="raw", sync="top", mode="existing",
                    **options)


def jobs(session: QMPSession) -> list[dict]:
    return [job for job in session.execute("query-block-jobs") or [] if job["device"].startswith(JOB)]


def cancel(session: QMPSession, timeout: float = 60) -> None:
    """End every mirror (a ready one leaves its copy consistent) and drop the TLS targets."""
    for job in jobs(session):
        try:
            session.execute("block-job-cancel", device=job["device"], force=True)
        except QMPError:
            pass
    deadline = time.monotonic() + timeout
    while jobs(session) and time.monotonic() < deadline:
        time.sleep(0.05)
    for node in session.execute("query-named-block-nodes") or []:
        if str(node.get("node-name", "")).startswith(TARGET):
            try:
                session.execute("blockdev-del", **{"node-name": node["node-name"]})
            except QMPError:
                pass
