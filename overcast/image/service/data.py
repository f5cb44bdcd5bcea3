"""Image data: upload (queued -> saving -> active), download, staging and import.

An upload streams through overcast.image.upload.receive, which hashes and writes in a
worker thread and aborts the store's writer on any failure. A broken upload puts the
image back to ``queued`` with no data kept; a crash mid-upload is repaired at start-up
(``saving`` -> ``queued``, temp files swept).
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import time

import httpx
from sqlalchemy import update

from overcast.common.db import utcnow
from overcast.image import disk_info, errors, upload
from overcast.image.models import Image, ImageProperty

log = logging.getLogger(__name__)
DOWNLOAD_CHUNK = 1 << 20
TOUCH_EVERY = 30.0  # seconds between updated_at bumps of an image whose data is streaming in
STALE_AFTER = 120.0  # an upload silent this long was cut off by a crash (or its process is gone)


class ImageData:
    def __init__(self, service):
        self.service = service
        self.db = service.db
        self.store = service.store
        self._tasks: set[asyncio.Task] = set()

    def recover(self) -> None:
        """After a crash: stale uploads and imports go back to queued, their temp files go.

        Live uploads (possibly in another API process sharing the database) bump their
        image's updated_at every TOUCH_EVERY seconds and write their temp file all the
        time, so only what has been silent for STALE_AFTER seconds is touched.
        """
        cutoff = utcnow() - datetime.timedelta(seconds=STALE_AFTER)
        with self.db.session() as session:
            session.execute(
                update(Image)
                .where(Image.status.in_(("saving", "importing")), Image.updated_at < cutoff)
                .values(status="queued")
            )
        sweep = getattr(self.store, "sweep", None)
        if sweep is not None:
            sweep(STALE_AFTER)

    async def _touching(self, chunks, image_id: str):
        """Pass ``chunks`` through, bumping the image's updated_at now and then."""
        last = time.monotonic()
        async for chunk in chunks:
            if time.monotonic() - last > TOUCH_EVERY:
                last = time.monotonic()
                await asyncio.to_thread(self._touch, image_id)
            yield chunk

    def _touch(self, image_id: str) -> None:
        with self.db.session() as session:
            session.execute(update(Image).where(Image.id == image_id).values(updated_at=utcnow()))

    def _begin(self, ctx, image_id: str, allowed: tuple[str, ...], status: str) -> tuple[Image, int]:
        with self.db.session() as session:
            row = self.service.images.owned_for_update(ctx, image_id, session)
            if row.status not in allowed:
                raise errors.ImageConflict(
                    f"Image status transition from {row.status} to {status} is not allowed"
                )
            row.status, row.updated_at = status, utcnow()
            return row, self.service.quotas.bytes_left(session, row.owner)

    def _set_status(self, image_id: str, status: str, **values) -> None:
        with self.db.session() as session:
            session.execute(update(Image).where(Image.id == image_id).values(status=status, updated_at=utcnow(), **values))

    async def upload(self, ctx, image_id: str, chunks, size: int | None) -> Image:
        """Store the data of a queued image; the image is active when this returns."""
        row, room = self._begin(ctx, image_id, ("queued",), "saving")
        return await self._store(image_id, row.disk_format, chunks, room, size, back_to="queued")

    async def _store(self, image_id, disk_format, chunks, room: int, size: int | None, back_to: str) -> Image:
        if room <= 0:
            self._set_status(image_id, back_to)
            raise errors.ImageOverLimit("Image storage quota exceeded.")
        writer = self.store.writer(image_id)
        try:
            result = await upload.receive(self._touching(chunks, image_id), writer, max_bytes=room,
                                          expected_size=size)
        except BaseException:
            self._set_status(image_id, back_to)
            raise
        try:
            path = self.store.path(result.location)
            virtual = await asyncio.to_thread(disk_info.virtual_size, path, disk_format) if path else None
            return self._activate(image_id, result, virtual, disk_format)
        except BaseException:  # the data must not outlive a record that does not point at it
            self.store.delete(result.location)
            if self._status(image_id) in ("saving", "importing"):
                self._set_status(image_id, back_to)
            raise

    def _status(self, image_id: str) -> str | None:
        with self.db.session() as session:
            row = session.get(Image, image_id)
            return row.status if row else None

    def _activate(self, image_id: str, result, virtual: int | None, disk_format: str | None) -> Image:
        with self.db.session() as session:
            row = session.get(Image, image_id)
            if row is None or row.status not in ("saving", "importing"):  # deleted while uploading
                raise errors.ImageConflict(f"Image {image_id} was deleted or changed during the upload.")
            row.size, row.checksum = result.size, result.checksum
            row.os_hash_algo, row.os_hash_value = result.os_hash_algo, result.os_hash_value
            row.virtual_size = virtual if virtual is not None else (result.size if disk_format in ("raw", "iso") else None)
            row.location, row.status, row.updated_at = result.location, "active", utcnow()
            return row

    async def download(self, ctx, image_id: str, offset: int = 0, length: int | None = None):
        """(image, async chunk iterator, or None when the image has no data)."""
        image = self.service.images.get(ctx, image_id)
        if image.status == "deactivated" and not ctx.is_admin:
            raise errors.ImageForbidden("The requested image has been deactivated. Image data download is forbidden.")
        if not image.location:
            return image, None
        chunks = await upload.stream(lambda: self.store.open(image.location, offset, length))
        return image, chunks

    # interoperable import

    async def stage(self, ctx, image_id: str, chunks, size: int | None) -> None:
        """PUT /stage: keep the data aside (status 'uploading') until an import uses it."""
        row, room = self._begin(ctx, image_id, ("queued",), "uploading")
        writer = self.store.writer(f"{image_id}.staging")
        try:
            result = await upload.receive(chunks, writer, max_bytes=room, expected_size=size)
        except BaseException:
            self._set_status(image_id, "queued")
            raise
        self._set_status(image_id, "uploading", staging=result.location)

    def start_import(self, ctx, image_id: str, method: dict) -> None:
        """POST /import: glance-direct (from the staged data) or web-download (from a URL)."""
        name = method.get("name") if isinstance(method, dict) else None
        if name not in ("glance-direct", "web-download"):
            raise errors.ImageInvalid(f"Import method {name!r} is not supported: use glance-direct or web-download")
        if name == "glance-direct":
            row, room = self._begin(ctx, image_id, ("uploading",), "importing")
            if not row.staging:
                self._set_status(image_id, "queued")
                raise errors.ImageConflict("Image has no staged data to import.")
            source = self._from_store(row.staging)
        else:
            uri = method.get("uri")
            if not isinstance(uri, str) or not uri.startswith(("http://", "https://")):
                raise errors.ImageInvalid("web-download needs an http(s) 'uri'.")
            row, room = self._begin(ctx, image_id, ("queued",), "importing")
            source = self._from_url(uri)
        self._set_property(image_id, "os_glance_import_task", name)
        task = asyncio.get_running_loop().create_task(self._import(row, source, room))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _import(self, row: Image, source, room: int) -> None:
        try:
            await self._store(row.id, row.disk_format, source, room, None, back_to="queued")
            if row.staging:
                self.store.delete(row.staging)
                self._set_status(row.id, "active", staging=None)
            self._set_property(row.id, "os_glance_failed_import", None)
        except Exception as error:  # reported on the image, as Glance does
            log.warning("import of image %s failed: %s", row.id, error)
            self._set_property(row.id, "os_glance_failed_import", str(error)[:255])

    async def _from_store(self, location: str):
        async for chunk in await upload.stream(lambda: self.store.open(location)):
            yield chunk

    async def _from_url(self, uri: str):
        timeout = self.service.config.image.web_download_timeout
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=True) as client:
            async with client.stream("GET", uri) as response:
                if response.status_code != 200:
                    raise errors.ImageInvalid(f"web-download of {uri} answered {response.status_code}")
                async for chunk in response.aiter_bytes(DOWNLOAD_CHUNK):
                    yield chunk

    def _set_property(self, image_id: str, name: str, value: str | None) -> None:
        with self.db.session() as session:
            row = session.get(ImageProperty, (image_id, name))
            if value is None:
                if row is not None:
                    session.delete(row)
            elif row is None:
                if session.get(Image, image_id) is not None:
                    session.add(ImageProperty(image_id=image_id, name=name, value=value))
            else:
                row.value = value

    async def wait(self) -> None:
        """Let running imports finish (tests and shutdown)."""
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def delete_data(self, *locations) -> None:
        for location in locations:
            if location:
                self.store.delete(location)
