"""ObjectStoreService: accounts, containers and objects; the index in SQL, the bytes in
the blob store (the image service's file store, in DATA_DIR/objects).

An object PUT streams into a new blob (temp file, fsync, rename), then one transaction
points the index row at it and moves the container's counters; the blob it replaced is
removed after the commit. So a crash or a client hanging up mid-PUT never shows a partial
object, and readers see the old object or the new one, never a mix.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import threading
import time
import uuid

from sqlalchemy import bindparam, case, delete, func, insert, select, update

from overcast.common.config import Config
from overcast.common.db import Database
from overcast.image.drivers.file import FilesystemImageStore
from overcast.image.drivers.memory import MemoryImageStore
from overcast.image.errors import ImageSizeMismatch, ImageTooLarge
from overcast.image.upload import receive, stream
from overcast.objectstore import errors, sync, sync_realms, versions
from overcast.objectstore.listing import MAX_LISTING, Listing, page  # noqa: F401  (Listing, MAX_LISTING: the API's names)
from overcast.objectstore.models import SwiftAccount, SwiftContainer, SwiftObject

MAX_OBJECT_SIZE = 5 * 1024 ** 3  # Swift's max_file_size
RESELLER_ROLE = "ResellerAdmin"
REAP_INTERVAL = 30.0  # seconds between rounds of the expired-object reaper
log = logging.getLogger("overcast.objectstore")
SMALL_BODY = 64 * 1024  # sized uploads up to this are read into memory and stored in one thread hop


def now() -> float:
    return round(time.time(), 5)


def merged(current: dict | None, changes: dict[str, str | None]) -> dict:
    """Metadata after a POST: a value sets its header, an empty one or None removes it."""
    result = dict(current or {})
    for key, value in changes.items():
        if value:
            result[key] = value
        else:
            result.pop(key, None)
    return result


def name_hash(name: str) -> str:
    return hashlib.sha1(name.encode("utf-8", "surrogateescape")).hexdigest()


class ObjectStoreService:
    def __init__(self, config: Config, db: Database, identity=None):
        self.config = config
        self.db = db
        self.identity = identity
        self.blobs = (MemoryImageStore() if config.objectstore.store == "memory"
                      else FilesystemImageStore(config.data_path, subdir="objects", direct_io=False))
        # SQLite has one writer at a time, and a connection that finds the database locked
        # sleeps in growing steps (up to 100 ms) before it retries: this process's object
        # index writes take turns on a lock instead, which costs them nothing
        self._writing = threading.Lock() if db.engine.dialect.name == "sqlite" else contextlib.nullcontext()
        self.versions = versions.ObjectVersions(self)
        settings = config.objectstore
        self.realms = sync_realms.SyncRealms(settings.sync_realms, settings.sync_allow_full_urls,
                                             settings.sync_allowed_hosts, settings.sync_current)
        self.syncer = sync.ContainerSyncer(self, self.realms, settings.sync_interval)

    def start(self) -> None:
        """Remove temp files a crash left behind (uploads that never committed)."""
        sweep = getattr(self.blobs, "sweep", None)
        if sweep is not None:
            sweep(older_than=0)
        if self.identity is not None and self.identity.roles.find_by_name(RESELLER_ROLE) is None:
            self.identity.roles.create({"name": RESELLER_ROLE})  # may set account quotas, reach any account

    async def serve(self) -> None:
        """Reap expired objects in the background (GETs and listings already hide them)."""
        self._reaper = asyncio.create_task(self._reap_forever())
        await self.syncer.serve()

    async def stop(self) -> None:
        await self.syncer.stop()
        self._reaper.cancel()
        await asyncio.gather(self._reaper, return_exceptions=True)

    async def _reap_forever(self) -> None:
        while True:
            await asyncio.sleep(REAP_INTERVAL)
            try:
                await asyncio.to_thread(self.reap_expired)
            except Exception:  # the database may be restarting; the next round tries again
                log.warning("reaping expired objects failed", exc_info=True)

    def reap_expired(self, batch: int = 1000) -> int:
        """Delete objects whose X-Delete-At has passed (via the delete_at index); how many."""
        with self.db.session() as session:
            rows = session.scalars(select(SwiftObject).where(SwiftObject.delete_at <= time.time())
                                   .order_by(SwiftObject.delete_at).limit(batch)).all()
            gone = [location for row in rows if (location := self._drop(session, row))]
        self._forget(gone)
        return len(rows)

    # -- accounts -------------------------------------------------------------------

    def account(self, account: str) -> dict:
        with self.db.session() as session:
            row = session.get(SwiftAccount, account)
            count, objects, used = session.execute(
                select(func.coalesce(func.sum(case((_SHOWN, 1), else_=0)), 0),
                       func.coalesce(func.sum(case((_SHOWN, SwiftContainer.object_count), else_=0)), 0),
                       func.coalesce(func.sum(SwiftContainer.bytes_used), 0))
                .where(SwiftContainer.account == account)).one()
        return {"containers": int(count), "objects": int(objects), "bytes": int(used),
                "meta": dict(row.meta) if row else {}, "created": row.created_at if row else now()}

    def update_account(self, account: str, meta: dict[str, str | None]) -> None:
        """Set (value) or remove (None or "") account metadata headers."""
        with self.db.session() as session:
            row = session.get(SwiftAccount, account)
            if row is None:
                row = SwiftAccount(account=account, meta={}, created_at=now())
                session.add(row)
            row.meta = merged(row.meta, meta)

    def list_containers(self, account: str, listing: Listing) -> list:
        return page(self.db, SwiftContainer, (SwiftContainer.account == account) & _SHOWN, listing)

    # -- containers -------------------------------------------------------------------

    def container(self, account: str, name: str, session=None) -> SwiftContainer:
        """The container's row: attached to ``session`` when given (to change it), else a
        detached copy read with one prepared statement (every object request reads one)."""
        if session is not None:
            row = session.scalars(select(SwiftContainer).where(SwiftContainer.account == account,
                                                               SwiftContainer.name == name)).first()
        else:
            with self.db.engine.connect() as connection:
                found = connection.execute(_CONTAINER, {"account": account, "name": name}).first()
            row = SwiftContainer(**found._mapping) if found is not None else None
        if row is None:
            raise errors.SwiftNotFound()
        return row

    def put_container(self, account: str, name: str, meta: dict, acls: dict) -> bool:
        """Create the container (True) or update its metadata and ACLs (False)."""
        with self.db.session() as session:
            row = session.scalars(select(SwiftContainer).where(SwiftContainer.account == account,
                                                               SwiftContainer.name == name)).first()
            if row is None:
                stamp = now()
                session.add(SwiftContainer(account=account, name=name, meta={k: v for k, v in meta.items() if v},
                                           created_at=stamp, updated_at=stamp, **acls))
                return True
        self.update_container(account, name, meta, acls)
        return False

    def update_container(self, account: str, name: str, meta: dict, acls: dict) -> None:
        with self.db.session() as session:
            row = self.container(account, name, session)
            target = (row.meta or {}).get(sync.SYNC_TO)
            row.meta = merged(row.meta, meta)
            if row.meta.get(sync.SYNC_TO) and row.meta.get(sync.SYNC_TO) != target:
                sync.log_existing(session.connection(), row.id)  # a new target gets everything
            for key, value in acls.items():
                setattr(row, key, value or None)

    def delete_container(self, account: str, name: str) -> None:
        with self.db.session() as session:
            row = self.container(account, name, session)
            gone = self._reap(session, row.id)
            if session.scalar(select(func.count()).select_from(SwiftObject)
                              .where(SwiftObject.container_id == row.id)):
                raise errors.SwiftConflict("There was a conflict when trying to complete your request.")
            archive = versions.archive_name(row.meta)
            if archive is not None:  # its versions go first, then the archive goes with it
                box = session.scalars(select(SwiftContainer).where(SwiftContainer.account == account,
                                                                   SwiftContainer.name == archive)).first()
                if box is not None and session.scalar(select(func.count()).select_from(SwiftObject)
                                                      .where(SwiftObject.container_id == box.id)):
                    raise errors.SwiftConflict("Delete all versions before deleting container.")
                if box is not None:
                    session.delete(box)
            session.delete(row)
        self._forget(gone)

    def list_objects(self, container: SwiftContainer, listing: Listing) -> list:
        self.sweep(container)
        return page(self.db, SwiftObject, SwiftObject.container_id == container.id, listing)

    def sweep(self, container: SwiftContainer) -> None:
        """The container's expired objects leave the index and its counters (a HEAD's
        counts and a listing never show them)."""
        with self.db.session() as session:
            gone = self._reap(session, container.id)
        self._forget(gone)

    # -- objects -------------------------------------------------------------------------

    def _reap(self, session, container_id: int) -> list[str]:
        """Expired objects (X-Delete-At passed) leave the index and the counters; returns
        the blobs to remove once the transaction committed."""
        # "+ 0": read along the delete_at index (few rows), never the container's whole
        # (container, name) index, which SQLite would otherwise pick for the equality
        expired = session.scalars(select(SwiftObject).where(SwiftObject.delete_at <= time.time(),
                                                            SwiftObject.container_id + 0 == container_id)).all()
        return [location for row in expired if (location := self._drop(session, row))]

    def _drop(self, session, row: SwiftObject) -> str | None:
        session.delete(row)
        session.execute(update(SwiftContainer).where(SwiftContainer.id == row.container_id)
                        .values(object_count=SwiftContainer.object_count - 1,
                                bytes_used=SwiftContainer.bytes_used - row.size, updated_at=now()))
        return row.location

    def _forget(self, locations: list[str]) -> None:
        for location in locations:
            self.blobs.delete(location)

    def locate(self, account: str, container_name: str, name: str) -> tuple[SwiftContainer, SwiftObject | None]:
        """The container (404 if missing) and the live object in it (None), in one trip."""
        with self.db.engine.connect() as connection:
            found = connection.execute(_CONTAINER, {"account": account, "name": container_name}).first()
            if found is None:
                raise errors.SwiftNotFound()
            row = connection.execute(_OBJECT, {"box": found.id, "key": name_hash(name)}).first()
        box = SwiftContainer(**found._mapping)
        if row is None or (row.delete_at is not None and row.delete_at <= time.time()):
            return box, None
        return box, SwiftObject(**row._mapping)

    def fetch(self, account: str, container_name: str, name: str, read_up_to: int = 0):
        """``locate``, and the bytes of an object with data no bigger than ``read_up_to``
        (else None), in one call: a small GET costs one worker thread hop."""
        box, row = self.locate(account, container_name, name)
        data = self.read_all(row) if row is not None and row.location and row.size <= read_up_to else None
        return box, row, data

    def get_object(self, container: SwiftContainer, name: str) -> SwiftObject:
        with self.db.engine.connect() as connection:
            row = connection.execute(_OBJECT, {"box": container.id, "key": name_hash(name)}).first()
        if row is None or (row.delete_at is not None and row.delete_at <= time.time()):
            raise errors.SwiftNotFound()
        return SwiftObject(**row._mapping)

    async def put_object(self, container: SwiftContainer, name: str, chunks, size: int | None,
                         fields: dict, expected_etag: str | None = None) -> SwiftObject:
        """Store the body, then index it; 422 (and nothing stored) on an ETag mismatch, 413
        when the container's or account's quota would be passed."""
        if size is not None and size <= SMALL_BODY:
            data = await _read_small(chunks, size)
            return await asyncio.to_thread(self._put_small, container, name, data, fields, expected_etag)
        room = await asyncio.to_thread(self.room, container)
        if room is not None and size is not None and size > room:
            raise errors.EntityTooLarge("Upload exceeds quota.")
        writer = self.blobs.writer(uuid.uuid4().hex)
        try:
            result = await receive(chunks, writer, min(MAX_OBJECT_SIZE, room) if room is not None else MAX_OBJECT_SIZE,
                                   size, sha512=False)
        except ImageTooLarge:
            raise errors.EntityTooLarge() from None
        if expected_etag and expected_etag.strip('"').lower() != result.checksum:
            self.blobs.delete(result.location)
            raise errors.Unprocessable()
        try:
            return await asyncio.to_thread(self._index, container, name, result.size, result.checksum,
                                           result.location, fields)
        except BaseException:
            self.blobs.delete(result.location)
            raise

    def _put_small(self, container: SwiftContainer, name: str, data: bytes, fields: dict,
                   expected_etag: str | None) -> SwiftObject:
        """A small body already in memory: hash, write (temp file, fsync, rename, fsync of
        the directory) and index it in one worker thread. The quotas are checked in the
        index's transaction, so the blob of a refused upload is removed again."""
        etag = hashlib.md5(data).hexdigest()
        if expected_etag and expected_etag.strip('"').lower() != etag:
            raise errors.Unprocessable()
        writer = self.blobs.writer(uuid.uuid4().hex)
        try:
            if data:
                writer.write(data)
            location = writer.commit()
        except BaseException:
            writer.abort()
            raise
        try:
            return self._index(container, name, len(data), etag, location, fields, check_quota=True)
        except BaseException:
            self.blobs.delete(location)
            raise

    def room(self, container: SwiftContainer, session=None) -> int | None:
        """Bytes one more object may have under the container and account quotas (None:
        no limit); 413 when the container's object-count quota is already reached. Reads in
        ``session`` when given (the index write's own transaction)."""
        with (contextlib.nullcontext(session) if session is not None else self.db.session()) as session:
            box = session.get(SwiftContainer, container.id)
            if box is None:
                raise errors.SwiftNotFound()
            meta = box.meta or {}
            limits = []
            count = meta.get("x-container-meta-quota-count")
            if count is not None and count.isdigit() and box.object_count + 1 > int(count):
                raise errors.EntityTooLarge("Upload exceeds quota.")
            quota = meta.get("x-container-meta-quota-bytes")
            if quota is not None and quota.isdigit():
                limits.append(int(quota) - box.bytes_used)
            account = session.get(SwiftAccount, box.account)
            account_meta = (account.meta or {}) if account else {}
        quota, count = account_meta.get("x-account-meta-quota-bytes"), account_meta.get("x-account-meta-quota-count")
        if quota is not None or count is not None:
            used = self.account(box.account)
            if count is not None and count.isdigit() and used["objects"] + 1 > int(count):
                raise errors.EntityTooLarge("Upload exceeds quota.")
            if quota is not None and quota.isdigit():
                limits.append(int(quota) - used["bytes"])
        return max(min(limits), 0) if limits else None

    def _index(self, container: SwiftContainer, name: str, size: int, etag: str, location: str | None,
               fields: dict, check_quota: bool = False) -> SwiftObject:
        """Point the index at a stored blob in one transaction: the container (404 if it went
        while the body arrived), its account's and its quotas (``check_quota``) and the object
        replaced are read in one query; the old row goes, the new one comes, the counters
        move. Plain Core statements: this runs for every upload. The replaced blob is removed
        after the commit. ``fields`` with a ``last_modified`` is an upload container sync sent
        with the object's own X-Timestamp: refused (``OlderThanCurrent``) when the object, or
        its deletion, is as new or newer."""
        key = name_hash(name)
        stamp = now()
        values = {"container_id": container.id, "name": name, "name_hash": key, "size": size, "etag": etag,
                  "location": location, "last_modified": stamp, **fields}
        if versions.VERSION_ID in (values.get("meta") or {}):  # a copy of a version is a new object
            values["meta"] = {k: v for k, v in values["meta"].items() if k != versions.VERSION_ID}
        gone = None
        with self._writing, self.db.session() as session:
            connection = session.connection()
            found = connection.execute(_LOOKUP, {"box": container.id, "key": key}).first()
            if found is None:
                raise errors.SwiftNotFound()
            if "last_modified" in fields and (
                    (found.id is not None and found.last_modified >= fields["last_modified"])
                    or (sync.logs_deletions(found.meta)
                        and sync.deleted_since(connection, container.id, key, fields["last_modified"]))):
                raise errors.OlderThanCurrent()
            if check_quota and _has_quota(found.meta, found.account_meta):
                room = self.room(container, session)
                if room is not None and size > room:
                    raise errors.EntityTooLarge("Upload exceeds quota.")
            archive = versions.archive_id(connection, container.account, found.meta)
            if archive is not None and versions.enabled(found.meta):
                stamp = self.versions.clock.next()
                values.update(last_modified=stamp, meta={**(values.get("meta") or {}),
                                                         versions.VERSION_ID: versions.stamp_text(stamp)})
            count_change, bytes_change = 1, size
            if found.id is not None:
                count_change, bytes_change = 0, size - found.size
                replaced = SwiftObject(id=found.id, name=name, meta=found.object_meta, size=found.size,
                                       last_modified=found.last_modified, container_id=container.id)
                if archive is not None and (versions.enabled(found.meta)
                                            or versions.current_version(replaced) != versions.NULL):
                    versions.move_to_archive(connection, replaced, archive, stamp)
                    count_change, bytes_change = 1, size
                else:
                    connection.execute(_DROP, {"old": found.id})
                    gone = found.location
            inserted = connection.execute(_ADD, values)
            connection.execute(_COUNT, {"box": container.id, "count": count_change, "bytes": bytes_change,
                                        "stamp": stamp})
            if sync.logs_uploads(found.meta):
                sync.record(connection, container.id, name, key, values["last_modified"], deleted=False)
        if gone:
            self.blobs.delete(gone)
        row = SwiftObject(**values)
        row.id = inserted.inserted_primary_key[0]
        return row

    def delete_object(self, container: SwiftContainer, name: str, stamp: float | None = None) -> SwiftObject:
        """Delete the object (404 when there is none). ``stamp``: a deletion container sync
        sent with its X-Timestamp, refused (409) when the object is as new or newer; it is
        kept as a tombstone even when there was nothing to delete."""
        marker = None
        with self._writing, self.db.session() as session:
            row = session.scalars(select(SwiftObject).where(SwiftObject.container_id == container.id,
                                                            SwiftObject.name_hash == name_hash(name))).first()
            if row is not None and row.delete_at is not None and row.delete_at <= time.time():
                row = None
            connection = session.connection()
            if stamp is not None and row is not None and row.last_modified >= stamp:
                raise errors.SwiftConflict()
            archive = versions.archive_id(connection, container.account, container.meta)
            if archive is None and (row is not None or stamp is not None) and sync.logs_deletions(container.meta):
                sync.record(connection, container.id, name, name_hash(name), stamp or now(), deleted=True)
            missing = archive is None and row is None
            if missing and stamp is None:
                raise errors.SwiftNotFound()
            location = None
            if archive is None and row is not None:  # (a sync's deletion of nothing keeps its tombstone)
                location = self._drop(session, row)
            else:  # a versioned container: the row goes to the archive, maybe a delete marker too
                stamp, on = self.versions.clock.next(), versions.enabled(container.meta)
                if row is not None and (on or versions.current_version(row) != versions.NULL):
                    versions.move_to_archive(connection, row, archive, stamp)
                elif row is not None:
                    location = versions.drop(connection, row, stamp)
                if on:
                    marker = versions.add_marker(connection, archive, name, stamp)
        self._forget([location] if location else [])
        if row is None:  # nothing was deleted, yet a delete marker was written (as Swift does)
            error = errors.SwiftNotFound()
            if marker:
                error.headers["X-Object-Version-Id"] = marker
            raise error
        row.deleted_version = marker
        return row

    def post_object(self, container: SwiftContainer, name: str, fields: dict) -> None:
        """Replace the object's metadata (Swift's POST semantics: what is not sent goes)."""
        with self.db.session() as session:
            row = session.scalars(select(SwiftObject).where(SwiftObject.container_id == container.id,
                                                            SwiftObject.name_hash == name_hash(name))).first()
            if row is None or (row.delete_at is not None and row.delete_at <= time.time()):
                raise errors.SwiftNotFound()
            for key, value in fields.items():
                setattr(row, key, value)

    async def open(self, row: SwiftObject, offset: int = 0, length: int | None = None):
        """An async iterator over the object's bytes (a range of them)."""
        if not row.location:
            async def nothing():
                return
                yield b""
            return nothing()
        return await stream(lambda: self.blobs.open(row.location, offset, length))

    def read_all(self, row: SwiftObject) -> bytes:
        """A small object's bytes in one blocking read (call from a worker thread)."""
        return b"".join(self.blobs.open(row.location)) if row.location else b""

    async def copy_object(self, source: SwiftObject, container: SwiftContainer, name: str,
                          fields: dict) -> SwiftObject:
        chunks = await self.open(source)
        return await self.put_object(container, name, chunks, source.size, fields)

    def purge_account(self, account: str) -> None:
        with self.db.session() as session:
            session.execute(delete(SwiftContainer).where(SwiftContainer.account == account))


