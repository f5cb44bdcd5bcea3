"""Moves between two machines: which transport a move takes, and files pulled from the
other host.

Transport. Each host has ``migration_transport`` (``auto``, ``local`` or ``tcp``) and a
machine id (``/etc/machine-id`` and the device of its state directory: two hosts in
network namespaces of one machine share both, and can hand files over by path and meet
on unix sockets). The receiving end decides, from its own setting and what the sending
end put in the migrate data: ``tcp`` when either end says ``tcp`` or the machine ids
differ (unless one end says ``local``), else ``local``.

Pulling files (cold migration over ``tcp``). The source states each file's size and
SHA-256 in the migrate data (its guest is stopped, so they do not change); the
destination reads them in pieces through ``PeerReader`` (the agent's: a bus call to the
source agent, ``read_migration_file``, as image downloads go through the conductor),
writes them under a temporary name, checks size and digest, then renames. Nothing is
held whole in memory; a failure removes the partial file (and the caller removes the
instance directory).
"""

from __future__ import annotations

import hashlib
import os
import socket
from pathlib import Path
from typing import Callable

PIECE = 4 << 20
#: ``reader(host, uuid, name, offset, length) -> bytes``: a piece of the file ``name``
#: (``disk``, ``eph0``, ``console``) of instance ``uuid`` on compute host ``host``
PeerReader = Callable[[str, str, str, int, int], bytes]
TRANSPORTS = ("auto", "local", "tcp")


class TransferError(Exception):
    pass


def machine_id(state_dir: Path) -> str:
    """This machine and filesystem: the machine id and the state directory's device."""
    for path in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        try:
            ident = Path(path).read_text().strip()
        except OSError:
            continue
        if ident:
            break
    else:
        ident = socket.gethostname()
    try:
        device = os.stat(state_dir).st_dev
    except OSError:
        device = 0
    return f"{ident}:{device}"


def decide(mine: str, theirs: str | None, same_machine: bool) -> str:
    """The transport of one move (see above); ``theirs`` None: an older peer (local)."""
    theirs = theirs or "local"
    if "tcp" in (mine, theirs):
        return "tcp"
    if "local" in (mine, theirs) or same_machine:
        return "local"
    return "tcp"


def offer(state_dir: Path, host: str, preference: str) -> dict:
    """What the sending end adds to migrate data so the other end can decide."""
    return {"host": host, "machine": machine_id(state_dir), "preference": preference}


def file_sums(paths: dict[str, Path]) -> dict[str, dict]:
    """name -> {size, sha256} of each file (read once, in pieces)."""
    sums = {}
    for name, path in paths.items():
        digest, size = hashlib.sha256(), 0
        with open(path, "rb") as handle:
            while chunk := handle.read(PIECE):
                digest.update(chunk)
                size += len(chunk)
        sums[name] = {"size": size, "sha256": digest.hexdigest()}
    return sums


def pull(reader: PeerReader, host: str, uuid: str, name: str, expected: dict, target: Path) -> None:
    """Copy ``name`` of ``uuid`` from ``host`` into ``target`` and check it against
    ``expected`` ({size, sha256}); TransferError otherwise (no partial file left)."""
    part = target.with_name(target.name + ".part")
    digest, offset, size = hashlib.sha256(), 0, int(expected["size"])
    try:
        with open(part, "wb") as handle:
            while offset < size:
                piece = reader(host, uuid, name, offset, min(PIECE, size - offset))
                if not piece:
                    raise TransferError(f"{name} of {uuid} on {host} ended at {offset} of {size} bytes")
                handle.write(piece)
                digest.update(piece)
                offset += len(piece)
            handle.flush()
            os.fsync(handle.fileno())
        if offset != size or (expected.get("sha256") and digest.hexdigest() != expected["sha256"]):
            raise TransferError(f"{name} of {uuid} from {host} does not match its checksum")
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)


def append_from(reader: PeerReader, host: str, uuid: str, name: str, offset: int, target: Path) -> int:
    """Append what ``name`` of ``uuid`` on ``host`` holds from ``offset`` on (a log that
    may still grow, so no checksum) to ``target``; returns the offset reached."""
    with open(target, "ab") as handle:
        while piece := reader(host, uuid, name, offset, PIECE):
            handle.write(piece)
            offset += len(piece)
            if len(piece) < PIECE:
                break
    return offset


def read_piece(path: Path, offset: int, length: int) -> bytes:
    """Source side: ``length`` bytes (at most PIECE) of ``path`` from ``offset``."""
    with open(path, "rb") as handle:
        handle.seek(max(0, offset))
        return handle.read(max(0, min(length, PIECE)))


def listen_address(ip: str, port: int) -> str:
    """``ip:port`` with IPv6 addresses in brackets, as QEMU's URIs take them."""
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def split_address(address: str) -> tuple[str, str]:
    """``ip:port`` (IPv6 in brackets) as (ip, port): ``listen_address`` undone."""
    host, _, port = address.rpartition(":")
    return host.strip("[]"), port


def host_of(uri: str) -> str:
    """The address of a ``tcp:ip:port`` migration URI."""
    return split_address(uri.partition(":")[2])[0]
