"""The conductor: the controller's end of the compute bus (topic ``compute-conductor``).

It schedules new and unshelved servers and casts them to their host's agent, registers
hosts, and writes what agents report (states, events, faults, claims given back), then
sends the notification telemetry reads. Database work runs in threads.
"""

from __future__ import annotations

import asyncio
import base64
import logging

from sqlalchemy import select

from overcast.common.api.context import RequestContext
from overcast.common.db import utcnow
from overcast.common.errors import NotFound
from overcast.compute.models import Instance
from overcast.compute.notifications import notify
from overcast.compute.scheduler import COMPUTE_BINARY, NoValidHost, RequestSpec

TOPIC = "compute-conductor"
log = logging.getLogger("overcast.compute.conductor")


class Conductor:
    def __init__(self, compute, bus):
        self.compute = compute
        self.bus = bus
        self._group_locks: dict[str, asyncio.Lock] = {}

    def handlers(self) -> dict:
        return {"register_host": self.register_host, "report_node": self.report_node,
                "host_instances": self.host_instances, "build_instances": self.build_instances,
                "unshelve_instance": self.unshelve_instance, "instance_update": self.instance_update,
                "upload_image": self.upload_image, "download_image": self.download_image,
                "set_migration_status": self.set_migration_status, "external_events": self.external_events}

    async def external_events(self, payload: dict) -> None:
        """Events from the other services (the volume service's ``volume-extended``), as
        they would reach ``POST /os-server-external-events``."""
        await self.compute.lifecycle.external_events(payload["events"])

    # -- hosts -----------------------------------------------------------------------

    async def register_host(self, payload: dict) -> dict:
        registry = self.compute.registry
        await asyncio.to_thread(registry.register_service, payload["host"], COMPUTE_BINARY, "compute",
                                payload.get("zone"))
        await asyncio.to_thread(registry.report_node, payload["host"], payload["report"])
        return {"registered": payload["host"]}

    async def report_node(self, payload: dict) -> None:
        await asyncio.to_thread(self.compute.registry.report_node, payload["host"], payload["report"])

    async def host_instances(self, payload: dict) -> list[dict]:
        return await asyncio.to_thread(self.compute.registry.instances_on_host, payload["host"])

    # -- scheduling ----------------------------------------------------------------------

    async def build_instances(self, payload: dict) -> None:
        for uuid in payload["uuids"]:
            await self._schedule(uuid, payload.get("request_id", ""), "build_instance", "scheduling")

    async def unshelve_instance(self, payload: dict) -> None:
        await self._schedule(payload["uuid"], payload.get("request_id", ""), "unshelve_instance", "unshelving",
                             payload.get("host"))

    def _group(self, uuid: str, group: str | None):
        groups = self.compute.server_groups
        if group is None:
            return None
        try:
            return groups.spec(group, exclude=[uuid])
        except NotFound:  # the group was deleted meanwhile: nothing left to honour
            return None

    async def _schedule(self, uuid: str, request_id: str, op: str, task_state: str,
                        host: str | None = None) -> None:
        """Members of one server group are placed one at a time, each seeing where the
        others landed, so concurrent boots cannot break its policy (one conductor; with
        several, the group check would have to move into the claim)."""
        group = await asyncio.to_thread(self.compute.server_groups.group_of, uuid)
        if group is None:
            await self._place(uuid, request_id, op, task_state, None, host)
            return
        async with self._group_locks.setdefault(group, asyncio.Lock()):
            await self._place(uuid, request_id, op, task_state, group, host)

    async def _place(self, uuid: str, request_id: str, op: str, task_state: str, group: str | None,
                     target: str | None = None) -> None:
        """Schedule (on ``target`` when a request named the host) and cast ``op`` there."""
        compute = self.compute
        try:
            row = await asyncio.to_thread(compute.servers.get, RequestContext(roles=["admin"]), uuid)
        except NotFound:  # deleted before its turn came
            return
        spec = RequestSpec(consumer=uuid, vcpus=row.vcpus, memory_mb=row.memory_mb,
                           disk_gb=row.root_gb + row.ephemeral_gb + -(-(row.flavor.get("swap") or 0) // 1024),
                           availability_zone=row.requested_zone,
                           force_host=target or (row.system_metadata or {}).get("force_host"),
                           group=await asyncio.to_thread(self._group, uuid, group) if group else None)
        hints = row.system_metadata or {}
        if hints.get("same_host"):
            spec.same_host = await asyncio.to_thread(self._hosts_of, hints["same_host"])
        if hints.get("different_host"):
            spec.different_host = await asyncio.to_thread(self._hosts_of, hints["different_host"])
        try:
            host = await asyncio.to_thread(compute.scheduler.schedule, spec)
        except NoValidHost as error:
            if op == "unshelve_instance":  # it stays shelved, as Nova leaves it, with the reason
                await asyncio.to_thread(compute.progress.apply, uuid, {"task_state": None}, check_task=False,
                                        fault={"code": 400, "message": str(error)})
                await self._notify("unshelve.error", row)
                return
            await asyncio.to_thread(compute.progress.fail_build, uuid, str(error), request_id,
                                    "No valid host was found. There are not enough hosts available.")
            await self._notify("create.error", row)
            return
        now = utcnow().isoformat()
        event = {"name": "conductor_schedule_and_build_instances" if op == "build_instance"
                 else "conductor_unshelve_instance", "request_id": request_id, "start": now, "finish": now,
                 "result": "Success"}
        placed = await asyncio.to_thread(compute.progress.place, uuid, host.host, host.node, host.zone, task_state,
                                         event)
        if placed is None:  # deleted while it was being scheduled
            await asyncio.to_thread(compute.scheduler.release, uuid)
            return
        shelved = (placed.system_metadata or {}).get("shelved_image_id") if op == "unshelve_instance" else None
        try:
            placed.net_vifs = await asyncio.to_thread(self._vifs, placed, host.host, op)
        except Exception as error:  # no port could be made: the build fails here, its claim goes
            log.warning("network allocation for %s failed: %s", uuid, error)
            await asyncio.to_thread(compute.progress.fail_build, uuid,
                                    f"Build of instance {uuid} aborted: Failed to allocate the network(s), not "
                                    "rescheduling.", request_id, str(error))
            await self._notify("create.error", row)
            return
        if await asyncio.to_thread(compute.servers.is_deleted, uuid):  # deleted while its ports were made
            await asyncio.to_thread(compute.network_api.deallocate, placed)
            return
        await self.bus.cast(f"compute.{host.host}", op, {"uuid": uuid, "request_id": request_id,
                                                         "task_state": "spawning" if op == "build_instance"
                                                         else task_state,
                                                         "spec": compute.spec_payload(placed, shelved)})

    def _hosts_of(self, uuids: list[str]) -> set[str]:
        """The hosts the instances ``uuids`` run on (a scheduler hint's)."""
        with self.compute.db.session() as session:
            return set(session.scalars(select(Instance.host).where(Instance.uuid.in_(uuids), Instance.host.is_not(None),
                                                                   Instance.deleted.is_(False))))

    def _vifs(self, row, host: str, op: str) -> list[dict]:
        """New servers get their ports now; an unshelved one moves the ones it has."""
        network = self.compute.network_api
        if op == "build_instance":
            return network.allocate(row, host)
        vifs = network.vifs(row.uuid)
        for vif in vifs:
            network.network.ports.bind(vif["id"], host)
        return network.vifs(row.uuid)

    # -- reports ---------------------------------------------------------------------------

    async def set_migration_status(self, payload: dict) -> None:
        """An agent's step in a move (a live migration's preparing, running)."""
        await asyncio.to_thread(self.compute.migrations.set_status, payload["uuid"], payload["status"])

    async def instance_update(self, payload: dict) -> None:
        compute, uuid = self.compute, payload["uuid"]
        after = payload.get("after")
        if after == "deleted":
            row = await asyncio.to_thread(compute.progress.apply, uuid, {}, check_task=False,
                                          event=payload.get("event"))
            row = await asyncio.to_thread(compute.servers.mark_deleted, uuid)
            if row is not None:
                await self._notify("delete.end", row)
            return
        row = await asyncio.to_thread(compute.progress.apply, uuid, payload.get("values", {}),
                                      payload.get("expected_task_state"), payload.get("event"),
                                      payload.get("fault"), payload.get("check_task", True),
                                      payload.get("record_action"))
        scheduler = compute.scheduler
        migration = {"confirm_resize": "confirmed", "revert_resize": "reverted", "revert_claim": "error",
                     "resized": "finished", "live_migrated": "completed", "live_failed": "failed",
                     "live_cancelled": "cancelled"}.get(after)
        if migration:
            await asyncio.to_thread(compute.migrations.set_status, uuid, migration)
        if after == "released":
            await asyncio.to_thread(scheduler.release, uuid)
        elif after in ("confirm_resize", "live_migrated"):  # the source's claim goes, the move's stays
            await asyncio.to_thread(scheduler.release, uuid)
            await asyncio.to_thread(scheduler.move, f"resize-{uuid}", uuid)
        elif after in ("revert_resize", "revert_claim", "live_failed", "live_cancelled"):
            await asyncio.to_thread(scheduler.release, f"resize-{uuid}")
        if row is not None and (payload.get("values") or {}).get("host"):  # moved: its ports follow it
            await asyncio.to_thread(self._rebind, uuid, row.host)
        elif after == "unshelved" and row is not None:  # the shelved snapshot has served its purpose
            await asyncio.to_thread(self._forget_shelved_image, row)
        if row is not None and payload.get("notify"):
            event = payload["notify"] + (".error" if payload.get("fault") else ".end")
            await self._notify(event, row)

    def _rebind(self, uuid: str, host: str) -> None:
        network = self.compute.network_api
        for vif in network.vifs(uuid):
            try:
                network.network.ports.bind(vif["id"], host)
            except Exception:  # a port deleted meanwhile has nothing to follow
                log.warning("port %s of %s not bound to %s", vif["id"], uuid, host, exc_info=True)

    def _forget_shelved_image(self, row) -> None:
        meta = dict(row.system_metadata or {})
        image_id = meta.pop("shelved_image_id", None)
        meta.pop("shelved_at", None)
        self.compute.progress.apply(row.uuid, {"system_metadata": meta}, check_task=False)
        if image_id:
            self.compute.lifecycle.delete_image(RequestContext(user_id="nova", roles=["admin"]), image_id)

    async def upload_image(self, payload: dict) -> dict:
        """An agent's snapshot bytes into the image record the API created."""
        image = self.compute.image
        ctx = RequestContext(user_id="nova", project_id=None, roles=["admin"])
        data = base64.b64decode(payload["data"])

        async def chunks():
            yield data

        await image.data.upload(ctx, payload["image_id"], chunks(), len(data))
        return {"size": len(data)}

    async def download_image(self, payload: dict) -> dict:
        """A piece of an image's bytes for an agent's image cache (``offset``, ``length``),
        with what the image service knows to verify the whole."""
        ctx = RequestContext(user_id="nova", project_id=None, roles=["admin"])
        offset, length = int(payload.get("offset", 0)), int(payload.get("length", 4 << 20))
        image, chunks = await self.compute.image.data.download(ctx, payload["image_id"], offset, length)
        data = b""
        if chunks is not None:
            async for chunk in chunks:
                data += chunk
        return {"data": base64.b64encode(data).decode(), "size": image.size, "checksum": image.checksum,
                "os_hash_algo": image.os_hash_algo, "os_hash_value": image.os_hash_value,
                "disk_format": image.disk_format, "status": image.status,
                "properties": {k: v for k, v in (image.properties or {}).items()
                               if k in ("kernel_id", "ramdisk_id", "os_command_line")}}

    async def _notify(self, event: str, row) -> None:
        await notify(self.bus, event, row)
