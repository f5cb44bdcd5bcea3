"""Container sync: a container with ``X-Container-Sync-To`` and ``X-Container-Sync-Key``
sends each upload and deletion to the other container, as Swift's container-sync daemon does.

Every upload into such a container, and every deletion from a container with either
header, writes a row to its change log (``objectstore_changes``) in the same transaction.
The syncer, a background task of each object service process, goes every
``objectstore.sync_interval`` seconds through the containers with rows past their
``sync_point``. A process takes a container with a conditional UPDATE of its
``sync_lease`` (so several processes on one database never work on one container at a
time), sends its changes in order and moves the point after each:

- a deletion: ``DELETE`` of the name with the deletion's ``X-Timestamp`` (404 and 409, the
  other side has it already or something newer, count as done);
- an upload: the object as it is now (none: a later deletion follows), first a ``HEAD``
  (the other side's ``X-Timestamp`` as new or newer: nothing to send), then a ``PUT`` of its
  bytes with its ``X-Timestamp``, content type, ETag and metadata.

Requests are signed as the target says (sync_realms.py). A failed request ends the
container's round at that change; the next round starts there again. Uploads behind the
point leave the log (but the newest: ids must never be used twice); deletions stay a week
(Swift's reclaim age) as tombstones: the receiving side refuses an upload older than the
newest upload or deletion it has (202, nothing stored) and a deletion older than the
object (409).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from urllib.parse import quote

import httpx
from sqlalchemy import delete, func, insert, select, update

from overcast.objectstore import sync_realms
from overcast.objectstore.models import SwiftChange, SwiftContainer, SwiftObject

log = logging.getLogger("overcast.objectstore.sync")
SYNC_TO, SYNC_KEY = "x-container-sync-to", "x-container-sync-key"
RECLAIM_AGE = 7 * 86400  # seconds deletions are kept as tombstones
LEASE = 120.0  # seconds a process holds a container it syncs
ROUND_TIME = 60.0  # seconds one container's round may take before the next container's turn
BATCH = 100  # changes read at a time
KEPT = ("content-disposition", "content-encoding", "x-object-manifest")
_changes = SwiftChange.__table__


def logs_uploads(meta: dict | None) -> bool:
    return bool((meta or {}).get(SYNC_TO))


def logs_deletions(meta: dict | None) -> bool:
    return bool((meta or {}).get(SYNC_TO) or (meta or {}).get(SYNC_KEY))


def record(connection, container_id: int, name: str, key: str, stamp: float, deleted: bool) -> None:
    connection.execute(insert(_changes).values(container_id=container_id, name=name, name_hash=key,
                                               deleted=deleted, stamp=stamp))


def deleted_since(connection, container_id: int, key: str, stamp: float) -> bool:
    """Whether the name was deleted at ``stamp`` or later (an older upload must not return)."""
    return connection.execute(select(_changes.c.id).where(
        _changes.c.container_id == container_id, _changes.c.name_hash == key,
        _changes.c.deleted.is_(True), _changes.c.stamp >= stamp).limit(1)).first() is not None


def log_existing(connection, container_id: int) -> None:
    """A container given a new sync target sends everything it holds: one upload row per
    object (earlier uploads not yet sent leave the log; deletions stay)."""
    connection.execute(delete(_changes).where(_changes.c.container_id == container_id,
                                              _changes.c.deleted.is_(False)))
    objects = SwiftObject.__table__
    connection.execute(insert(_changes).from_select(
        ["container_id", "name", "name_hash", "deleted", "stamp"],
        select(objects.c.container_id, objects.c.name, objects.c.name_hash, False, objects.c.last_modified)
        .where(objects.c.container_id == container_id).order_by(objects.c.name)))


def x_timestamp(stamp: float) -> str:
    return f"{stamp:016.5f}"


class SyncFailed(Exception):
    """A change could not be sent; the container's round stops there."""


