"""LocalKeyManager: keys in the ``volume_keys`` table, sealed at rest with the identity
service's credential keys (``DATA_DIR/keys/credential``, Fernet, rotated with
``overcast manage rotate-keys``), as credential blobs are. A copy of the database alone
does not give the keys away; the key directory is needed too."""

from __future__ import annotations

import os
import uuid

from sqlalchemy import select

from overcast.common.db import utcnow
from overcast.identity.keys import KeyRepository
from overcast.volume.key_manager.base import KeyForbidden, KeyManager, KeyNotFound
from overcast.volume.key_manager.models import VolumeKey


class LocalKeyManager(KeyManager):
    def __init__(self, db, keys: KeyRepository):
        self.db = db
        self.keys = keys

    @classmethod
    def for_config(cls, config, db) -> "LocalKeyManager":
        """The manager sealing with this cloud's credential keys (made when missing)."""
        keys = KeyRepository(config.data_path / "keys" / "credential", config.identity.max_active_keys)
        keys.setup()
        return cls(db, keys)

    def create_key(self, ctx, algorithm: str = "AES", length: int = 256) -> str:
        if length % 8 or not 128 <= length <= 512:
            raise ValueError(f"key length {length} is not a whole number of bytes between 128 and 512 bits")
        return self.store(ctx, os.urandom(length // 8), algorithm)

    def store(self, ctx, material: bytes, algorithm: str = "AES") -> str:
        key_id = str(uuid.uuid4())
        with self.db.session() as session:
            session.add(VolumeKey(id=key_id, project_id=ctx.project_id, algorithm=algorithm,
                                  bit_length=len(material) * 8, sealed=self.keys.encrypt(material),
                                  created_at=utcnow()))
        return key_id

    def _row(self, ctx, key_id: str, session) -> VolumeKey:
        row = session.get(VolumeKey, key_id)
        if row is None:
            raise KeyNotFound(key_id)
        if not ctx.is_admin and row.project_id != ctx.project_id:
            raise KeyForbidden(key_id)
        return row

    def get(self, ctx, key_id: str) -> bytes:
        with self.db.session() as session:
            sealed = self._row(ctx, key_id, session).sealed
        material = self.keys.decrypt(sealed)
        if material is None:
            raise KeyNotFound(key_id)  # sealed with a key rotated out long ago
        return material

    def delete(self, ctx, key_id: str) -> None:
        with self.db.session() as session:
            session.delete(self._row(ctx, key_id, session))

    def ids(self) -> list[str]:
        """Every key id (for tests and audits; never the material)."""
        with self.db.session() as session:
            return list(session.scalars(select(VolumeKey.id)))
