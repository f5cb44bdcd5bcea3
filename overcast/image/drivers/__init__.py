"""Pick an image store by short alias (``[image] store = "file"``) or dotted path.

Modules are imported only when their store is chosen; nothing registers at import.
Built-in and third-party stores go through the same table (:data:`STORES`), and a
dotted path (``"package.module:Class"``) names any other ImageStore subclass.
"""

from __future__ import annotations

import re
from pathlib import Path

from overcast.common.plugins import resolve

from .base import ImageStore, StoreWriter

#: alias -> "module:class"
STORES: dict[str, str] = {
    "file": "overcast.image.drivers.file:FilesystemImageStore",
    "memory": "overcast.image.drivers.memory:MemoryImageStore",
}

_IMAGE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}")


class UnknownImageStore(ValueError):
    """The configuration names a store that is neither an alias nor an importable class."""


def resolve_store(name: str) -> type[ImageStore]:
    """The ImageStore class for an alias (``"file"``) or a ``"module:Class"`` /
    ``"module.Class"`` path. Raises UnknownImageStore, suggesting the closest alias."""
    return resolve("image store", name, STORES, ImageStore, UnknownImageStore)


def make_store(name: str, data_dir: Path, **options) -> ImageStore:
    """Build the store ``name`` keeping its data under ``data_dir`` (the file store uses
    ``<data_dir>/images/``, the memory store ignores it). ``options`` go to the store's
    constructor (e.g. ``fail_commit=True`` for the memory store). Raises UnknownImageStore
    (a ValueError) for an unknown alias; the file store creates its directory here."""
    return resolve_store(name)(Path(data_dir), **options)


def check_image_id(image_id: str) -> str:
    """``image_id`` if it is safe to use in a file name (see the contract); else ValueError."""
    if not isinstance(image_id, str) or not _IMAGE_ID.fullmatch(image_id):
        raise ValueError(f"not a valid image id for a store: {image_id!r}")
    return image_id


__all__ = ["STORES", "ImageStore", "StoreWriter", "UnknownImageStore", "check_image_id", "make_store",
           "resolve_store"]
