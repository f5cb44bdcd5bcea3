"""ObjectStoreService: accounts, containers and objects; the index in SQL, the bytes in
the blob store (the image service's file store, in DATA_DIR/objects).

An object PUT streams into a new blob (temp file, fsync, rename), then one transaction
points the index row at it and moves the container's counters; the blob it replaced is
removed after the commit. So a crash or a client hanging up mid-PUT never shows a partial
object, and readers see the old object or the new one, never a mix.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
import uuid
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update

from overcast.common.config import Config
from overcast.common.db import Database
from overcast.image.drivers.file import FilesystemImageStore
from overcast.image.drivers.memory import MemoryImageStore
from overcast.image.errors import ImageTooLarge
from overcast.image.upload import receive, stream
from overcast.objectstore import errors
from overcast.objectstore.models import SwiftAccount, SwiftContainer, SwiftObject

MAX_OBJECT_SIZE = 5 * 1024 ** 3  # Swift's max_file_size
RESELLER_ROLE = "ResellerAdmin"
REAP_INTERVAL = 30.0  # seconds between rounds of the expired-object reaper
log = logging.getLogger("overcast.objectstore")
MAX_LISTING = 10000


@dataclass
class Listing:
    limit: int = MAX_LISTING
    marker: str = ""
    end_marker: str = ""
    prefix: str = ""
    delimiter: str = ""
    reverse: bool = False


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
                      else FilesystemImageStore(config.data_path, subdir="objects"))

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

    async def stop(self) -> None:
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
                select(func.count(), func.coalesce(func.sum(SwiftContainer.object_count), 0),
                       func.coalesce(func.sum(SwiftContainer.bytes_used), 0))
                .where(SwiftContainer.account == account)).one()
        return {"containers": count, "objects": int(objects), "bytes": int(used),
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
        return self._list(SwiftContainer, SwiftContainer.account == account, listing)

    # -- containers -------------------------------------------------------------------

    def container(self, account: str, name: str, session=None) -> SwiftContainer:
        query = select(SwiftContainer).where(SwiftContainer.account == account, SwiftContainer.name == name)
        row = self.db.first(query, session)
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
            row.meta = merged(row.meta, meta)
            for key, value in acls.items():
                setattr(row, key, value or None)

    def delete_container(self, account: str, name: str) -> None:
        with self.db.session() as session:
            row = self.container(account, name, session)
            gone = self._reap(session, row.id)
            if session.scalar(select(func.count()).select_from(SwiftObject)
                              .where(SwiftObject.container_id == row.id)):
                raise errors.SwiftConflict("There was a conflict when trying to complete your request.")
            session.delete(row)
        self._forget(gone)

    def list_objects(self, container: SwiftContainer, listing: Listing) -> list:
        with self.db.session() as session:
            gone = self._reap(session, container.id)
        self._forget(gone)
        return self._list(SwiftObject, SwiftObject.container_id == container.id, listing)

    def _list(self, model, scope, listing: Listing) -> list:
        """One page of ``model`` rows (or subdir names, with a delimiter), in byte order."""
        column = model.name
        found: list = []
        marker, end = listing.marker, listing.end_marker
        with self.db.session() as session:
            while len(found) < listing.limit:
                query = select(model).where(scope)
                if listing.prefix:
                    query = query.where(column >= listing.prefix, column < listing.prefix + "\U0010ffff")
                if listing.reverse:
                    query = query.where(column < marker) if marker else query
                    query = query.where(column > end) if end else query
                    query = query.order_by(column.desc())
                else:
                    query = query.where(column > marker) if marker else query
                    query = query.where(column < end) if end else query
                    query = query.order_by(column)
                if model is SwiftObject:
                    query = query.where((SwiftObject.delete_at.is_(None)) | (SwiftObject.delete_at > time.time()))
                rows = list(session.scalars(query.limit(listing.limit - len(found))))
                if not rows:
                    break
                if not listing.delimiter:
                    found.extend(rows)
                    break
                for row in rows:
                    rest = row.name[len(listing.prefix):]
                    cut = rest.find(listing.delimiter)
                    if cut < 0:
                        found.append(row)
                        marker = row.name
                        continue
                    subdir = listing.prefix + rest[:cut + len(listing.delimiter)]
                    found.append(subdir)
                    # skip the rest of this subdir
                    marker = subdir if listing.reverse else subdir + "\U0010ffff"
                    break
                else:
                    continue
                if len(found) >= listing.limit:
                    break
        return found[:listing.limit]

    # -- objects -------------------------------------------------------------------------

    def _reap(self, session, container_id: int) -> list[str]:
        """Expired objects (X-Delete-At passed) leave the index and the counters; returns
        the blobs to remove once the transaction committed."""
        expired = session.scalars(select(SwiftObject).where(SwiftObject.container_id == container_id,
                                                            SwiftObject.delete_at <= time.time())).all()
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
        with self.db.session() as session:
            box = self.container(account, container_name, session)
            row = session.scalars(select(SwiftObject).where(SwiftObject.container_id == box.id,
                                                            SwiftObject.name_hash == name_hash(name))).first()
            if row is not None and row.delete_at is not None and row.delete_at <= time.time():
                row = None
            return box, row

    def get_object(self, container: SwiftContainer, name: str) -> SwiftObject:
        with self.db.session() as session:
            row = session.scalars(select(SwiftObject).where(SwiftObject.container_id == container.id,
                                                            SwiftObject.name_hash == name_hash(name))).first()
            if row is None or (row.delete_at is not None and row.delete_at <= time.time()):
                raise errors.SwiftNotFound()
            return row

    async def put_object(self, container: SwiftContainer, name: str, chunks, size: int | None,
                         fields: dict, expected_etag: str | None = None) -> SwiftObject:
        """Store the body, then index it; 422 (and nothing stored) on an ETag mismatch, 413
        when the container's or account's quota would be passed."""
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

    def room(self, container: SwiftContainer) -> int | None:
        """Bytes one more object may have under the container and account quotas (None:
        no limit); 413 when the container's object-count quota is already reached."""
        with self.db.session() as session:
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
               fields: dict) -> SwiftObject:
        replaced = []
        with self.db.session() as session:
            if session.get(SwiftContainer, container.id) is None:  # deleted while the body arrived
                raise errors.SwiftNotFound()
            old = session.scalars(select(SwiftObject).where(SwiftObject.container_id == container.id,
                                                            SwiftObject.name_hash == name_hash(name))).first()
            stamp = now()
            row = SwiftObject(container_id=container.id, name=name, name_hash=name_hash(name), size=size, etag=etag,
                              location=location, last_modified=stamp, **fields)
            count_change, bytes_change = 1, size
            if old is not None:
                count_change, bytes_change = 0, size - old.size
                if old.location:
                    replaced.append(old.location)
                session.delete(old)
                session.flush()
            session.add(row)
            session.execute(update(SwiftContainer).where(SwiftContainer.id == container.id)
                            .values(object_count=SwiftContainer.object_count + count_change,
                                    bytes_used=SwiftContainer.bytes_used + bytes_change, updated_at=stamp))
        for location in replaced:
            self.blobs.delete(location)
        return row

    def delete_object(self, container: SwiftContainer, name: str) -> SwiftObject:
        with self.db.session() as session:
            row = session.scalars(select(SwiftObject).where(SwiftObject.container_id == container.id,
                                                            SwiftObject.name_hash == name_hash(name))).first()
            if row is None or (row.delete_at is not None and row.delete_at <= time.time()):
                raise errors.SwiftNotFound()
            location = self._drop(session, row)
        self._forget([location] if location else [])
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
