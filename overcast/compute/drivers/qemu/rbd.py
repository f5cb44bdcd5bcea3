"""Ceph RBD volumes (``driver_volume_type: "rbd"``) opened by QEMU's own rbd block driver.

The connection info is Cinder's: ``data.name`` is ``pool/image``, ``hosts`` and ``ports``
the monitors, ``auth_username`` the Ceph user. It never holds the key: this host reads it
from its own keyring, the file ``data.keyring_path`` names if this host has it, else Ceph's
default keyrings (``/etc/ceph/<cluster>.client.<user>.keyring``, ``<cluster>.keyring``,
``keyring``). QEMU gets the key as a secret object and the block node names the object
(``key-secret``), so the key is never on QEMU's command line nor in spec.json:

- on a command line, ``-object secret,id=sec-<tag>,file=<instance dir>/sec-<tag>.key``, a
  file only its owner may read, written before each start and removed once QEMU has
  started (it reads secrets before it daemonizes);
- hot-plugged, QMP ``object-add`` (over the guest's private monitor socket) before
  ``blockdev-add``, and ``object-del`` after ``blockdev-del``.

Nothing is copied for a move: every host opens the same image (shared storage).
"""

from __future__ import annotations

from pathlib import Path

ETC = Path("/etc/ceph")


class MissingKey(ValueError):
    """No key for the volume's user on this host (the message says where it looked)."""


def is_rbd(connection_info: dict) -> bool:
    return (connection_info or {}).get("driver_volume_type") == "rbd"


def _data(connection_info: dict) -> dict:
    data = connection_info.get("data") or {}
    name = str(data.get("name") or "")
    pool, _, image = name.partition("/")
    if not pool or not image or "@" in image:
        raise ValueError(f"rbd volume name {name!r} is not pool/image")
    if len(data.get("hosts") or []) != len(data.get("ports") or []) or not data.get("hosts"):
        raise ValueError("rbd connection info names no monitors")
    return data


def keyrings(data: dict) -> list[Path]:
    """Where this host looks for the key, in order."""
    cluster, user = data.get("cluster_name") or "ceph", data.get("auth_username") or "admin"
    found = [Path(data["keyring_path"])] if data.get("keyring_path") else []
    return found + [ETC / f"{cluster}.client.{user}.keyring", ETC / f"{cluster}.keyring", ETC / "keyring"]


def read_key(path: Path, user: str) -> str | None:
    """The base64 key of ``client.<user>`` in a Ceph keyring file, or None."""
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return None
    section = None
    for line in lines:
        line = line.strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
        elif section == f"client.{user}" and line.partition("=")[0].strip() == "key":
            return line.partition("=")[2].strip() or None
    return None


def find_key(connection_info: dict) -> str:
    data = _data(connection_info)
    if not data.get("auth_enabled", True):
        return ""
    user = data.get("auth_username") or "admin"
    places = keyrings(data)
    for path in places:
        key = read_key(path, user)
        if key:
            return key
    raise MissingKey(f"no key for client.{user} on this host (looked in {', '.join(map(str, places))})")


def check(connection_info: dict) -> None:
    """Raise ValueError or MissingKey if this host cannot open the volume."""
    find_key(connection_info)


def block_node(connection_info: dict, node: str, sid: str | None) -> dict:
    """The ``blockdev-add`` options: raw over rbd, the key named by the secret object."""
    data = _data(connection_info)
    pool, _, image = data["name"].partition("/")
    rbd = {"driver": "rbd", "pool": pool, "image": image,
           "server": [{"host": str(h), "port": str(p)} for h, p in zip(data["hosts"], data["ports"])]}
    if data.get("auth_enabled", True):
        rbd.update({"user": data.get("auth_username") or "admin", "auth-client-required": ["cephx"]})
        if sid:
            rbd["key-secret"] = sid
    else:
        rbd["auth-client-required"] = ["none"]
    node_options = {"driver": "raw", "node-name": node, "file": rbd}
    if data.get("discard", True):
        node_options["discard"] = "unmap"
    if data.get("access_mode") == "ro":
        node_options["read-only"] = True
    return node_options
