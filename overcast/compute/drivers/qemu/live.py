"""Live migration between two QEMUs, the way libvirt does it without shared storage.

Destination (``prepare``): the instance directory gets its own disks (an overlay on this
host's cached image, blank ephemeral and swap disks of the same sizes, the config drive
written again) and QEMU starts with the very devices of the source (hot-plugged ones at
their PCI slots, from the source's ``source_data``) and ``-incoming`` on a unix socket
beside its QMP socket; an NBD server on another socket exports each local disk writable.

Source (``migrate``): ``drive-mirror`` of each local disk into the destination's export
(``sync=top``: an overlay sends only its own clusters, the base image is in both caches),
and every guest write from then on goes to both sides; once each mirror is ready the
memory migration runs with ``pause-before-switchover``: when QEMU has stopped the vCPUs
for the switch, the mirrors are completed (``block-job-cancel`` of a ready mirror leaves
the copy consistent), the console log written so far is appended to the destination's,
and the switch goes on. Volumes (a boot volume too) are shared, taken from the source's
spec (``cold.take_volumes``): both QEMUs open the same file (QEMU's image locking hands it
over at the switch), or both log in to the same iSCSI target (tgt lets in any initiator
with the volume's CHAP account; the destination's block node stays inactive until the
switch), or open the same rbd image. The VNC and QMP sockets are the destination's own (the console URL asks the
server's host). ``abort`` cancels the migration and the mirrors, ``force`` pauses the
guest (Nova's libvirt driver does the same) so no page is dirtied again and it converges,
and lifts the bandwidth limit (``Settings``) for the rest of the copy.

Addresses: unix sockets when both QEMUs run on one machine (transport ``local``, see
``remote.decide``). Between machines (``tcp``) the destination's QEMU starts with
``-incoming defer`` and listens with ``migrate-incoming tcp:MY_IP:PORT``, its NBD server
on ``MY_IP:PORT'`` (two free ports of ``live_migration_ports``, tried in turn), only for
the migration: the NBD server stops once the guest runs here (or goes with QEMU on a
rollback), the migration listener closes when the stream has come. What is exposed: both
listen on ``my_ip`` only and take as many connections as there are disks to mirror (the
source's), export names are random per migration (but NBD lists them to whoever
connects). Without TLS nothing is encrypted or authenticated (as Nova's default ``tcp``
scheme), so whoever reaches ``my_ip`` on those ports during the copy could read the disks
being copied or make the migration fail (then the destination is rolled back): keep the
hosts' ``my_ip`` on a private network. With ``Settings.tls`` on both hosts (``tls``) each
QEMU gets a ``tls-creds-x509`` object for the host's certificates: the destination's
(``server``) for ``migrate-incoming`` and the NBD server, the source's (``client``) for
``migrate`` (with ``tls-hostname``, the destination's address) and for the mirrors, whose
targets are then NBD nodes made with ``blockdev-add`` (``tls-creds``) and mirrored into
with ``blockdev-mirror``; both ends verify the other against the CA. A host without the
certificates fails the migration before anything is copied; TLS on one end only fails it
too (never a copy in the clear). Over ``tcp`` the console log does not come by path: the
destination pulls the source's log when it gets ready and the rest after the switch
(``remote.append_from``), so lines printed right after the switch may come before the
source's last ones.

Post-copy (``Settings.post_copy`` on both hosts): ``postcopy-ram`` is on in both QEMUs,
and force-complete switches to post-copy (``migrate-start-postcopy``) instead of pausing
the guest, as Nova's libvirt driver does with ``live_migration_permit_post_copy``. Only
memory goes post-copy: the memory migration starts once every mirror is ready (Nova's
rule: switch only when memory is the last part), and the switch still stops at
``pre-switchover``, where the mirrors complete. From ``postcopy-active`` on the guest runs
at the destination: the migration can no longer be aborted or rolled back (a failure
then loses the guest, as with libvirt), and ``on_post_copy`` tells the caller.
"""

from __future__ import annotations

import dataclasses
import random
import secrets
import threading
import time
from typing import Callable

from ..base import InstanceSpec
from ..errors import MigrationCancelled
from ..live_signals import Signals
from . import cold, disks, mirrors, process, remote, tls
from .guest import Guest
from .qmp import QMPError, QMPSession

