"""qemu-img arguments for LUKS-encrypted qcow2 volumes, with the passphrase in a file.

An encrypted volume is a qcow2 file with ``encrypt.format=luks``: the data clusters are
ciphertext, the qcow2 metadata (sizes, allocation) is not. The passphrase reaches
qemu-img as a ``secret`` object read from a 0600 file in the driver's private directory
(removed as soon as the command ends), never on a command line.

An :class:`Encryption` says how: the cipher and key size of the volume type
(``aes-xts-plain64`` with ``key_size`` 256 is AES-128 in XTS mode, as cryptsetup reads
it) and the passphrase (os-brick's: the key in hex).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

SECRET_ID = "sec0"
SOURCE_SECRET_ID = "sec1"  # a copy's source when it opens with another passphrase (a re-keyed clone)
# the passphrase is a random 256-bit key, so key stretching adds nothing: keep opening fast
ITER_TIME_MS = 100


@dataclass(frozen=True)
class Encryption:
    passphrase: bytes = field(repr=False)
    cipher: str = "aes-xts-plain64"
    key_size: int = 256

    def create_options(self, container: bool = False) -> str:
        """``-o`` options of a new encrypted qcow2 (cipher as the volume type names it), or
        with ``container`` of a raw LUKS container (``-O luks``, what Cinder uploads)."""
        name, _, rest = self.cipher.partition("-")
        mode, _, ivgen = rest.partition("-")
        bits = self.key_size // 2 if mode == "xts" else self.key_size
        options = [f"key-secret={SECRET_ID}", f"iter-time={ITER_TIME_MS}"]
        if name == "aes" and bits in (128, 192, 256):
            options.append(f"cipher-alg=aes-{bits}")
        if mode in ("xts", "cbc", "ecb", "ctr"):
            options.append(f"cipher-mode={mode}")
        if ivgen in ("plain", "plain64", "essiv"):
            options.append(f"ivgen-alg={ivgen}")
        if container:
            return ",".join(options)
        return ",".join(["encrypt.format=luks", *(f"encrypt.{option}" for option in options)])


@contextlib.contextmanager
def secret_object(directory: Path, encryption: Encryption | None, secret_id: str = SECRET_ID):
    """``["--object", "secret,..."]`` naming a 0600 file holding the passphrase (removed
    on exit), or ``[]`` without encryption."""
    if encryption is None:
        yield []
        return
    fd, path = tempfile.mkstemp(prefix=".tmp-secret-", dir=directory)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, encryption.passphrase)
        os.close(fd)
        yield ["--object", f"secret,id={secret_id},file={path},format=raw"]
    finally:
        os.unlink(path)


def open_args(path: Path, fmt: str, encryption: Encryption | None, secret_id: str = SECRET_ID) -> list[str]:
    """How qemu-img opens an existing volume file: ``-f fmt path`` or image options (an
    encrypted qcow2, or with ``fmt`` "luks" a raw LUKS container)."""
    if encryption is None:
        return ["-f", fmt, str(path)]
    escaped = str(path).replace(",", ",,")
    if fmt == "luks":
        return ["--image-opts", f"driver=luks,file.filename={escaped},key-secret={secret_id}"]
    return ["--image-opts", f"driver=qcow2,file.filename={escaped},encrypt.key-secret={secret_id}"]
