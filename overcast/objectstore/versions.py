"""Object versioning, Swift's newer API (``X-Versions-Enabled``), in the object index.

A container that has had versioning enabled has an *archive*: a hidden container in the
same account named ``ARCHIVE_PREFIX`` + the container's id (no client can name it:
container names cannot hold "/"), kept in the container's metadata under ``ARCHIVE``,
and ``ENABLED`` ("True" or "False"). Account listings do not show archives.

Every version of an object is one index row: the current version is the object's row in
the container, the others are rows in the archive under the same name (their unique key
is sha1(name NUL version id), so one name has many). Swift writes each version into its
hidden container and a static link in the container; here an upload moves the row it
replaces into the archive in the same transaction that indexes the new one, so no byte is
copied, a failed upload changes nothing, and reads of the current version cost what they
cost in any container.

A version id is the upload's time as Swift prints its timestamps (``%016.5f``), kept in the
row's metadata under ``VERSION_ID`` (never shown as a header). An object written while
versioning was off has none: its version id is "null"; when a later upload or delete with
versioning on moves it into the archive it gets its own time as its id, as Swift does. A
delete marker is a zero-byte archive row with content type ``DELETE_MARKER``.

With versioning disabled (``X-Versions-Enabled: false``) the archive stays: uploads write
null versions, a replaced or deleted null version is gone, a replaced or deleted versioned
row still moves to the archive (in Swift its data was there all along), and the
``?version-id`` calls keep working.
"""

from __future__ import annotations

import hashlib
import threading
import time

from sqlalchemy import bindparam, delete, insert, select, update

from overcast.objectstore import errors
from overcast.objectstore.listing import Listing, page
from overcast.objectstore.models import SwiftContainer, SwiftObject

ARCHIVE = "x-container-sysmeta-versions-container"
ENABLED = "x-versions-enabled"
VERSION_ID = "x-object-sysmeta-version-id"
ARCHIVE_PREFIX = "/versions/"
DELETE_MARKER = "application/x-deleted;swift_versions_deleted=1"
NULL = "null"

_objects, _containers = SwiftObject.__table__, SwiftContainer.__table__


def archive_name(meta: dict | None) -> str | None:
    """The archive of a container with this metadata (None: never versioned)."""
    return (meta or {}).get(ARCHIVE)


def enabled(meta: dict | None) -> bool:
    return (meta or {}).get(ENABLED) == "True"


def version_key(name: str, version: str) -> str:
    return hashlib.sha1(f"{name}\x00{version}".encode("utf-8", "surrogateescape")).hexdigest()


def stamp_text(stamp: float) -> str:
    return f"{stamp:016.5f}"


def current_version(row) -> str:
    """The version id of a container's row ("null": written while versioning was off)."""
    return (row.meta or {}).get(VERSION_ID) or NULL


def archived_version(row) -> str:
    """The version id of an archive row."""
    return (row.meta or {}).get(VERSION_ID) or stamp_text(row.last_modified)


def check_version(version: str) -> str:
    """A ``version-id`` parameter: "null" or a timestamp; 400 otherwise."""
    if version == NULL:
        return version
    try:
        stamp = float(version)
    except ValueError:
        raise errors.SwiftBadRequest("Invalid version parameter") from None
    if not 0 <= stamp < 10 ** 10:
        raise errors.SwiftBadRequest("Invalid version parameter")
    return stamp_text(stamp)