GiB = 1 << 30
POLL = 0.1
_PORTS = threading.Lock()  # one destination at a time picks its ports


class LiveMigrationError(Exception):
    """The copy failed; the guest still runs on the source."""


@dataclasses.dataclass
class Settings:
    bandwidth_mib: int = 0  # MiB/s for memory and disks, 0: as fast as it goes
    downtime_ms: int = 500  # the longest pause the switch may take
    timeout: float = 3600.0  # seconds before the migration is given up
    tls: bool = False  # over tcp: the stream and the NBD exports in TLS (``tls``), both ends verified
    tls_dir: str = ""  # this host's certificates (``tls.FILES``)
    post_copy: bool = False  # force-complete switches to post-copy (when both ends permit it)


def _sockets(guest: Guest) -> tuple[str, str]:
    """(migration stream socket, NBD socket) of an incoming guest."""
    return str(guest.paths.qmp.with_suffix(".mig")), str(guest.paths.qmp.with_suffix(".nbd"))


def source_data(guest: Guest) -> dict:
    """What the destination must copy from the source's spec: where each hot-plugged
    device sits (PCI slot) and the device names the guest sees."""
    spec = guest.spec()
    return {**cold.moved_volumes(guest), "vifs": [{"id": v.get("id"), "slot": v.get("slot")} for v in spec.vifs]}


def matched(guest: Guest, spec: InstanceSpec, data: dict | None, local: bool) -> InstanceSpec:
    """``spec`` (plugged on this host) with the source's device layout and volumes."""
    if not data:
        return spec
    slots = {v["id"]: v.get("slot") for v in data.get("vifs") or [] if v.get("id")}
    vifs = [{**vif, "slot": slots[vif["id"]]} if slots.get(vif.get("id")) is not None else vif for vif in spec.vifs]
    return cold.take_volumes(guest, dataclasses.replace(spec, vifs=vifs), data, local)


def prepare(images: disks.ImageCache, guest: Guest, spec: InstanceSpec,
            listen: tuple[str, tuple[int, int]] | None = None, settings: Settings | None = None) -> dict:
    """Destination: disks, QEMU waiting for the stream, the NBD exports; the migrate data.
    ``listen``: (my_ip, (first port, last port)) for ``tcp``, None for unix sockets;
    ``settings``: TLS (over tcp) and post-copy."""
    settings = settings or Settings()
    secure = listen is not None and settings.tls
    tls_dir = tls.check_dir(settings.tls_dir) if secure else ""
    paths = guest.paths
    if spec.image is not None and not any(str(e.get("boot_index")) == "0" for e in spec.block_devices):
        base, base_format, virtual_size = images.get(spec.image)
        disks.create_overlay(base, base_format, virtual_size, paths.disk, spec.root_gb)
    if spec.ephemeral_gb:
        disks.create_blank(paths.eph0, spec.ephemeral_gb * GiB)
    if spec.swap_mb:
        disks.create_blank(paths.swap, spec.swap_mb << 20)
    if spec.config_drive:
        from .configdrive import write_config_drive

        write_config_drive(spec, paths.config)
    stream, nbd = _sockets(guest)
    incoming = f"unix:{stream}" if listen is None else "defer"
    command = guest.command(spec) + ["-incoming", incoming]
    paths.saved.unlink(missing_ok=True)
    process.start(command, paths)
    guest.throttle(spec)
    exports = {}
    with QMPSession(str(paths.qmp), timeout=10) as session:
        nodes = {name: disk[1] for name, disk in mirrors.local_disks(session, guest).items()}
        if settings.post_copy:
            session.execute("migrate-set-capabilities", capabilities=[{"capability": "postcopy-ram", "state": True}])
        creds = {}
        if secure:
            creds = {"tls-creds": tls.add_creds(session, tls_dir, "server")}
            session.execute("migrate-set-parameters", **creds)
        if listen is None:
            session.execute("nbd-server-start", addr={"type": "unix", "data": {"path": nbd}})
            data = {"transport": "unix", "uri": f"unix:{stream}", "nbd": nbd, "console": str(paths.console)}
        else:
            data = {"transport": "tcp", **_listen_tcp(session, listen[0], listen[1], len(nodes), creds)}
        data.update(tls=secure, post_copy=settings.post_copy)
        for name, node in nodes.items():
            export = name if listen is None else f"{name}-{secrets.token_hex(16)}"
            session.execute("block-export-add", type="nbd", id=f"export-{name}", writable=True, name=export,
                            **{"node-name": node})
            exports[name] = export
    return {**data, "exports": exports}


