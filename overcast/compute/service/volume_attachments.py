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
SOURCES = ("volume", "image", "snapshot", "blank")
DESTINATIONS = ("local", "volume")


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

    async def swap(self, ctx, uuid: str, old_volume_id: str, new_volume_id: str) -> None:
        """Nova's swap_volume: the server's attachment of ``old_volume_id`` is replaced by one
        of ``new_volume_id`` at the same device. The agent unplugs the old volume (which
        goes available) and then plugs the new one (which goes in-use): its operations on
        one server run in order.

        As Nova since OSSN-0094 (bug 2112187), a swap is only the compute half of a volume
        migration or retype the block storage service started: 409 unless the old volume has
        a migration status. Then, as Nova: 404 for an unknown old volume, 400 for an unknown
        new one, for an old volume not attached to this server and for a new volume that is
        attached, not available, smaller or multiattach; 409 for a server in a wrong state."""
        volume = self._service()
        old = await asyncio.to_thread(self._volume_or, ctx, old_volume_id, errors.ComputeNotFound)
        if not old.migration_status:
            raise errors.ComputeConflict("Swapping volumes is only allowed as part of a volume migration or retype "
                                         "started by the block storage service.")
        new = await asyncio.to_thread(self._volume_or, ctx, new_volume_id, errors.ComputeInvalid)
        server = await asyncio.to_thread(self._check_server, ctx, uuid, "swap_volume")
        if old.multiattach or new.multiattach:
            raise errors.ComputeInvalid("Swapping multi-attach volumes is not supported.")
        try:
            attachment = await asyncio.to_thread(self.find, ctx, uuid, old_volume_id)
        except errors.ComputeNotFound:
            raise errors.ComputeInvalid("Invalid volume: Old volume is attached to a different instance.") from None
        if attachment.attach_status != "attached":
            raise errors.ComputeInvalid(f"Invalid volume: volume {old.id} is not attached yet.")
        if new.attach_status == "attached":
            raise errors.ComputeInvalid("Invalid volume: New volume must be detached in order to swap.")
        if new.status != "available":
            raise errors.ComputeInvalid(f"Invalid volume: volume {new.id} status must be available, but the "
                                        f"current status is {new.status}.")
        if new.size < old.size:
            raise errors.ComputeInvalid("Invalid volume: New volume must be the same size or larger.")
        reserved = await asyncio.to_thread(volume.attachments.reserve, ctx, new.id, uuid, "rw",
                                           attachment.mountpoint, "reserved",
                                           bool(attachment.delete_on_termination), attachment.tag)
        await self.detach(ctx, uuid, old_volume_id)
        if server.host:
            await self.compute.bus.cast(f"compute.{server.host}", "attach_volume",
                                        {"uuid": uuid, "attachment_id": reserved.id, "device": reserved.mountpoint,
                                         "request_id": ctx.request_id})
        else:
            await asyncio.to_thread(volume.attachments.complete, ctx, reserved.id, reserved.mountpoint)

    def snapshot_target(self, ctx, volume_id: str):
        """The server an assisted snapshot of ``volume_id`` is made on (Nova: the volume's
        block device mapping); 400 when it is not attached, multiattach, or the server has
        no host."""
        from overcast.common.errors import NotFound

        volume = self._service()
        admin = RequestContext(roles=["admin"], user_id=ctx.user_id)  # the caller is a service, not the owner
        rows = [a for a in volume.attachments.list(admin, {"volume_id": volume_id}, True)
                if a.attach_status == "attached" and a.instance_uuid]
        if not rows:
            raise errors.ComputeInvalid(f"No volume Block Device Mapping with id {volume_id}.")
        if len(rows) > 1:
            raise errors.ComputeInvalid(f"Block Device Mapping {volume_id} is a multi-attach volume and is not "
                                        f"supported for this operation.")
        try:
            server = self.compute.servers.get(admin, rows[0].instance_uuid)
        except NotFound:
            raise errors.ComputeInvalid(f"No volume Block Device Mapping with id {volume_id}.") from None
        if not server.host:
            raise errors.ComputeInvalid(f"Instance {server.uuid} is not ready: it has no host.")
        return server

    def _volume_or(self, ctx, volume_id: str, error):
        from overcast.common.errors import NotFound

        try:
            return self._service().volumes.get(ctx, volume_id)
        except NotFound:
            raise error(f"Volume {volume_id} could not be found.") from None

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
        """Check a server's block_device_mapping_v2 (400s as Nova): known source and
        destination types in every mapping, the volumes, images and snapshots they name,
        and a boot volume (boot_index 0) that is bootable."""
        from overcast.common.errors import NotFound

        for bdm in mappings:
            if not isinstance(bdm, dict):
                raise errors.ComputeInvalid("Block Device Mapping is Invalid: a mapping must be an object.")
            source, destination = bdm.get("source_type"), bdm.get("destination_type", "volume")
            for field, value, allowed in (("source_type", source, SOURCES), ("destination_type", destination,
                                                                               DESTINATIONS)):
                if value not in allowed:  # Nova's request schema: an enum on both
                    raise errors.ComputeInvalid(f"Invalid input for field/attribute {field}. Value: {value}. "
                                                f"{value!r} is not one of {list(allowed)}")
            if destination != "volume":
                continue
            volume = self._service()
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
                    if str(bdm.get("boot_index")) == "0" and not found.bootable:
                        raise errors.ComputeInvalid(f"Block Device {found.id} is not bootable.")
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