class VersionClock:
    """Version ids of one process, strictly increasing (two uploads of one name in the
    same 10 microseconds still get two ids)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._last = 0.0

    def next(self) -> float:
        with self._lock:
            stamp = max(round(time.time(), 5), round(self._last + 0.00001, 5))
            self._last = stamp
            return stamp


def archive_id(connection, account: str, meta: dict | None) -> int | None:
    """The id of the archive of a container with metadata ``meta``, if it has one."""
    name = archive_name(meta)
    if name is None:
        return None
    return connection.execute(_ARCHIVE_ID, {"account": account, "name": name}).scalar()


def move_to_archive(connection, row, archive: int, stamp: float) -> None:
    """Move the container row ``row`` (needs id, name, meta, last_modified, size,
    container_id) into the archive under its version id; counters follow. ``stamp``: the
    time of the upload or delete that moves it."""
    meta = dict(row.meta or {})
    if VERSION_ID not in meta:  # a null version gets its time as its id; never newer than what replaces it
        # (MariaDB keeps last_modified as a 4-byte FLOAT, off by up to a minute)
        meta[VERSION_ID] = stamp_text(min(row.last_modified, round(stamp - 0.00001, 5)))
    connection.execute(_MOVE, {"old": row.id, "box": archive, "key": version_key(row.name, meta[VERSION_ID]),
                               "meta": meta})
    _count(connection, row.container_id, -1, -row.size, stamp)
    _count(connection, archive, 1, row.size, stamp)


def add_marker(connection, archive: int, name: str, stamp: float) -> str:
    """A delete marker for ``name`` in the archive; returns its version id."""
    version = stamp_text(stamp)
    connection.execute(insert(_objects), {
        "container_id": archive, "name": name, "name_hash": version_key(name, version), "size": 0,
        "etag": hashlib.md5(b"").hexdigest(), "content_type": DELETE_MARKER, "last_modified": stamp,
        "meta": {VERSION_ID: version}, "location": None, "delete_at": None, "manifest": None,
        "static_manifest": False, "segments": 0})
    _count(connection, archive, 1, 0, stamp)
    return version


def find_archived(connection, archive: int, name: str, version: str):
    return connection.execute(_VERSION, {"box": archive, "key": version_key(name, version)}).first()


def drop(connection, row, stamp: float) -> str | None:
    """Remove ``row`` from the index; returns the blob to remove after the commit."""
    connection.execute(delete(_objects).where(_objects.c.id == row.id))
    _count(connection, row.container_id, -1, -row.size, stamp)
    return row.location


def restore(connection, container_id: int, archived, stamp: float) -> None:
    """The archive row ``archived`` becomes the container's current row (keeping its id)."""
    key = hashlib.sha1(archived.name.encode("utf-8", "surrogateescape")).hexdigest()
    connection.execute(_MOVE, {"old": archived.id, "box": container_id, "key": key, "meta": archived.meta})
    _count(connection, archived.container_id, -1, -archived.size, stamp)
    _count(connection, container_id, 1, archived.size, stamp)


def rows_named(connection, boxes: tuple[int, int], names: list[str]) -> list:
    """Every row of ``names`` in the container and its archive."""
    found = []
    for start in range(0, len(names), 500):
        found += connection.execute(select(_objects).where(_objects.c.container_id.in_(boxes),
                                                           _objects.c.name.in_(names[start:start + 500])))
    return found


def order(rows: list, container_id: int) -> list:
    """One name's rows as Swift lists its versions: a null current version first, then the
    others newest first; each row paired with (version id, is latest)."""
    current = [row for row in rows if row.container_id == container_id]
    archived = sorted((row for row in rows if row.container_id != container_id),
                      key=lambda row: float(archived_version(row)), reverse=True)
    listed = []
    for row in current:
        if current_version(row) == NULL:
            listed.append((row, NULL, True))
    versions = [(row, current_version(row), True) for row in current if current_version(row) != NULL]
    versions += [(row, archived_version(row), False) for row in archived]
    versions.sort(key=lambda item: float(item[1]), reverse=True)
    if not current and versions and versions[0][0].content_type == DELETE_MARKER:
        versions[0] = (versions[0][0], versions[0][1], True)
    return listed + versions


def _count(connection, box: int, count: int, size: int, stamp: float) -> None:
    connection.execute(_COUNT, {"box": box, "count": count, "bytes": size, "stamp": stamp})


_ARCHIVE_ID = select(_containers.c.id).where(_containers.c.account == bindparam("account"),
                                             _containers.c.name == bindparam("name"))
_MOVE = (update(_objects).where(_objects.c.id == bindparam("old"))
         .values(container_id=bindparam("box"), name_hash=bindparam("key"), meta=bindparam("meta")))