# the statements of every object request, built once (each call only binds its values)
_objects, _containers, _accounts = SwiftObject.__table__, SwiftContainer.__table__, SwiftAccount.__table__
_LOOKUP = (select(_containers.c.meta, _accounts.c.meta.label("account_meta"), _objects.c.id, _objects.c.size,
                  _objects.c.location, _objects.c.meta.label("object_meta"), _objects.c.last_modified)
           .select_from(_containers
                        .outerjoin(_accounts, _accounts.c.account == _containers.c.account)
                        .outerjoin(_objects, (_objects.c.container_id == _containers.c.id)
                                   & (_objects.c.name_hash == bindparam("key"))))
           .where(_containers.c.id == bindparam("box")))
_CONTAINER = select(_containers).where(_containers.c.account == bindparam("account"),
                                       _containers.c.name == bindparam("name"))
_OBJECT = select(_objects).where(_objects.c.container_id == bindparam("box"), _objects.c.name_hash == bindparam("key"))
_DROP = delete(_objects).where(_objects.c.id == bindparam("old"))
_ADD = insert(_objects)
_COUNT = (update(_containers).where(_containers.c.id == bindparam("box"))
          .values(object_count=_containers.c.object_count + bindparam("count"),
                  bytes_used=_containers.c.bytes_used + bindparam("bytes"), updated_at=bindparam("stamp")))


# account listings and counts leave out the archives of versioned containers
_SHOWN = SwiftContainer.name.not_like(versions.ARCHIVE_PREFIX + "%")


def _has_quota(container_meta: dict | None, account_meta: dict | None) -> bool:
    """Whether a quota applies: container (bytes or count) or account meta says so."""
    return any(key.startswith(("x-container-meta-quota-", "x-account-meta-quota-"))
               for meta in (container_meta, account_meta) for key in (meta or {}))


async def _read_small(chunks, size: int) -> bytes:
    """A body of ``size`` bytes (at most SMALL_BODY) read whole; 400 when it is longer or
    shorter. A client that hangs up raises here, before anything is stored."""
    parts, total = [], 0
    async for chunk in chunks:
        total += len(chunk)
        if total > size:
            raise ImageSizeMismatch(size)
        parts.append(chunk)
    if total != size:
        raise ImageSizeMismatch(size, total)
    return b"".join(parts)
