"""The volume agent (cinder-volume): takes casts on ``volume.<host>@<backend>`` and drives
the volume driver. It holds no database connection: it reports each result to the
conductor (``volume_update``/``snapshot_update``), so the same code runs in the all-in-one
process (memory bus) and as ``overcast agent volume`` elsewhere.

With ``cluster`` (Cinder's active-active ``cluster`` option) the agent also serves the
cluster's topic ``volume.<cluster>@<backend>``: one queue all members consume, so work for a
clustered volume goes to whichever member is live, and what a member that died had not
acknowledged is delivered again to another. Only a driver whose volumes every host sees
(``active_active``: rbd) may be clustered.

One operation per volume at a time (a lock per id); driver calls run in threads. A
driver failure leaves the volume ``error`` (``error_deleting``, ``error_extending``) with
the driver's message in ``error``; the driver already removed what it had made.
"""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
from pathlib import Path

from overcast.common import heartbeats
from overcast.common.api.context import RequestContext
from overcast.volume.conductor import TOPIC as CONDUCTOR
from overcast.volume.drivers import ImageSource, VolumeDriver

REPORT_INTERVAL = 60.0
CHUNK = 1 << 20
log = logging.getLogger("overcast.volume.agent")


class ClusterNotSupported(ValueError):
    """``volume.cluster`` set for a driver whose volumes only its own host sees."""


