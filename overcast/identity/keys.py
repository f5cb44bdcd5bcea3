"""Fernet key repositories (tokens and credentials), with Keystone's rotation scheme.

Keys are files named by integers in a directory of the data dir. ``0`` is the staged
key (already accepted, not yet used to encrypt); the highest number is the primary
(encrypts new tokens); the rest only decrypt. Rotation promotes the staged key to
primary, stages a fresh key, and drops the oldest beyond ``max_active_keys``. Key files
are written 0600 and never logged. A running server notices a rotation made by another
process (``overcast manage rotate-keys``) within ``RECHECK`` seconds.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

RECHECK = 5.0  # seconds between looks at the key directory for a rotation


class KeyRepository:
    def __init__(self, directory: Path, max_active_keys: int = 3):
        self.directory = Path(directory)
        self.max_active_keys = max_active_keys
        self._fernet: MultiFernet | None = None
        self._stamp: list[int] | None = None
        self._checked = 0.0

    def _indexes(self) -> list[int]:
        if not self.directory.exists():
            return []
        return sorted(int(p.name) for p in self.directory.iterdir() if p.name.isdigit())

    def _write(self, index: int) -> None:
        path = self.directory / str(index)
        temporary = path.with_suffix(".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(Fernet.generate_key())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)

    def setup(self) -> None:
        """Create the directory with a staged and a primary key unless keys exist."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        indexes = self._indexes()
        if 0 not in indexes:
            self._write(0)
        if len(self._indexes()) < 2:
            self._write(1)
        self._fernet = None

    def rotate(self) -> None:
        """Promote the staged key, stage a new one, prune the oldest past the limit."""
        self.setup()
        indexes = self._indexes()
        new_primary = indexes[-1] + 1
        os.replace(self.directory / "0", self.directory / str(new_primary))
        self._write(0)
        secondaries = [i for i in self._indexes() if i not in (0, new_primary)]
        excess = len(secondaries) + 2 - self.max_active_keys
        for index in secondaries[: max(excess, 0)]:
            (self.directory / str(index)).unlink()
        self._fernet = None

    def _rotated(self) -> bool:
        """True when the directory changed since the keys were read (checked now and then)."""
        now = time.monotonic()
        if now - self._checked < RECHECK:
            return False
        self._checked = now
        return self._indexes() != self._stamp  # a rotation always adds a new highest index

    def fernet(self) -> MultiFernet:
        """Primary first, then the others from newest to oldest, then the staged key."""
        if self._fernet is None or self._rotated():
            indexes = self._stamp = self._indexes()
            if not indexes:
                raise RuntimeError(f"no keys in {self.directory}; run setup first")
            order = [i for i in reversed(indexes) if i != 0] + [0]
            keys = [Fernet((self.directory / str(i)).read_bytes().strip()) for i in order]
            self._fernet = MultiFernet(keys)
        return self._fernet

    def encrypt(self, data: bytes) -> str:
        return self.fernet().encrypt(data).decode()

    def decrypt(self, token: str, ttl: int | None = None) -> bytes | None:
        """Plaintext, or None when no key opens it (or it is older than ``ttl`` seconds)."""
        try:
            return self.fernet().decrypt(token.encode(), ttl=ttl)
        except (InvalidToken, ValueError, TypeError):
            return None

    def reload(self) -> None:
        self._fernet = None
