"""The key manager contract (castellan's ``KeyManager``, cut to what volumes need).

A *key* is symmetric key material (``bytes``; 256 bits for ``aes-xts-plain64`` with
``key_size`` 256) owned by one project. Keys are named by a UUID, the volume's
``encryption_key_id``. The LUKS passphrase of a volume is the key in lowercase hex, as
os-brick derives it, so a volume's data opens with the key wherever it is.

Keys are never logged, never put in an error message and never returned by the API.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from overcast.common.errors import Forbidden, NotFound


# the image properties naming an encrypted volume's upload's key and when the image
# service deletes it (Glance deletes it with the image for "on_image_deletion")
IMAGE_KEY = "cinder_encryption_key_id"
IMAGE_KEY_POLICY = "cinder_encryption_key_deletion_policy"
ON_IMAGE_DELETION = "on_image_deletion"


class KeyNotFound(NotFound):
    def __init__(self, key_id: str):
        super().__init__(f"Key {key_id} could not be found.")


class KeyForbidden(Forbidden):
    def __init__(self, key_id: str):
        super().__init__(f"Key {key_id} belongs to another project.")


class KeyManager(ABC):
    @abstractmethod
    def create_key(self, ctx, algorithm: str = "AES", length: int = 256) -> str:
        """A fresh random key of ``length`` bits for ``ctx.project_id``; its id. Fast."""

    @abstractmethod
    def store(self, ctx, material: bytes, algorithm: str = "AES") -> str:
        """Keep ``material`` as a new key of ``ctx.project_id``; its id (a copy, as
        castellan's ``store`` of a key read with ``get``). Fast."""

    @abstractmethod
    def get(self, ctx, key_id: str) -> bytes:
        """The key material. KeyNotFound when there is no such key; KeyForbidden when it
        belongs to another project (admins read every key). Fast."""

    @abstractmethod
    def delete(self, ctx, key_id: str) -> None:
        """Remove the key. KeyNotFound when it is gone, KeyForbidden as ``get``. Fast."""

    def copy(self, ctx, key_id: str) -> str:
        """A new key holding the same material (Cinder's ``clone_encryption_key``)."""
        return self.store(ctx, self.get(ctx, key_id))


def passphrase(key: bytes) -> bytes:
    """The LUKS passphrase of a volume encrypted with ``key`` (os-brick's: hex)."""
    return key.hex().encode()
