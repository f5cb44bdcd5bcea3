"""Keys of encrypted volumes, behind a small interface shaped like castellan's (the key
manager interface Cinder and Nova use): ``create_key``, ``store``, ``get``, ``delete``,
each with a request context. Barbican's API is not offered; the ``local`` manager keeps
keys in the database, sealed with the identity service's credential keys."""

from overcast.volume.key_manager.base import KeyManager, KeyNotFound
from overcast.volume.key_manager.local import LocalKeyManager

__all__ = ["KeyManager", "KeyNotFound", "LocalKeyManager"]