_VERSION = select(_objects).where(_objects.c.container_id == bindparam("box"),
                                  _objects.c.name_hash == bindparam("key"))
_COUNT = (update(_containers).where(_containers.c.id == bindparam("box"))
          .values(object_count=_containers.c.object_count + bindparam("count"),
                  bytes_used=_containers.c.bytes_used + bindparam("bytes"), updated_at=bindparam("stamp")))


class ObjectVersions:
    """The versioning calls of ObjectStoreService (``service.versions``); blocking, call
    them from worker threads. Uploads and deletes in a versioned container go through the
    service's own ``put_object``/``delete_object``, which move rows as the module says."""

    def __init__(self, service):
        self.service = service
        self.clock = VersionClock()

    def configure(self, account: str, name: str, on: bool) -> None:
        """``X-Versions-Enabled`` on an existing container: the archive is made the first
        time versioning is enabled; 400 for a container with legacy versioning."""
        service = self.service
        with service._writing, service.db.session() as session:
            row = service.container(account, name, session)
            meta = dict(row.meta or {})
            if meta.get("x-versions-location") or meta.get("x-history-location"):
                raise errors.SwiftBadRequest("Cannot enable object versioning on a container that is already "
                                             "using the legacy versioned writes feature.")
            if on and ARCHIVE not in meta:
                archive = ARCHIVE_PREFIX + str(row.id)
                if session.scalars(select(SwiftContainer).where(SwiftContainer.account == account,
                                                                SwiftContainer.name == archive)).first() is None:
                    stamp = time.time()
                    session.add(SwiftContainer(account=account, name=archive, meta={}, created_at=stamp,
                                               updated_at=stamp))
                meta[ARCHIVE] = archive
            meta[ENABLED] = "True" if on else "False"
            row.meta = meta

    def archive(self, container: SwiftContainer) -> SwiftContainer | None:
        name = archive_name(container.meta)
        if name is None:
            return None
        try:
            return self.service.container(container.account, name)
        except errors.SwiftNotFound:
            return None

    def _current(self, connection, container: SwiftContainer, name: str):
        key = hashlib.sha1(name.encode("utf-8", "surrogateescape")).hexdigest()
        row = connection.execute(_VERSION, {"box": container.id, "key": key}).first()
        if row is not None and row.delete_at is not None and row.delete_at <= time.time():
            return None
        return row

    def _archive_id(self, connection, container: SwiftContainer) -> int:
        archive = archive_id(connection, container.account, container.meta)
        if archive is None:
            raise errors.SwiftBadRequest("version-aware operations require that the container is versioned")
        return archive

    def get(self, container: SwiftContainer, name: str, version: str) -> SwiftObject:
        """The object's version ``version`` ("null": the current object when it has no id);
        404 when there is none, and for a delete marker (with its headers, as Swift)."""
        with self.service.db.engine.connect() as connection:
            current = self._current(connection, container, name)
            if current is not None and current_version(current) == version:
                return SwiftObject(**current._mapping)
            if version == NULL:
                raise errors.SwiftNotFound()
            row = find_archived(connection, self._archive_id(connection, container), name, version)
        if row is None:
            raise errors.SwiftNotFound()
        if row.content_type == DELETE_MARKER:
            error = errors.SwiftNotFound()
            error.headers.update({"X-Object-Version-Id": version, "Content-Type": DELETE_MARKER})
            raise error
        return SwiftObject(**row._mapping)

    def delete(self, container: SwiftContainer, name: str, version: str) -> str:
        """Delete one version for good (no delete marker); returns the version id of the
        object's current version afterwards. "null" deletes the current object as in a
        container without versioning (a current version with an id goes to the archive)."""
        service, gone = self.service, None
        with service._writing, service.db.session() as session:
            connection = session.connection()
            current = self._current(connection, container, name)
            stamp = self.clock.next()
            if version == NULL:
                if current is None:
                    raise errors.SwiftNotFound()
                if current_version(current) == NULL:
                    gone = drop(connection, current, stamp)
                else:
                    move_to_archive(connection, current, self._archive_id(connection, container), stamp)
                left = NULL
            elif current is not None and current_version(current) == version:
                gone, left = drop(connection, current, stamp), NULL
            else:
                row = find_archived(connection, self._archive_id(connection, container), name, version)
                left = current_version(current) if current is not None else NULL
                if row is None:
                    error = errors.SwiftNotFound()
                    error.headers.update({"X-Object-Version-Id": version, "X-Object-Current-Version-Id": left})
                    raise error
                gone = drop(connection, row, stamp)
        if gone:
            service.blobs.delete(gone)
        return left

    def restore(self, container: SwiftContainer, name: str, version: str) -> SwiftObject:
        """``PUT ?version-id``: the archived version becomes the current object (a current
        version with an id goes to the archive, a null one is replaced, as in Swift)."""
        service, gone = self.service, None
        with service._writing, service.db.session() as session:
            connection = session.connection()
            archive = self._archive_id(connection, container)
            current = self._current(connection, container, name)
            if current is not None and current_version(current) == version:
                return SwiftObject(**current._mapping)
            row = find_archived(connection, archive, name, version)
            if row is None or row.content_type == DELETE_MARKER:
                raise errors.SwiftNotFound("The specified version does not exist")
            stamp = self.clock.next()
            if current is not None:
                if current_version(current) == NULL:
                    gone = drop(connection, current, stamp)
                else:
                    move_to_archive(connection, current, archive, stamp)
            restore(connection, container.id, row, stamp)
            restored = connection.execute(_VERSION, {"box": container.id, "key": hashlib.sha1(
                name.encode("utf-8", "surrogateescape")).hexdigest()}).first()
        if gone:
            service.blobs.delete(gone)
        return SwiftObject(**restored._mapping)

    def listing(self, container: SwiftContainer, listing, version_marker: str | None) -> list:
        """One page of ``?versions``: subdir names and (row, version id, is latest) in
        Swift's order (by name; a null version first, then newest first)."""
        service = self.service
        archive = self.archive(container)
        boxes = (container.id, archive.id if archive is not None else container.id)
        service.sweep(container)
        names = page(service.db, SwiftObject, SwiftObject.container_id.in_(boxes),
                     Listing(limit=listing.limit, marker=listing.marker, end_marker=listing.end_marker,
                             prefix=listing.prefix, delimiter=listing.delimiter, reverse=listing.reverse))
        wanted = [item if isinstance(item, str) else item.name for item in names]
        objects = [name for name, item in zip(wanted, names) if not isinstance(item, str)]
        if version_marker is not None and listing.marker:
            objects.insert(0, listing.marker)
        with service.db.engine.connect() as connection:
            rows = rows_named(connection, boxes, sorted(set(objects)))
        by_name: dict[str, list] = {}
        for row in rows:
            if row.delete_at is None or row.delete_at > time.time():
                by_name.setdefault(row.name, []).append(row)
        items: list = []
        if version_marker is not None and listing.marker:
            ordered = order(by_name.get(listing.marker, []), container.id)
            ids = [version for _, version, _ in ordered]
            if version_marker in ids:
                ordered = ordered[ids.index(version_marker) + 1:]
            elif version_marker != NULL:
                ordered = [item for item in ordered if item[1] != NULL and float(item[1]) < float(version_marker)]
            items += _reversed(ordered, listing.reverse)
        seen = set()
        for name, item in zip(wanted, names):
            if isinstance(item, str):
                items.append(item)
            elif name not in seen:
                seen.add(name)
                items += _reversed(order(by_name.get(name, []), container.id), listing.reverse)
        return items[:listing.limit]

    def archived_bytes(self, container: SwiftContainer) -> int:
        archive = self.archive(container)
        return archive.bytes_used if archive is not None else 0


def _reversed(ordered: list, reverse: bool) -> list:
    """A name's versions in a reversed listing: the null version first, then oldest first."""
    if not reverse:
        return ordered
    nulls = [item for item in ordered if item[1] == NULL]
    return nulls + [item for item in ordered if item[1] != NULL][::-1]
