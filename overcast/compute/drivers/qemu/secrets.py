"""Keys of encrypted (LUKS) volumes, handed to QEMU the way libvirt does it.

Each instance has a *master key*: 32 random bytes in ``master-key.aes`` (0600) in its
directory, given to QEMU as ``-object secret,id=masterkey0,format=raw,file=...``. A
volume's passphrase (from the volume service, through the compute agent) is sealed with
it at once (AES-256-CBC, PKCS#7 padding, a random IV), and only the sealed form is kept in
spec.json and put on the command line or in QMP (``secret`` objects with ``keyid`` and
``iv``), so the passphrase is neither in ``/proc/<pid>/cmdline`` nor in QMP traffic. QEMU
opens the volume with ``encrypt.key-secret`` naming that object.

A guest moved to another host's directory on the same machine (or a shared filesystem)
takes its master key along (``adopt``), so the sealed keys in its spec still open; between
machines the key is not sent (it would cross the bus in clear), and the move of a guest
with an encrypted volume fails before anything starts there.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

MASTER_ID = "masterkey0"
MASTER_FILE = "master-key.aes"


def master_path(instance_dir: Path) -> Path:
    return Path(instance_dir) / MASTER_FILE


def ensure_master(instance_dir: Path) -> bytes:
    path = master_path(instance_dir)
    if not path.exists():
        fd = os.open(path.with_suffix(".tmp"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(os.urandom(32))
        os.replace(path.with_suffix(".tmp"), path)
    return path.read_bytes()


def seal(instance_dir: Path, connection_info: dict) -> dict:
    """The connection info with its plaintext ``encryption.passphrase`` (if any) replaced
    by the passphrase sealed with the instance's master key."""
    data = dict(connection_info.get("data") or {})
    found = data.get("encryption") or {}
    if "passphrase" not in found:
        return connection_info
    iv = os.urandom(16)
    padder = padding.PKCS7(128).padder()
    plain = padder.update(found["passphrase"].encode()) + padder.finalize()
    encryptor = Cipher(algorithms.AES(ensure_master(instance_dir)), modes.CBC(iv)).encryptor()
    sealed = encryptor.update(plain) + encryptor.finalize()
    data["encryption"] = {"format": "luks", "secret": base64.b64encode(sealed).decode(),
                          "iv": base64.b64encode(iv).decode()}
    return {**connection_info, "data": data}


def adopt(instance_dir: Path, block_devices: list[dict], source_dir: str | None, local: bool) -> None:
    """Destination of a move: the source's master key (``source_dir`` is its instance
    directory) for ``block_devices`` sealed with it; ValueError when it cannot be had."""
    if not any(sealed(entry) for entry in block_devices):
        return
    found = master_path(Path(source_dir)) if source_dir and local else None
    if found is None or not found.is_file():
        raise ValueError("an encrypted volume's key cannot move to another machine (its master key stays with the "
                         "source)")
    fd = os.open(master_path(instance_dir), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(found.read_bytes())


def sealed(entry: dict) -> dict | None:
    return ((entry.get("connection_info") or {}).get("data") or {}).get("encryption") or None


def secret_id(node: str) -> str:
    return f"sec-{node}"


def master_object(instance_dir: Path) -> dict:
    return {"qom-type": "secret", "id": MASTER_ID, "format": "raw", "file": str(master_path(instance_dir))}


def volume_object(entry: dict, node: str) -> dict | None:
    found = sealed(entry)
    if not found:
        return None
    return {"qom-type": "secret", "id": secret_id(node), "data": found["secret"], "keyid": MASTER_ID,
            "iv": found["iv"], "format": "base64"}


def object_arg(obj: dict) -> list[str]:
    rest = ",".join(f"{key}={value}" for key, value in obj.items() if key != "qom-type")
    return ["-object", f"{obj['qom-type']},{rest}"]
