"""Volumes for servers that boot from them (Nova's block_device_mapping_v2 with
``destination_type: volume``): made from an image, a snapshot or nothing, or an existing
volume, then reserved and connected for the server, as Nova's compute manager does."""

from __future__ import annotations

import asyncio
import time

from overcast.common.api.context import RequestContext
from overcast.volume import errors

READY_TIMEOUT = 600.0  # seconds a new boot volume may take to become available
GiB = 1 << 30


class BootVolumes:
    def __init__(self, service):
        self.service = service

    async def prepare(self, instance_uuid: str, bdm: dict, owner: dict, connector: dict) -> dict:
        """{attachment_id, connection_info, device} for one mapping. Raises on failure."""
        service = self.service
        ctx = RequestContext(user_id=owner.get("user_id"), project_id=owner.get("project_id"),
                             roles=["member", "reader"])
        source = bdm.get("source_type")
        if source == "volume":
            volume_id = bdm["uuid"]
        else:
            fields = {"name": "", "volume_type": bdm.get("volume_type")}
            if bdm.get("volume_size"):
                fields["size"] = int(bdm["volume_size"])
            if source == "image":
                fields["imageRef"] = bdm["uuid"]
            elif source == "snapshot":
                fields["snapshot_id"] = bdm["uuid"]
            row, cast = await asyncio.to_thread(service.volumes.create, ctx, fields)
            await service.send("create_volume", cast)
            volume_id = row.id
            await self._wait_available(ctx, volume_id)
        device = bdm.get("device_name") or ("/dev/vda" if str(bdm.get("boot_index")) == "0" else None)
        attachment = await asyncio.to_thread(
            service.attachments.reserve, ctx, volume_id, instance_uuid, "rw", device, "reserved",
            bool(bdm.get("delete_on_termination", False)), bdm.get("tag"))
        attachment = await service.attachments.connect(ctx, attachment.id, connector)
        return {"attachment_id": attachment.id, "connection_info": attachment.connection_info,
                "device": attachment.mountpoint, "volume_id": volume_id}

    async def _wait_available(self, ctx, volume_id: str) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        delay = 0.05
        while True:
            row = await asyncio.to_thread(self.service.volumes.get, ctx, volume_id)
            if row.status == "available":
                return
            if row.status == "error" or time.monotonic() > deadline:
                raise errors.InvalidVolume(f"Volume {volume_id} did not become available "
                                           f"({row.status}: {row.error or 'timed out'}).")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)
