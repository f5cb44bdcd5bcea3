"""Legacy object versioning, as Swift's versioned_writes middleware keeps it.

A container with ``X-Versions-Location: <archive>`` (stack mode) or
``X-History-Location: <archive>`` (history mode) keeps the object an upload replaces (a PUT,
a COPY, an ``X-Copy-From``, a manifest) as ``<archive>/<len(name):03x><name>/<timestamp>``,
the timestamp being the replaced version's ``X-Timestamp``; the archive container must exist
(412 otherwise). On DELETE:

- stack mode pops: the newest archived version is copied back over the object and leaves
  the archive; with no archived version the object is simply deleted;
- history mode pushes: the current version goes to the archive, then a zero-byte delete
  marker (``application/x-deleted;swift_versions_deleted=1``) named with the time of the
  delete, then the object is deleted.

A POST only changes metadata and makes no version. Only one of the two headers may be set
on a container (400 for both); an empty value or ``X-Remove-Versions-Location`` /
``X-Remove-History-Location`` turns versioning off.
"""

from __future__ import annotations

import asyncio
from urllib.parse import unquote

from overcast.objectstore import errors
from overcast.objectstore.service import Listing, now

DELETE_MARKER = "application/x-deleted;swift_versions_deleted=1"
VERSIONS, HISTORY = "x-versions-location", "x-history-location"
REMOVALS = ("x-remove-versions-location", "x-remove-history-location")


def info() -> dict:
    """The ``versioned_writes`` entry of /info."""
    return {"allowed_flags": [VERSIONS, HISTORY]}


def container_flags(headers) -> dict[str, str | None]:
    """The container metadata a PUT or POST sets (a value) or removes (None) for versioning."""
    versions, history = headers.get(VERSIONS), headers.get(HISTORY)
    if versions is not None and history is not None:
        if not history:
            history = None  # defer to the versions location
        elif versions:
            raise errors.SwiftBadRequest(f"Only one of {VERSIONS} or {HISTORY} may be specified")
        else:
            versions = None
    if versions is not None or history is not None:
        key, value = (VERSIONS, versions) if versions is not None else (HISTORY, history)
        if not value:
            return {VERSIONS: None, HISTORY: None}
        if "/" in value:
            raise errors.PreconditionFailed("Container name cannot contain slashes")
        return {key: value, (HISTORY if key == VERSIONS else VERSIONS): None}
    if any(headers.get(header) for header in REMOVALS):
        return {VERSIONS: None, HISTORY: None}
    return {}


def archive_of(container) -> tuple[str, str] | None:
    """(archive container name, "stack" or "history") of a versioned container, else None."""
    meta = container.meta or {}
    for key, mode in ((VERSIONS, "stack"), (HISTORY, "history")):
        if meta.get(key):
            return unquote(meta[key]).split("/")[0], mode
    return None


def version_prefix(name: str) -> str:
    return f"{len(name.encode('utf-8', 'surrogateescape')):03x}{name}/"


def version_name(name: str, stamp: float) -> str:
    return f"{version_prefix(name)}{stamp:016.5f}"


def _fields(row) -> dict:
    return {"content_type": row.content_type, "meta": dict(row.meta or {}), "delete_at": row.delete_at,
            "manifest": row.manifest, "static_manifest": row.static_manifest, "segments": row.segments}


async def _find(service, container, name: str):
    try:
        return await asyncio.to_thread(service.get_object, container, name)
    except errors.SwiftNotFound:
        return None


async def _archive_box(service, container, archive: str):
    try:
        return await asyncio.to_thread(service.container, container.account, archive)
    except errors.SwiftNotFound:
        raise errors.PreconditionFailed() from None  # Swift: the archive PUT failed


async def _copy(service, row, container, name: str):
    return await service.put_object(container, name, await service.open(row), row.size, _fields(row))


async def keep_current(service, container, name: str) -> None:
    """Before an upload to ``container/name``: the version it replaces goes to the archive."""
    found = archive_of(container)
    if found is not None:
        await _keep(service, container, name, found[0])


async def _keep(service, container, name: str, archive: str) -> None:
    row = await _find(service, container, name)
    if row is None:
        return
    box = await _archive_box(service, container, archive)
    await _copy(service, row, box, version_name(name, row.last_modified))


async def delete(service, container, name: str) -> bool:
    """DELETE of ``container/name`` in a versioned container: True when done here, False when
    the caller still deletes the object itself."""
    found = archive_of(container)
    if found is None:
        return False
    archive, mode = found
    if mode == "history":
        await _keep(service, container, name, archive)
        box = await _archive_box(service, container, archive)

        async def nothing():
            yield b""

        await service.put_object(box, version_name(name, now()), nothing(), 0,
                                 {"content_type": DELETE_MARKER, "meta": {}, "delete_at": None})
        return False
    return await _pop(service, container, name, archive)


async def _pop(service, container, name: str, archive: str) -> bool:
    try:
        box = await asyncio.to_thread(service.container, container.account, archive)
    except errors.SwiftNotFound:
        return False
    listing = Listing(prefix=version_prefix(name), reverse=True)
    versions = iter([row for row in await asyncio.to_thread(service.list_objects, box, listing)
                     if not isinstance(row, str)])
    for previous in versions:
        if previous.content_type == DELETE_MARKER:
            if await _find(service, container, name) is not None:
                return False  # an object came after the delete: back to the delete-marker state
            for older in versions:  # the marker is current: bring back what came before it
                if older.content_type == DELETE_MARKER:
                    break
                if await _restore(service, box, older, container, name):
                    await _forget(service, box, older.name)
                    break
            await asyncio.to_thread(service.delete_object, box, previous.name)
            return True
        if await _restore(service, box, previous, container, name):
            await asyncio.to_thread(service.delete_object, box, previous.name)
            return True
    return False


async def _restore(service, box, version, container, name: str) -> bool:
    row = await _find(service, box, version.name)
    if row is None:
        return False  # gone meanwhile: try the one before
    await _copy(service, row, container, name)
    return True


async def _forget(service, box, name: str) -> None:
    try:
        await asyncio.to_thread(service.delete_object, box, name)
    except errors.SwiftNotFound:
        pass  # it existed long enough to be copied