def _listen_tcp(session: QMPSession, ip: str, ports: tuple[int, int], disks_count: int, creds: dict) -> dict:
    """The migration listener and the NBD server (with ``creds``: TLS) on two free ports
    of ``ports`` at ``ip``."""
    first, last = ports
    candidates = list(range(first, last + 1))
    start = random.randrange(len(candidates))  # concurrent clouds on one machine collide less
    candidates = candidates[start:] + candidates[:start]
    found: dict = {}
    with _PORTS:
        for port in candidates:
            if not _free(ip, port):
                continue
            try:
                if "uri" not in found:
                    uri = f"tcp:{remote.listen_address(ip, port)}"
                    session.execute("migrate-incoming", uri=uri)
                    found["uri"] = uri
                elif disks_count:
                    session.execute("nbd-server-start", addr={"type": "inet", "data": {"host": ip, "port": str(port)}},
                                    **{"max-connections": disks_count}, **creds)
                    found["nbd"] = remote.listen_address(ip, port)
                if "uri" in found and ("nbd" in found or not disks_count):
                    return found
            except QMPError:
                continue  # taken meanwhile by someone else: the next one
    raise LiveMigrationError(f"no free port in {first}-{last} on {ip} for the live migration")


def _free(ip: str, port: int) -> bool:
    import socket

    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((ip, port))
        except OSError:
            return False
    return True


def finish_incoming(guest: Guest, paused: bool) -> None:
    """Destination, after the switch: the NBD server goes, the guest runs (or stays paused)."""
    with QMPSession(str(guest.paths.qmp), timeout=10) as session:
        try:
            session.execute("nbd-server-stop")
        except QMPError:
            pass  # stopped already (a retry)
        status = session.execute("query-status")["status"]
        if status == "inmigrate":
            raise LiveMigrationError("the guest's state has not arrived here")
        if not paused and status != "running":
            session.execute("cont")
        elif paused and status == "running":
            session.execute("stop")
    for path in _sockets(guest):
        _unlink(path)


def _unlink(path: str) -> None:
    import os

    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def cleanup(guest: Guest) -> None:
    for path in _sockets(guest):
        _unlink(path)


def migrate(guest: Guest, data: dict, signals: Signals, settings: Settings,
            on_post_copy: Callable[[], None] | None = None) -> None:
    """Source: copy disks and memory to the destination ``data`` names; return once the
    guest runs there (the source QEMU is left paused for ``destroy``). Raises
    MigrationCancelled (aborted) or LiveMigrationError; either way the guest runs here,
    unless the failure came after the switch to post-copy (then it runs nowhere, as with
    libvirt). ``on_post_copy`` is called once the guest has switched to post-copy."""
    if data.get("transport") not in ("unix", "tcp") or not data.get("uri"):
        raise LiveMigrationError(f"migrate data {sorted(data)} names nowhere to migrate to")
    secure = _secure(data, settings)
    post_copy = settings.post_copy and bool(data.get("post_copy"))
    state = {"forced": False, "post_copy": False}
    with QMPSession(str(guest.paths.qmp), timeout=30) as session:
        was_running = session.execute("query-status")["status"] == "running"
        try:
            creds = {"tls-creds": tls.add_creds(session, tls.check_dir(settings.tls_dir), "client")} if secure else {}
            speed = settings.bandwidth_mib << 20
            for name, (device, _) in mirrors.local_disks(session, guest).items():
                if name not in (data.get("exports") or {}):
                    raise LiveMigrationError(f"the destination has no disk {name}")
                mirrors.start(session, data, name, device, speed, creds)
            deadline = time.monotonic() + settings.timeout
            while not all(job.get("ready") for job in mirrors.jobs(session)):
                _check(signals, deadline, guest)
                _force(session, signals, was_running, state, post_copy, migrating=False)
                time.sleep(POLL)
            capabilities = [{"capability": "pause-before-switchover", "state": True},
                            {"capability": "postcopy-ram", "state": post_copy}]
            session.execute("migrate-set-capabilities", capabilities=capabilities)
            host = remote.host_of(data["uri"]) if secure else ""
            session.execute("migrate-set-parameters", **{"max-bandwidth": speed or 1 << 40,
                                                           "downtime-limit": settings.downtime_ms,
                                                           "tls-creds": creds.get("tls-creds", ""),
                                                           "tls-hostname": host})
            session.execute("migrate", uri=data["uri"])
            while True:
                status = (session.execute("query-migrate") or {}).get("status")
                if status == "pre-switchover":  # vCPUs stopped: finish the disks, then switch
                    mirrors.cancel(session)
                    _append_console(guest, data)
                    session.execute("migrate-continue", state="pre-switchover")
                elif status == "postcopy-active" and not state["post_copy"]:
                    state["post_copy"] = True  # the guest runs at the destination from now on
                    if on_post_copy is not None:
                        on_post_copy()
                elif status == "completed":
                    return
                elif status in ("failed", "cancelled"):
                    error = (session.execute("query-migrate") or {}).get("error-desc", status)
                    raise LiveMigrationError(f"the migration {status}: {error}")
                if not state["post_copy"]:  # past the switch there is no going back
                    _check(signals, deadline, guest)
                _force(session, signals, was_running, state, post_copy, migrating=status == "active")
                time.sleep(POLL)
        except BaseException:
            if not state["post_copy"]:
                _undo(session, was_running)
            raise


