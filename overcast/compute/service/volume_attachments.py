"""Nova's side of volumes: attach to and detach from servers (os-volume_attachments).

The block device records are the volume service's attachments (``volume.attachments``),
so there is no table here. Attaching reserves an attachment, then casts
``attach_volume`` to the server's host; the compute agent connects it through the
volume service, plugs it with the hypervisor driver and completes it (the volume goes
in-use). Detaching marks the volume detaching and casts ``detach_volume``; the agent
unplugs it and deletes the attachment (the volume goes available).
"""

from __future__ import annotations

import asyncio
import re

from overcast.common.api.context import RequestContext
from overcast.compute import errors, states
from overcast.compute.service.server_actions import ServerActions

ATTACHABLE = (states.ACTIVE, states.PAUSED, states.STOPPED, states.SUSPENDED, states.SHELVED,
              states.SHELVED_OFFLOADED, "resized")
DEVICE = re.compile(r"^/dev/[a-z]+[a-z0-9]*$")
LETTERS = "bcdefghijklmnopqrstuvwxyz"


class VolumeUnavailable(errors.ComputeInvalid):
    pass


class VolumeAttachments:
    def __init__(self, compute, volume):
        self.compute = compute
        self.volume = volume  # the VolumeService (None when the cloud runs without block storage)

    def _service(self):
        if self.volume is None:
            raise errors.ComputeInvalid("The block storage service is not available in this cloud.")
        return self.volume

    def list(self, ctx, uuid: str) -> list:
        self.compute.servers.get(ctx, uuid)
        if self.volume is None:
            return []
        return self.volume.attachments.for_instance(uuid)

    def find(self, ctx, uuid: str, volume_id: str):
        for row in self.list(ctx, uuid):
            if row.volume_id == volume_id:
                return row
        raise errors.ComputeNotFound(f"Volume {volume_id} is not attached to server {uuid}")

    def _check_server(self, ctx, uuid: str, action: str):
        row = self.compute.servers.get(ctx, uuid)
        ServerActions(self.compute).check_lock(ctx, row)
        if row.vm_state not in ATTACHABLE:
            raise errors.InstanceInvalidState(uuid, action, "vm_state", row.vm_state)
        if row.task_state is not None:
            raise errors.InstanceInvalidState(uuid, action, "task_state", row.task_state)
        if row.host:
            with self.compute.db.session() as session:
                if not ServerActions.host_can(session, row.host, "supports_attach_volume"):
                    raise errors.ComputeConflict(f"Cannot 'attach_volume' instance {uuid}: the hypervisor of host "
                                                 f"{row.host} does not support it.")
        return row

    def reserve(self, ctx, uuid: str, volume_id: str, device: str | None, tag: str | None,
                delete_on_termination: bool):
        """Check the server and the volume and reserve the attachment; (server, attachment)."""
        volume = self._service()
        if device is not None and not DEVICE.match(device):
            raise errors.ComputeInvalid(f"The supplied device path ({device}) is invalid.")
        server = self._check_server(ctx, uuid, "attach_volume")
        from overcast.common.errors import BadRequest, NotFound

        existing = volume.attachments.for_instance(uuid)
        if any(a.volume_id == volume_id for a in existing):
            raise errors.ComputeInvalid(f"Invalid volume: volume {volume_id} already attached")
        used = {a.mountpoint for a in existing} | {"/dev/vda"}
        if device in used:
            raise errors.ComputeInvalid(f"The supplied device path ({device}) is in use.")
        if device is None:
            device = next((f"/dev/vd{c}" for c in LETTERS if f"/dev/vd{c}" not in used), None)
            if device is None:
                raise errors.ComputeInvalid("No free disk device names for prefix 'vd'")
        try:
            attachment = volume.attachments.reserve(ctx, volume_id, uuid, mountpoint=device, tag=tag,
                                                    delete_on_termination=delete_on_termination)
        except NotFound:
            raise errors.ComputeNotFound(f"Volume {volume_id} could not be found.") from None
        except BadRequest as failure:
            raise VolumeUnavailable(failure.text) from None
        return server, attachment

    async def attach(self, ctx, uuid: str, volume_id: str, device: str | None = None, tag: str | None = None,
                     delete_on_termination: bool = False):
        server, attachment = await asyncio.to_thread(self.reserve, ctx, uuid, volume_id, device, tag,
                                                     delete_on_termination)
        if server.host:
            await self.compute.bus.cast(f"compute.{server.host}", "attach_volume",
                                        {"uuid": uuid, "attachment_id": attachment.id, "device": attachment.mountpoint,
                                         "request_id": ctx.request_id})
        else:  # shelved offloaded: the volume is reserved for the server until it lands on a host
            await asyncio.to_thread(self.volume.attachments.complete, ctx, attachment.id, attachment.mountpoint)
        return attachment

    async def detach(self, ctx, uuid: str, volume_id: str) -> None:
        volume = self._service()
        attachment = await asyncio.to_thread(self.find, ctx, uuid, volume_id)
        server = await asyncio.to_thread(self._check_server, ctx, uuid, "detach_volume")
        if server.host and attachment.connection_info:
            await asyncio.to_thread(volume.actions.begin_detaching, ctx, volume_id)
            await self.compute.bus.cast(f"compute.{server.host}", "detach_volume",
                                        {"uuid": uuid, "attachment_id": attachment.id,
                                         "connection_info": attachment.connection_info,
                                         "device": attachment.mountpoint})
        else:
            cast = await asyncio.to_thread(volume.attachments.remove, ctx, attachment.id)
            await volume.send("terminate_connection", cast)

    def update(self, ctx, uuid: str, volume_id: str, delete_on_termination: bool | None) -> object:
        attachment = self.find(ctx, uuid, volume_id)
        if delete_on_termination is not None:
            with self.volume.db.session() as session:
                from overcast.volume.models import Attachment

                row = session.get(Attachment, attachment.id)
                row.delete_on_termination = delete_on_termination
                attachment = row
        return attachment

    def annotate(self, rows: list) -> None:
        """Give each server row ``volumes_attached``: [(volume id, delete_on_termination)]."""
        if self.volume is None or not rows:
            return
        found = self.volume.attachments.for_instances([row.uuid for row in rows])
        for row in rows:
            row.volumes_attached = [(a.volume_id, bool(a.delete_on_termination)) for a in found.get(row.uuid, [])]

    # -- boot from volume --------------------------------------------------------------

    def check_boot(self, ctx, mappings: list[dict]) -> None:
        """Check the block_device_mapping_v2 of a volume-backed boot (400s as Nova)."""
        volume = self._service()
        from overcast.common.errors import NotFound

        for bdm in mappings:
            if not isinstance(bdm, dict):
                raise errors.ComputeInvalid("Block Device Mapping is Invalid: a mapping must be an object.")
            source, destination = bdm.get("source_type"), bdm.get("destination_type", "volume")
            if destination != "volume":
                continue
            if source not in ("image", "volume", "snapshot", "blank"):
                raise errors.ComputeInvalid(f"Block Device Mapping is Invalid: source_type {source} is unknown.")
            size = bdm.get("volume_size")
            if size is not None and (isinstance(size, bool) or not str(size).isdigit() or int(size) < 1):
                raise errors.ComputeInvalid(f"Block Device Mapping is Invalid: volume_size {size} is invalid.")
            if source == "blank" and size is None:
                raise errors.ComputeInvalid("Block Device Mapping is Invalid: a blank volume needs volume_size.")
            try:
                if source == "image":
                    self.compute.image.images.get(ctx, bdm.get("uuid") or "")
                elif source == "snapshot":
                    volume.snapshots.get(ctx, bdm.get("uuid") or "")
                elif source == "volume":
                    found = volume.volumes.get(ctx, bdm.get("uuid") or "")
                    if found.status != "available":
                        raise errors.ComputeInvalid(f"Invalid volume: volume '{found.id}' status must be "
                                                    f"'available'. Currently in '{found.status}'")
            except NotFound:
                raise errors.ComputeInvalid(f"Block Device Mapping is Invalid: failed to get {source} "
                                            f"{bdm.get('uuid')}.") from None

    def boot_payload(self, row) -> dict:
        """What the agent's build needs to make the server's volumes ready (see agent_volumes)."""
        mappings = [bdm for bdm in (row.block_devices or [])
                    if isinstance(bdm, dict) and bdm.get("destination_type") == "volume"]
        if not mappings or self.volume is None:
            return {}
        return {"boot_volumes": mappings, "owner": {"project_id": row.project_id, "user_id": row.user_id}}

    def server_gone(self, uuid: str) -> None:
        """A server was deleted: detach its volumes; delete those marked delete_on_termination.
        Runs in a worker thread; the volume casts go out on the service's loop."""
        if self.volume is None:
            return
        doomed = self.volume.attachments.server_gone(uuid)
        admin = RequestContext(roles=["admin"], user_id="nova")
        for volume_id in doomed:
            try:
                cast = self.volume.volumes.begin_delete(admin, volume_id)
            except Exception:  # the volume is in a state that cannot be deleted: it stays
                continue
            self.volume.send_soon("delete_volume", cast)
