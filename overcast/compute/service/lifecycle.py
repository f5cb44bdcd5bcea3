"""The async side of server requests: write the rows (in a thread), then cast the work to
the conductor or to the server's host. The API awaits these; nothing here waits for a
guest."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from overcast.common.api.context import RequestContext
from overcast.common.db import utcnow
from overcast.common.heartbeats import DOWN_AFTER, ServiceRecord
from overcast.compute import errors, states
from overcast.compute.conductor import TOPIC as CONDUCTOR
from overcast.compute.notifications import notify
from overcast.compute.scheduler import COMPUTE_BINARY, RequestSpec
from overcast.compute.service.moves import Moves
from overcast.compute.service.server_actions import TRANSITIONS
from overcast.compute.service.volume_backed import is_volume_backed
from overcast.compute.service.servers import flavor_copy, image_columns

IMAGE_PROPS_KEPT = ("hw_disk_bus", "hw_vif_model", "hw_machine_type", "os_type", "os_distro", "architecture")


class Lifecycle:
    def __init__(self, compute):
        self.compute = compute
        self.moves = Moves(compute, self)

    @property
    def bus(self):
        return self.compute.bus

    async def _cast_host(self, row, op: str, payload: dict) -> None:
        await self.bus.cast(f"compute.{row.host}", op, {"uuid": row.uuid, **payload})

    def host_up(self, host: str) -> bool:
        with self.compute.db.session() as session:
            seen = session.scalar(select(ServiceRecord.last_seen).where(ServiceRecord.binary == COMPUTE_BINARY,
                                                                        ServiceRecord.host == host))
        return seen is not None and (utcnow() - seen).total_seconds() < DOWN_AFTER

    # -- create and delete ------------------------------------------------------------

    async def create(self, ctx, req):
        rows, reservation = await asyncio.to_thread(self.compute.servers.create, ctx, req)
        for row in rows:
            await notify(self.bus, "create.start", row)
        await self.bus.cast(CONDUCTOR, "build_instances", {"uuids": [r.uuid for r in rows],
                                                           "request_id": ctx.request_id})
        return rows, reservation

    async def delete(self, ctx, uuid: str) -> None:
        row = await asyncio.to_thread(self.compute.actions.begin_delete, ctx, uuid)
        if row is None:
            return
        if row.host and await asyncio.to_thread(self.host_up, row.host):
            await self._cast_host(row, "terminate_instance", {"request_id": ctx.request_id, "task_state": "deleting"})
        else:  # never placed, or its host is down: Nova's local delete
            gone = await asyncio.to_thread(self.compute.servers.mark_deleted, uuid)
            if gone is not None:
                await notify(self.bus, "delete.end", gone)

    # -- actions ------------------------------------------------------------------------

    async def act(self, ctx, uuid: str, name: str, extra: dict | None = None, values: dict | None = None,
                  with_spec: bool = False, host: str | None = None, op: str | None = None):
        """Begin transition ``name`` and cast its operation (or ``op``) to the server's
        host (or ``host``: a move's source)."""
        row = await asyncio.to_thread(self.compute.actions.begin, ctx, uuid, name, values)
        await notify(self.bus, "update", row)
        move = TRANSITIONS[name]
        if move.op is not None:
            payload = {"request_id": ctx.request_id, "task_state": move.task_state, **(extra or {})}
            if with_spec:
                full = await asyncio.to_thread(self.compute.servers.show, ctx, uuid)
                full.net_vifs = await asyncio.to_thread(self.compute.network_api.vifs, uuid)
                payload["spec"] = self.compute.spec_payload(full)
            await self.bus.cast(f"compute.{host or row.host}", op or move.op, {"uuid": row.uuid, **payload})
        return row

    async def reboot(self, ctx, uuid: str, hard: bool):
        return await self.act(ctx, uuid, "reboot_hard" if hard else "reboot_soft", {"hard": hard}, with_spec=hard)

    async def rebuild(self, ctx, uuid: str, image_ref: str, values: dict, reimage: bool = False):
        """``reimage`` (2.93+): a volume-backed server's root volume gets the image."""
        current = await asyncio.to_thread(self.compute.servers.get, ctx, uuid)
        image = await asyncio.to_thread(self.compute.servers.image_for, ctx, image_ref, _Flavor(current.flavor))
        stopped = current.vm_state == states.STOPPED
        if is_volume_backed(current):  # it boots from its volume, reimaged from 2.93
            found = await asyncio.to_thread(self.compute.volume_backed.check_rebuild, ctx, current, image, reimage)
            extra = {"stopped": stopped, **({"reimage": found} if found else {})}
            return await self.act(ctx, uuid, "rebuild", extra, {**values, **image_columns(image)}, with_spec=True)
        return await self.act(ctx, uuid, "rebuild", {"stopped": stopped},
                              {**values, "image_ref": image.id, **image_columns(image)}, with_spec=True)

    async def resize(self, ctx, uuid: str, flavor_ref: str):
        compute = self.compute
        row = await asyncio.to_thread(compute.servers.get, ctx, uuid)
        flavor = await asyncio.to_thread(compute.servers.flavor_for, ctx, flavor_ref)
        if flavor.flavorid == row.flavor_id:
            raise errors.ComputeInvalid("When resizing, instances must change flavor!")
        if flavor.root_gb < row.flavor["root_gb"] and row.flavor["root_gb"]:
            raise errors.ComputeInvalid("Resize error: Unable to resize disk down.")
        extra_cores, extra_ram = flavor.vcpus - row.vcpus, flavor.memory_mb - row.memory_mb
        if extra_cores > 0 or extra_ram > 0:
            await asyncio.to_thread(self._check_resize_quota, row.project_id, max(extra_cores, 0), max(extra_ram, 0))
        spec = RequestSpec(consumer=f"resize-{uuid}", vcpus=flavor.vcpus, memory_mb=flavor.memory_mb,
                           disk_gb=flavor.root_gb + flavor.ephemeral_gb)
        node_id = await asyncio.to_thread(self._node_id, row.host)
        if not compute.config.compute.allow_resize_to_same_host or node_id is None or not await asyncio.to_thread(
                compute.scheduler.claim, node_id, spec, "resize"):
            if row.task_state is None and await asyncio.to_thread(self._elsewhere_possible, row.host):
                return await self.moves.resize_elsewhere(ctx, row, flavor)
            raise errors.ComputeInvalid("No valid host was found. No host has room for the new flavor.")
        new = flavor_copy(flavor)
        on_success = {"flavor": new, "old_flavor": row.flavor, "flavor_id": flavor.flavorid, "vcpus": flavor.vcpus,
                      "memory_mb": flavor.memory_mb, "root_gb": flavor.root_gb, "ephemeral_gb": flavor.ephemeral_gb}
        full = await asyncio.to_thread(compute.servers.show, ctx, uuid)
        new_spec = compute.spec_payload(full)
        new_spec.update(vcpus=flavor.vcpus, memory_mb=flavor.memory_mb, root_gb=flavor.root_gb,
                        ephemeral_gb=flavor.ephemeral_gb, swap_mb=flavor.swap)
        # recorded before the cast: the agent's report may come back before act returns
        migration = await asyncio.to_thread(compute.migrations.record, uuid, row.project_id, row.user_id, row.host,
                                            row.host, row.flavor, new, "resize", "migrating")
        try:
            return await self.act(ctx, uuid, "resize", {"new_spec": new_spec, "on_success": on_success})
        except Exception:
            await asyncio.to_thread(compute.scheduler.release, f"resize-{uuid}")
            await asyncio.to_thread(compute.migrations.forget, migration)
            raise

    def _check_resize_quota(self, project_id: str, cores: int, ram: int) -> None:
        quotas = self.compute.quotas
        limits, used = quotas.limits(project_id), quotas.usage(project_id)
        for name, extra in (("cores", cores), ("ram", ram)):
            if extra and limits[name] >= 0 and used[name] + extra > limits[name]:
                raise errors.QuotaExceeded(f"Quota exceeded for {name}: Requested {extra}, but already used "
                                           f"{used[name]} of {limits[name]} {name}", over=[name])

    def _node_id(self, host: str | None) -> int | None:
        from overcast.compute.models import ComputeNode

        with self.compute.db.session() as session:
            return session.scalar(select(ComputeNode.id).where(ComputeNode.host == host))

    def _elsewhere_possible(self, host: str | None) -> bool:
        """Whether another host could take a resize (one with the same-host path refused)."""
        return any(h.host != host and h.up and h.enabled for h in self.compute.scheduler.host_states())

    async def confirm_resize(self, ctx, uuid: str):
        moved = await asyncio.to_thread(self.moves.pending_move, uuid)
        if moved is not None:
            return await self.moves.confirm(ctx, uuid, moved)
        return await self.act(ctx, uuid, "confirm_resize")

    async def revert_resize(self, ctx, uuid: str):
        row = await asyncio.to_thread(self.compute.servers.get, ctx, uuid)
        old = row.old_flavor or row.flavor
        on_success = {"flavor": old, "old_flavor": None, "flavor_id": old["flavorid"], "vcpus": old["vcpus"],
                      "memory_mb": old["memory_mb"], "root_gb": old["root_gb"], "ephemeral_gb": old["ephemeral_gb"]}
        moved = await asyncio.to_thread(self.moves.pending_move, uuid)
        if moved is not None:
            return await self.moves.revert(ctx, uuid, moved, on_success)
        return await self.act(ctx, uuid, "revert_resize", {"on_success": on_success})

    async def snapshot_image(self, ctx, row, name: str, metadata: dict) -> str:
        """The image record a snapshot fills: queued, owned by the server's project."""
        fields = await self._snapshot_fields(ctx, row, name, metadata)
        image = await asyncio.to_thread(self.compute.image.images.create, ctx, fields)
        return image.id

    async def _snapshot_fields(self, ctx, row, name: str, metadata: dict) -> dict:
        base = None
        if row.image_ref:
            try:
                base = await asyncio.to_thread(self.compute.image.images.get, ctx, row.image_ref)
            except Exception:  # the base image may be gone; the snapshot does not need it
                base = None
        fields = {"name": name, "disk_format": "qcow2", "container_format": "bare", "visibility": "private",
                  "min_disk": row.root_gb, "min_ram": base.min_ram if base else 0,
                  "image_type": "snapshot", "instance_uuid": row.uuid, "base_image_ref": row.image_ref or "",
                  "owner_project_name": None, "user_id": ctx.user_id}
        if base is not None:
            fields.update({k: v for k, v in (base.properties or {}).items() if k in IMAGE_PROPS_KEPT})
        fields.update(metadata)
        return {k: v for k, v in fields.items() if v is not None}

    async def create_image(self, ctx, uuid: str, name: str, metadata: dict, action: str = "createImage") -> str:
        row = await asyncio.to_thread(self.compute.servers.get, ctx, uuid)
        if row.vm_state not in TRANSITIONS["create_image"].vm_states:
            raise errors.InstanceInvalidState(uuid, action, "vm_state", row.vm_state)
        if is_volume_backed(row):  # snapshots of its volumes, no disk copied (volume_backed)
            if action == "createBackup":
                raise errors.ComputeInvalid("It's not supported to backup volume backed instance.")
            if row.task_state is not None:
                raise errors.InstanceInvalidState(uuid, action, "task_state", row.task_state)
            fields = await self._snapshot_fields(ctx, row, name, {})
            return await self.compute.volume_backed.snapshot(ctx, row, name, metadata, fields)
        image_id = await self.snapshot_image(ctx, row, name, metadata)
        await self.act(ctx, uuid, "create_image", {"image_id": image_id})
        return image_id

    async def create_backup(self, ctx, uuid: str, name: str, backup_type: str, rotation: int,
                            metadata: dict) -> str:
        """A snapshot tagged as a backup; only the newest ``rotation`` backups of this type stay."""
        props = {**metadata, "image_type": "backup", "backup_type": backup_type}
        image_id = await self.create_image(ctx, uuid, name, props, action="createBackup")
        await asyncio.to_thread(self._rotate_backups, ctx, uuid, backup_type, rotation)
        return image_id

    def _rotate_backups(self, ctx, uuid: str, backup_type: str, rotation: int) -> None:
        image = self.compute.image
        filters = {"properties": {"image_type": "backup", "backup_type": backup_type, "instance_uuid": uuid}}
        backups = image.images.list(ctx, filters, [("created_at", "desc")], 1000, None)
        for old in backups[rotation:]:
            image.data.delete_data(*image.images.delete(ctx, old.id))

    def delete_image(self, ctx, image_id: str) -> None:
        image = self.compute.image
        try:
            image.data.delete_data(*image.images.delete(ctx, image_id))
        except Exception:  # already gone, or protected by its owner: nothing to clean
            pass

    async def shelve(self, ctx, uuid: str) -> None:
        row = await asyncio.to_thread(self.compute.servers.get, ctx, uuid)
        if row.vm_state not in TRANSITIONS["shelve"].vm_states:
            raise errors.InstanceInvalidState(uuid, "shelve", "vm_state", row.vm_state)
        image_id = await self.snapshot_image(ctx, row, f"{row.display_name}-shelved", {})
        meta = {**(row.system_metadata or {}), "shelved_image_id": image_id, "shelved_at": utcnow().isoformat()}
        await self.act(ctx, uuid, "shelve", {"image_id": image_id}, {"system_metadata": meta})

    async def unshelve(self, ctx, uuid: str, zone: str | None = None, host: str | None = None) -> None:
        """Back from the shelf; ``host`` (2.91) names where, for an offloaded server only."""
        if host is not None:
            row = await asyncio.to_thread(self.compute.servers.get, ctx, uuid)
            if row.vm_state != states.SHELVED_OFFLOADED:
                raise errors.ComputeConflict(f"The server {uuid} must be offloaded to be unshelved to a host.")
            if await asyncio.to_thread(self._node_id, host) is None:
                raise errors.ComputeInvalid(f"Compute host {host} could not be found.")
        values = {"requested_zone": zone} if zone else None
        row = await asyncio.to_thread(self.compute.actions.begin, ctx, uuid, "unshelve", values)
        await self.bus.cast(CONDUCTOR, "unshelve_instance", {"uuid": row.uuid, "request_id": ctx.request_id,
                                                            "host": host})

    async def console_output(self, ctx, uuid: str, length: int | None) -> str:
        row = await asyncio.to_thread(self.compute.servers.get, ctx, uuid)
        if not row.host or row.vm_state == states.BUILDING:
            raise errors.ComputeConflict(f"Instance {uuid} is not ready yet")
        output = await self.bus.call(f"compute.{row.host}", "get_console_output", {"uuid": uuid, "length": None},
                                     timeout=30)
        if length is not None:
            output = "\n".join(output.split("\n")[-length:]) if length else ""
        return output

    async def diagnostics(self, ctx, uuid: str) -> dict:
        row = await asyncio.to_thread(self.compute.servers.get, ctx, uuid)
        if not row.host or row.vm_state == states.BUILDING:
            raise errors.ComputeConflict(f"Instance {uuid} is not ready yet")
        return await self.bus.call(f"compute.{row.host}", "get_diagnostics", {"uuid": uuid}, timeout=30)

    async def external_events(self, events: list[dict]) -> list[dict]:
        """Deliver each event to its server's host; each gets Nova's per-event code."""
        results = []
        for event in events:
            try:
                row = await asyncio.to_thread(self.compute.servers.get, _ADMIN, event["server_uuid"])
            except errors.ServerNotFound:
                results.append({**event, "code": 404, "status": "failed"})
                continue
            if not row.host:
                results.append({**event, "code": 422, "status": "failed"})
                continue
            await self._cast_host(row, "external_instance_event", {"name": event["name"], "tag": event.get("tag"),
                                                                   "status": event.get("status", "completed")})
            results.append({**event, "code": 200, "status": event.get("status", "completed")})
        return results

    async def migrate(self, ctx, uuid: str, host: str | None = None) -> None:
        await self.moves.migrate(ctx, uuid, host)

    async def live_migrate(self, ctx, uuid: str, host: str | None = None, force: bool = False) -> None:
        await self.moves.live_migrate(ctx, uuid, host, force)


_ADMIN = RequestContext(roles=["admin"])


class _Flavor:
    """An instance's embedded flavor, read like a Flavor row (for the image size checks)."""

    def __init__(self, data: dict):
        self.memory_mb, self.root_gb = data["memory_mb"], data["root_gb"]