class ContainerSyncer:
    def __init__(self, service, realms: sync_realms.SyncRealms, interval: float):
        self.service = service
        self.db = service.db
        self.realms = realms
        self.interval = interval
        self.owner = uuid.uuid4().hex
        self._task: asyncio.Task | None = None

    async def serve(self) -> None:
        self._task = asyncio.create_task(self._forever())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _forever(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await asyncio.to_thread(self.run_once)
            except Exception:  # the database may be restarting; the next round tries again
                log.warning("container sync round failed", exc_info=True)

    def run_once(self) -> int:
        """One round over every container with changes to send; how many changes were sent."""
        with self.db.engine.begin() as connection:
            connection.execute(delete(_changes).where(_changes.c.deleted.is_(True),
                                                      _changes.c.stamp < time.time() - RECLAIM_AGE))
        sent = 0
        with self.db.engine.connect() as connection:
            # read from the (short) change log, not from every container
            pending = connection.execute(
                select(_changes.c.container_id).distinct()
                .join(SwiftContainer, SwiftContainer.id == _changes.c.container_id)
                .where(_changes.c.id > SwiftContainer.sync_point)).scalars().all()
        with httpx.Client(timeout=30.0) as client:
            for container_id in pending:
                if self._claim(container_id):
                    try:
                        sent += self._sync_container(client, container_id)
                    finally:
                        self._release(container_id)
        return sent

    def _claim(self, container_id: int) -> bool:
        now = time.time()
        with self.db.engine.begin() as connection:
            taken = connection.execute(
                update(SwiftContainer).where(SwiftContainer.id == container_id,
                                             (SwiftContainer.sync_lease.is_(None)) | (SwiftContainer.sync_lease < now))
                .values(sync_lease=now + LEASE))
        return taken.rowcount == 1

    def _release(self, container_id: int) -> None:
        with self.db.engine.begin() as connection:
            connection.execute(update(SwiftContainer).where(SwiftContainer.id == container_id).values(sync_lease=None))

    def _sync_container(self, client: httpx.Client, container_id: int) -> int:
        deadline, sent = time.monotonic() + ROUND_TIME, 0
        while time.monotonic() < deadline:
            with self.db.engine.connect() as connection:
                box = connection.execute(select(SwiftContainer).where(SwiftContainer.id == container_id)).first()
                if box is None:
                    return sent
                rows = connection.execute(select(_changes).where(
                    _changes.c.container_id == container_id, _changes.c.id > box.sync_point)
                    .order_by(_changes.c.id).limit(BATCH)).all()
            if not rows:
                break
            meta = box.meta or {}
            if not (meta.get(SYNC_TO) and meta.get(SYNC_KEY)):  # sync turned off: nothing to send
                self._advance(container_id, rows[-1].id)
                continue
            try:
                target = self.realms.target(meta[SYNC_TO])
            except Exception as error:
                log.info("container %s/%s: cannot sync to %r: %s", box.account, box.name, meta[SYNC_TO], error)
                return sent
            for change in rows:
                try:
                    sent += self._send(client, box, target, meta[SYNC_KEY], change)
                except (SyncFailed, httpx.HTTPError, OSError) as error:
                    log.info("container %s/%s: syncing %r to %s failed: %s", box.account, box.name, change.name,
                             target.url, error)
                    return sent
                self._advance(container_id, change.id)
        return sent

    def _advance(self, container_id: int, point: int) -> None:
        with self.db.engine.begin() as connection:
            connection.execute(update(SwiftContainer).where(SwiftContainer.id == container_id)
                               .values(sync_point=point, sync_lease=time.time() + LEASE))
            connection.execute(delete(_changes).where(_changes.c.container_id == container_id,
                                                      _changes.c.id < point, _changes.c.deleted.is_(False)))

    def _headers(self, target, method: str, name: str, user_key: str, stamp: str) -> dict:
        headers = {"X-Timestamp": stamp}
        if target.realm:
            nonce = uuid.uuid4().hex
            path = httpx.URL(target.url).raw_path.decode().split("?")[0] + "/" + quote(name)
            sig = sync_realms.signature(method, path, stamp, nonce, target.realm_key, user_key)
            headers["X-Container-Sync-Auth"] = f"{target.realm} {nonce} {sig}"
        else:
            headers["X-Container-Sync-Key"] = user_key
        return headers

    def _send(self, client: httpx.Client, box, target, user_key: str, change) -> int:
        url = f"{target.url}/{quote(change.name)}"
        if change.deleted:
            stamp = x_timestamp(change.stamp)
            answer = client.delete(url, headers=self._headers(target, "DELETE", change.name, user_key, stamp))
            if answer.status_code // 100 != 2 and answer.status_code not in (404, 409):
                raise SyncFailed(f"DELETE answered {answer.status_code}")
            return 1
        container = SwiftContainer(id=box.id, account=box.account, name=box.name, meta=box.meta)
        try:
            row = self.service.get_object(container, change.name)
        except Exception:  # gone (or expired) since: its deletion is a later change
            return 0
        stamp = x_timestamp(row.last_modified)
        answer = client.head(url, headers=self._headers(target, "HEAD", change.name, user_key, stamp))
        if answer.status_code == 200:
            if float(answer.headers.get("x-timestamp", "0")) >= float(stamp):
                return 0
        elif answer.status_code != 404:
            raise SyncFailed(f"HEAD answered {answer.status_code}")
        headers = {**self._headers(target, "PUT", change.name, user_key, stamp), "Content-Type": row.content_type,
                   "ETag": row.etag, "Content-Length": str(row.size)}
        for key, value in (row.meta or {}).items():
            if key.startswith("x-object-meta-") or key in KEPT:
                headers[key.title()] = value
        if row.delete_at:
            headers["X-Delete-At"] = str(row.delete_at)
        body = self.service.blobs.open(row.location) if row.location else iter([b""])
        answer = client.put(url, headers=headers, content=body)
        if answer.status_code // 100 != 2:
            raise SyncFailed(f"PUT answered {answer.status_code}")
        return 1


def pending_changes(db, container_id: int) -> int:
    """How many changes of the container wait to be sent (tests and status)."""
    with db.engine.connect() as connection:
        point = connection.execute(select(SwiftContainer.sync_point).where(SwiftContainer.id == container_id)).scalar()
        return connection.execute(select(func.count()).select_from(_changes).where(
            _changes.c.container_id == container_id, _changes.c.id > (point or 0))).scalar()