def _secure(data: dict, settings: Settings) -> bool:
    """TLS for this move (tcp only); LiveMigrationError when the two ends disagree."""
    if data["transport"] != "tcp":
        return False
    if settings.tls and not data.get("tls"):
        raise LiveMigrationError("live migration TLS is on here but the destination does not offer it")
    if data.get("tls") and not settings.tls:
        raise LiveMigrationError("the destination wants live migration TLS but it is off here")
    return settings.tls


def _force(session: QMPSession, signals: Signals, was_running: bool, state: dict, post_copy: bool,
           migrating: bool) -> None:
    """Force-complete asked: with post-copy, lift the disks' limits and switch to post-copy
    once the memory copy runs (the mirrors are ready by then), as Nova's libvirt driver;
    else pause the guest (nothing is dirtied again) and lift the bandwidth limits, so the
    copy ends as soon as it can."""
    if not signals.force.is_set() or state["forced"]:
        return
    if post_copy:
        for job in mirrors.jobs(session):
            session.execute("block-job-set-speed", device=job["device"], speed=0)
        if migrating:
            session.execute("migrate-start-postcopy")
            state["forced"] = True
        return
    if was_running and session.execute("query-status")["status"] == "running":
        session.execute("stop")
    session.execute("migrate-set-parameters", **{"max-bandwidth": 1 << 40})
    for job in mirrors.jobs(session):
        session.execute("block-job-set-speed", device=job["device"], speed=0)
    state["forced"] = True


def _check(signals: Signals, deadline: float, guest: Guest) -> None:
    if signals.abort.is_set():
        raise MigrationCancelled(uuid=guest.uuid)
    if time.monotonic() > deadline:
        raise LiveMigrationError("the migration did not finish in time")


def _undo(session: QMPSession, was_running: bool) -> None:
    """Back to where the guest was: no migration, no mirror, running if it ran."""
    for command, args in (("migrate_cancel", {}),):
        try:
            session.execute(command, **args)
        except QMPError:
            pass
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            status = (session.execute("query-migrate") or {}).get("status")
        except QMPError:
            break
        if status in (None, "cancelled", "failed", "completed"):
            break
        time.sleep(0.05)
    try:
        mirrors.cancel(session)
        if was_running and session.execute("query-status")["status"] != "running":
            session.execute("cont")
    except QMPError:
        pass
    try:  # a later suspend (a migration to a file) must not try TLS or post-copy
        session.execute("migrate-set-capabilities", capabilities=[{"capability": "postcopy-ram", "state": False}])
        session.execute("migrate-set-parameters", **{"tls-creds": "", "tls-hostname": ""})
        tls.drop_creds(session)
    except QMPError:
        pass


def _append_console(guest: Guest, data: dict) -> None:
    """The console log so far, at the head of the destination's (empty until it runs)."""
    target = data.get("console")
    if not target:
        return
    try:
        with open(guest.paths.console, "rb") as source, open(target, "ab") as handle:
            while chunk := source.read(1 << 20):
                handle.write(chunk)
    except OSError:
        pass  # a log is not worth failing the move for