class VolumeAgent:
    def __init__(self, bus, driver: VolumeDriver, host: str, backend: str = "file", zone: str = "nova",
                 image=None, scratch: Path | None = None, objectstore=None, fetch_image=None, cluster: str = ""):
        if cluster and not driver.active_active:
            raise ClusterNotSupported(
                f"Active-Active configuration is not currently supported by driver {type(driver).__name__}: "
                f"volume.cluster = {cluster!r} needs a backend every host of the cluster shares (the rbd driver), "
                f"not the {driver.name} driver's local volumes.")
        self.bus = bus
        self.driver = driver
        self.host = f"{host}@{backend}"
        self.cluster = f"{cluster}@{backend}" if cluster else None
        self.backend = backend
        self.zone = zone
        self.image = image  # the image service's Python interface (in-process), for image data
        self.objectstore = objectstore  # the object store's (in-process), for backups
        # on another host: fetch_image(image_id, path) -> {disk_format, ...} over the bus
        self.fetch_image = fetch_image
        self.scratch = Path(scratch) if scratch else Path(tempfile.gettempdir())
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: list[asyncio.Task] = []

    @property
    def topic(self) -> str:
        return f"volume.{self.host}"

    def _registration(self, capabilities: dict) -> dict:
        return {"host": self.host, "zone": self.zone, "capabilities": capabilities, "cluster": self.cluster}

    async def start(self) -> None:
        await asyncio.to_thread(self.driver.init_host, self.host)
        await self.bus.call(CONDUCTOR, "register_backend", self._registration(await self.capabilities()), timeout=30)
        await self.reconcile()
        extra = {}
        if self.objectstore is not None:
            from overcast.volume import agent_backups

            extra = agent_backups.handlers(self)
        if self.driver.capabilities.supports_manage:
            from overcast.volume import agent_manage

            extra.update(agent_manage.handlers(self))
        handlers = {**extra,
            "create_volume": self.create_volume, "delete_volume": self.delete_volume,
            "extend_volume": self.extend_volume, "reimage_volume": self.reimage_volume,
            "create_snapshot": self.create_snapshot,
            "delete_snapshot": self.delete_snapshot, "copy_volume_to_image": self.copy_volume_to_image,
            "initialize_connection": self.initialize_connection,
            "terminate_connection": self.terminate_connection}
        await self.bus.serve(self.topic, handlers)
        if self.cluster:
            await self.bus.serve(f"volume.{self.cluster}", handlers)
        self._tasks.append(asyncio.create_task(heartbeats.report_forever(self.bus, "cinder-volume", self.host,
                                                                         "cinder-volume")))
        self._tasks.append(asyncio.create_task(self._report_forever()))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def reconcile(self) -> None:
        """After a restart: work the conductor still sees in flight is finished or failed.
        A volume being created is kept if the driver has it (creates are all-or-nothing),
        else it is an error; deletes are done again (they are idempotent); an extend or an
        upload whose outcome is unknown leaves the volume usable and says so, a reimage
        leaves it ``error``."""
        found = await self.bus.call(CONDUCTOR, "unfinished", {"host": self.host}, timeout=30)
        present = set(await asyncio.to_thread(self.driver.list_volumes))
        lost = "The volume agent restarted while this was in progress."
        for volume in found.get("volumes", []):
            ident, status = volume["id"], volume["status"]
            if status == "creating":
                values = {"status": "available", "error": None} if ident in present else \
                    {"status": "error", "error": lost}
                await self._report("volume_update", ident, values)
            elif status == "deleting":
                await self.delete_volume({"id": ident})
            elif status == "extending":
                await self._report("volume_update", ident, {"status": "error_extending", "error": lost})
            elif status == "downloading":  # a reimage: the data may be half written
                await self._report("volume_update", ident, {"status": "error", "error": lost})
            else:  # uploading: the volume's data is intact
                await self._report("volume_update", ident, {"status": "in-use" if volume["attached"] else
                                                            "available", "error": lost})
        for snapshot in found.get("snapshots", []):
            if snapshot["status"] == "deleting":
                await self.delete_snapshot({"id": snapshot["id"]})
            else:  # a half-made snapshot is not kept
                await asyncio.to_thread(self.driver.delete_snapshot, snapshot["id"])
                await self._report("snapshot_update", snapshot["id"], {"status": "error", "error": lost})

    async def capabilities(self) -> dict:
        stats = await asyncio.to_thread(self.driver.stats)
        return {"pool": self.backend, "total_gb": stats.total_gb, "free_gb": stats.free_gb,
                "allocated_gb": stats.allocated_gb, "volume_backend_name": stats.volume_backend_name,
                "storage_protocol": stats.storage_protocol, "vendor_name": stats.vendor_name,
                "driver_version": stats.driver_version, **self.driver.capabilities.as_dict()}

    async def _report_forever(self) -> None:
        while True:
            await asyncio.sleep(REPORT_INTERVAL)
            try:
                await self.bus.cast(CONDUCTOR, "register_backend", self._registration(await self.capabilities()))
            except Exception:  # the broker may be restarting; the next report tries again
                log.warning("capacity report from %s not sent", self.host, exc_info=True)

    def _lock(self, key: str) -> asyncio.Lock:
        return self._locks.setdefault(key, asyncio.Lock())

    async def _report(self, kind: str, ident: str, values: dict | None = None, deleted: bool = False) -> None:
        await self.bus.cast(CONDUCTOR, kind, {"id": ident, "values": values or {}, "deleted": deleted})

    async def _run(self, kind: str, ident: str, work, done: dict, failed_status: str, deleted: bool = False):
        """Run ``work`` in a thread; report ``done`` (or the row gone) or the failure."""
        try:
            await asyncio.to_thread(work)
        except Exception as error:  # any driver failure becomes the volume's error status
            log.warning("%s %s failed: %s", kind, ident, error)
            await self._report(kind, ident, {"status": failed_status, "error": str(error) or type(error).__name__})
            return False
        await self._report(kind, ident, done, deleted=deleted)
        return True

    # -- volumes -------------------------------------------------------------------------

    async def _encryption(self, payload: dict, volume_id: str, kind: str = "volume", name: str = "encryption") -> dict:
        """``{name: Encryption}`` for the driver when the volume (or the snapshot, ``kind``)
        is encrypted (its key asked of the conductor, never logged), else ``{}``."""
        if not payload.get("encrypted"):
            return {}
        from overcast.volume.drivers.luks import Encryption

        if not self.driver.capabilities.supports_encryption:
            raise RuntimeError(f"the {self.driver.name} volume driver cannot encrypt volumes")
        found = await self.bus.call(CONDUCTOR, "volume_encryption", {"id": volume_id, "kind": kind}, timeout=30)
        if not found:
            raise RuntimeError(f"no key for encrypted {kind} {volume_id}")
        return {name: Encryption(passphrase=found["passphrase"].encode(), cipher=found["cipher"],
                                 key_size=found["key_size"])}

    async def _keyed(self, kind: str, ident: str, payload: dict, volume_id: str, failed: str,
                     source: str | None = None) -> dict | None:
        """The driver's encryption argument (``source_encryption`` of a ``source`` volume or
        snapshot), or None after reporting the failure."""
        try:
            if source is not None:
                return await self._encryption(payload, volume_id, source, "source_encryption")
            return await self._encryption(payload, volume_id)
        except Exception as error:  # no key: the volume cannot be written
            await self._report(kind, ident, {"status": failed, "error": str(error) or type(error).__name__})
            return None

    async def create_volume(self, payload: dict) -> None:
        volume_id, size, source = payload["id"], payload["size"], payload.get("source") or {"kind": "blank"}
        async with self._lock(volume_id):
            enc = await self._keyed("volume_update", volume_id, payload, volume_id, "error")
            kind = source["kind"]
            if enc is not None and kind in ("volume", "snapshot"):  # the clone is re-keyed: the source's key too
                found = await self._keyed("volume_update", volume_id, source, source["id"], "error", kind)
                enc = None if found is None else {**enc, **found}
            if enc is None:
                return
            if kind == "snapshot":
                def work():
                    self.driver.create_volume_from_snapshot(volume_id, source["id"], size, **enc)
            elif kind == "volume":
                def work():
                    self.driver.create_cloned_volume(volume_id, source["id"], size, **enc)
            elif kind == "image":
                def work():
                    self._with_image(source, lambda image: self.driver.create_volume_from_image(
                        volume_id, size, image, **enc))
            else:
                def work():
                    self.driver.create_volume(volume_id, size, **enc)
            await self._run("volume_update", volume_id, work, {"status": "available", "error": None}, "error")

    def _with_image(self, spec: dict, use) -> None:
        """``use(ImageSource)`` for the image ``spec`` names (``id``, ``encrypted``): the image
        service's file in-process; else the image staged here first (through the controller,
        over the bus)."""
        image_id = spec["id"]
        if self.image is not None or self.fetch_image is None:
            use(self._image_source(spec))
            return
        fd, staged = tempfile.mkstemp(prefix=".image-", dir=self.scratch)
        os.close(fd)
        try:
            known = self.fetch_image(image_id, Path(staged))
            use(ImageSource(id=image_id, disk_format=known.get("disk_format") or "raw",
                            size=os.path.getsize(staged), path=staged, encrypted=bool(spec.get("encrypted"))))
        finally:
            Path(staged).unlink(missing_ok=True)

    def _image_source(self, spec: dict) -> ImageSource:
        image_id = spec["id"]
        if self.image is None:
            raise RuntimeError("this volume agent has no image service to read images from")
        admin = RequestContext(roles=["admin"], user_id="cinder-volume")
        image = self.image.images.get(admin, image_id)
        if not image.location:
            raise RuntimeError(f"image {image_id} has no data")
        store = self.image.store
        return ImageSource(id=image.id, disk_format=image.disk_format or "raw", size=image.size or 0,
                           path=store.path(image.location), chunks=lambda: store.open(image.location),
                           encrypted=bool(spec.get("encrypted")))

    async def delete_volume(self, payload: dict) -> None:
        volume_id = payload["id"]
        async with self._lock(volume_id):
            for snapshot_id in payload.get("snapshots", []):
                ok = await self._run("snapshot_update", snapshot_id,
                                     lambda s=snapshot_id: self.driver.delete_snapshot(s), {}, "error_deleting",
                                     deleted=True)
                if not ok:
                    await self._report("volume_update", volume_id, {"status": "error_deleting"})
                    return
            await self._run("volume_update", volume_id, lambda: self.driver.delete_volume(volume_id), {},
                            "error_deleting", deleted=True)
        self._locks.pop(volume_id, None)

    async def extend_volume(self, payload: dict) -> None:
        volume_id, size = payload["id"], payload["size"]
        async with self._lock(volume_id):
            enc = await self._keyed("volume_update", volume_id, payload, volume_id, "error_extending")
            if enc is None:
                return
            await self._run("volume_update", volume_id, lambda: self.driver.extend_volume(volume_id, size, **enc),
                            {"status": payload.get("status_after", "available"), "size": size, "error": None},
                            "error_extending")

    async def reimage_volume(self, payload: dict) -> None:
        """os-reimage: the image written over the volume's data; the volume back to its
        status before with the image's metadata, or ``error``."""
        volume_id, size = payload["id"], payload["size"]
        async with self._lock(volume_id):
            enc = await self._keyed("volume_update", volume_id, payload, volume_id, "error")
            if enc is None:
                return
            await self._run("volume_update", volume_id,
                            lambda: self._with_image({"id": payload["image_id"]}, lambda source:
                                                     self.driver.reimage_volume(volume_id, size, source, **enc)),
                            {"status": payload.get("status_after", "available"), "error": None, "bootable": True,
                             "image_id": payload["image_id"], "image_metadata": payload.get("image_metadata") or {},
                             "reimaged": True},
                            "error")

    # -- snapshots -----------------------------------------------------------------------

    async def create_snapshot(self, payload: dict) -> None:
        snapshot_id, volume_id = payload["id"], payload["volume_id"]
        async with self._lock(volume_id):
            enc = await self._keyed("snapshot_update", snapshot_id, payload, volume_id, "error")
            if enc is None:
                return
            await self._run("snapshot_update", snapshot_id,
                            lambda: self.driver.create_snapshot(snapshot_id, volume_id, **enc),
                            {"status": "available", "progress": "100%"}, "error")

    async def delete_snapshot(self, payload: dict) -> None:
        snapshot_id = payload["id"]
        async with self._lock(payload.get("volume_id", snapshot_id)):
            await self._run("snapshot_update", snapshot_id, lambda: self.driver.delete_snapshot(snapshot_id), {},
                            "error_deleting", deleted=True)

    # -- images --------------------------------------------------------------------------

    async def copy_volume_to_image(self, payload: dict) -> None:
        volume_id, image_id = payload["id"], payload["image_id"]
        ctx = RequestContext(user_id=payload.get("user_id"), project_id=payload.get("project_id"),
                             roles=payload.get("roles") or [])
        async with self._lock(volume_id):
            fd, path = tempfile.mkstemp(prefix=".upload-", dir=self.scratch)
            os.close(fd)
            try:
                enc = await self._encryption(payload, volume_id)  # uploaded as a LUKS container
                written = await asyncio.to_thread(self.driver.copy_volume_to_image, volume_id,
                                                  payload["disk_format"], path, **enc)
                await self.image.data.upload(ctx, image_id, _read_chunks(path), written.size)
                error = None
            except Exception as failure:  # the volume is fine; the image stays queued without data
                log.warning("upload of volume %s to image %s failed: %s", volume_id, image_id, failure)
                error = str(failure) or type(failure).__name__
            finally:
                Path(path).unlink(missing_ok=True)
            await self._report("volume_update", volume_id, {"status": payload.get("status_after", "available"),
                                                            "error": error})

    # -- connections ---------------------------------------------------------------------

    async def initialize_connection(self, payload: dict) -> dict:
        return await asyncio.to_thread(self.driver.initialize_connection, payload["id"], payload.get("connector") or {},
                                       payload.get("mode", "rw"))

    async def terminate_connection(self, payload: dict) -> None:
        await asyncio.to_thread(self.driver.terminate_connection, payload["id"], payload.get("connector"))


async def _read_chunks(path: str):
    with open(path, "rb") as handle:
        while True:
            chunk = await asyncio.to_thread(handle.read, CHUNK)
            if not chunk:
                return
            yield chunk
