"""Moving a server to another host: cold migration, resize to another host and live
migration, as Nova does them.

The API side picks the destination (the scheduler, or the host asked for, checked),
claims the server's flavor there under the consumer ``resize-<uuid>`` (the move's
claim), records the migration and casts one operation to the source host; the source
agent calls the destination agent itself (agent_moves.py). The conductor finishes the
bookkeeping from the agent's report: the instance's host and ports follow it, and the
source's claim goes when the move is confirmed (cold) or done (live).

A cold move ends in VERIFY_RESIZE like a resize: confirmResize runs on the source (drop
the copy kept there), revertResize on the destination (drop the new copy, then the
source powers its copy back on).
"""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from overcast.common.errors import NotFound
from overcast.compute import errors, states
from overcast.compute import power_state as ps
from overcast.compute.models import ComputeNode, Migration
from overcast.compute.scheduler import NoValidHost, RequestSpec
from overcast.compute.service.servers import flavor_copy


def move_claim(uuid: str) -> str:
    """The scheduler consumer a move's destination claim is held under."""
    return f"resize-{uuid}"


class Moves:
    def __init__(self, compute, lifecycle):
        self.compute = compute
        self.lifecycle = lifecycle

    # -- picking and claiming the destination ----------------------------------------------

    def _spec(self, uuid: str, flavor: dict, host: str | None, source: str) -> RequestSpec:
        disk = flavor["root_gb"] + flavor.get("ephemeral_gb", 0) + -(-(flavor.get("swap") or 0) // 1024)
        return RequestSpec(consumer=move_claim(uuid), vcpus=flavor["vcpus"], memory_mb=flavor["memory_mb"],
                           disk_gb=disk, force_host=host, ignore_hosts={source})

    def _node(self, host: str) -> ComputeNode | None:
        with self.compute.db.session() as session:
            return session.scalars(select(ComputeNode).where(ComputeNode.host == host)).first()

    def claim_destination(self, uuid: str, flavor: dict, source: str, host: str | None, live: bool,
                          force: bool = False):
        """Claim ``flavor`` on ``host`` (checked by the scheduler's filters unless
        ``force``) or on the best other host; (host, node) claimed. ComputeInvalid (400)
        when no host fits; ComputeNotFound for an unknown ``host`` of a cold migration
        (a live one answers 400, as Nova does)."""
        kind = "live migration" if live else "cold migrate"
        unable = self._hosts_without("supports_live_migration" if live else "supports_migrate")
        if host is not None:
            node = self._node(host)
            if node is None:
                message = f"Compute host {host} could not be found."
                raise errors.ComputeInvalid(message) if live else errors.ComputeNotFound(message)
            if host == source:
                raise errors.ComputeInvalid(f"Unable to migrate instance ({uuid}) to current host ({source})."
                                            if live else "Cannot migrate to the host where the server exists.")
            if host in unable:
                raise errors.ComputeInvalid(f"The hypervisor of host {host} cannot take the server ({kind}).")
        spec = self._spec(uuid, flavor, host, source)
        spec.ignore_hosts |= unable
        spec.group = self._group(uuid)
        if force and host is not None:
            if not self.compute.scheduler.claim(node.id, spec, "move"):
                raise errors.ComputeInvalid(f"No valid host was found. {host} has no room for the server.")
            return host, node.hypervisor_hostname
        try:
            chosen = self.compute.scheduler.schedule(spec)
        except NoValidHost:
            raise errors.ComputeInvalid(f"No valid host was found. No valid host found for {kind}") from None
        return chosen.host, chosen.node

    def _group(self, uuid: str):
        """The server group policy the destination must keep (the others' hosts), if any."""
        groups = self.compute.server_groups
        group = groups.group_of(uuid)
        if group is None:
            return None
        try:
            return groups.spec(group, exclude=[uuid])
        except NotFound:  # deleted meanwhile
            return None

    def _hosts_without(self, capability: str) -> set[str]:
        """Hosts whose driver said it lacks ``capability`` (they cannot be a destination)."""
        with self.compute.db.session() as session:
            nodes = session.execute(select(ComputeNode.host, ComputeNode.capabilities)).all()
        return {host for host, reported in nodes if not (reported or {}).get(capability, True)}

    async def _release_on_error(self, uuid: str, work):
        try:
            return await work
        except BaseException:
            await asyncio.to_thread(self.compute.scheduler.release, move_claim(uuid))
            raise

    # -- cold migration and resize to another host -------------------------------------------

    async def migrate(self, ctx, uuid: str, host: str | None) -> None:
        """POST {"migrate": ...}: a move to another host, same flavor."""
        compute = self.compute
        row = await asyncio.to_thread(compute.servers.get, ctx, uuid)
        if row.vm_state not in (states.ACTIVE, states.STOPPED) or row.task_state is not None:
            raise errors.InstanceInvalidState(uuid, "migrate", "vm_state", row.vm_state)
        dest, node = await asyncio.to_thread(self.claim_destination, uuid, row.flavor, row.host, host, False)
        await self._release_on_error(uuid, self.cold_move(ctx, row, dest, node, "migrate", row.flavor, {}))

    async def cold_move(self, ctx, row, dest: str, node: str, name: str, flavor: dict, on_success: dict) -> None:
        """Cast the move of ``row`` to ``dest`` (claimed already) with ``flavor``; record it."""
        compute = self.compute
        full = await asyncio.to_thread(compute.servers.show, ctx, row.uuid)
        full.net_vifs = await asyncio.to_thread(compute.network_api.vifs, row.uuid)
        new_spec = compute.spec_payload(full)
        new_spec.update(vcpus=flavor["vcpus"], memory_mb=flavor["memory_mb"], root_gb=flavor["root_gb"],
                        ephemeral_gb=flavor.get("ephemeral_gb", 0), swap_mb=flavor.get("swap", 0))
        extra = {"new_spec": new_spec, "dest": dest, "dest_node": node, "on_success": on_success,
                 "power_on": row.vm_state == states.ACTIVE}
        # recorded before the cast: the agent's report may come back before act returns
        migration = await asyncio.to_thread(compute.migrations.record, row.uuid, row.project_id, row.user_id,
                                            row.host, dest, row.flavor, flavor,
                                            "migration" if name == "migrate" else "resize", "migrating")
        try:
            await self.lifecycle.act(ctx, row.uuid, name, extra)
        except BaseException:
            await asyncio.to_thread(compute.migrations.forget, migration)
            raise

    async def resize_elsewhere(self, ctx, row, flavor) -> None:
        """A resize that leaves its host (``allow_resize_to_same_host`` off, or no room here)."""
        new = flavor_copy(flavor)
        dest, node = await asyncio.to_thread(self.claim_destination, row.uuid, new, row.host, None, False)
        on_success = {"flavor": new, "old_flavor": row.flavor, "flavor_id": flavor.flavorid, "vcpus": flavor.vcpus,
                      "memory_mb": flavor.memory_mb, "root_gb": flavor.root_gb, "ephemeral_gb": flavor.ephemeral_gb}
        await self._release_on_error(row.uuid, self.cold_move(ctx, row, dest, node, "resize_move", new, on_success))

    def pending_move(self, uuid: str) -> Migration | None:
        """The instance's cold move waiting for confirm or revert (status finished), if it
        changed hosts."""
        with self.compute.db.session() as session:
            found = session.scalars(select(Migration).where(Migration.instance_uuid == uuid)
                                    .order_by(Migration.created_at.desc(), Migration.id.desc())).first()
        if found is None or found.status != "finished" or found.source_compute == found.dest_compute:
            return None
        return found

    async def confirm(self, ctx, uuid: str, migration: Migration) -> None:
        """confirmResize of a move: the source drops the copy it kept."""
        row = await asyncio.to_thread(self.compute.servers.get, ctx, uuid)
        await self.lifecycle.act(ctx, uuid, "confirm_resize", {"power_state": row.power_state},
                                 host=migration.source_compute, op="confirm_migration")

    async def revert(self, ctx, uuid: str, migration: Migration, on_success: dict) -> None:
        """revertResize of a move: the destination drops its copy, the source takes over."""
        row = await asyncio.to_thread(self.compute.servers.get, ctx, uuid)
        await self.lifecycle.act(ctx, uuid, "revert_resize",
                                 {"on_success": on_success, "source": migration.source_compute,
                                  "source_node": migration.source_node,
                                  "power_on": row.power_state == ps.RUNNING},  # the move kept it as it was
                                 op="revert_migration")

    # -- live migration ------------------------------------------------------------------------

    async def live_migrate(self, ctx, uuid: str, host: str | None, force: bool = False) -> None:
        """POST {"os-migrateLive": ...}: the guest keeps running while it moves."""
        compute = self.compute
        row = await asyncio.to_thread(compute.servers.get, ctx, uuid)
        if row.vm_state not in (states.ACTIVE, states.PAUSED) or row.task_state is not None:
            raise errors.InstanceInvalidState(uuid, "os-migrateLive", "vm_state", row.vm_state)
        dest, node = await asyncio.to_thread(self.claim_destination, uuid, row.flavor, row.host, host, True, force)

        async def cast():
            full = await asyncio.to_thread(compute.servers.show, ctx, uuid)
            full.net_vifs = await asyncio.to_thread(compute.network_api.vifs, uuid)
            extra = {"spec": compute.spec_payload(full), "dest": dest, "dest_node": node,
                     "paused": row.vm_state == states.PAUSED}
            migration = await asyncio.to_thread(compute.migrations.record, uuid, row.project_id, row.user_id,
                                                row.host, dest, row.flavor, row.flavor, "live-migration", "queued")
            try:
                await self.lifecycle.act(ctx, uuid, "live_migrate", extra)
            except BaseException:
                await asyncio.to_thread(compute.migrations.forget, migration)
                raise
            return migration

        await self._release_on_error(uuid, cast())

    def _note(self, ctx, uuid: str, action: str) -> None:
        with self.compute.db.session() as session:
            self.compute.actions.record(session, ctx, uuid, action)

    async def abort_live(self, ctx, uuid: str, migration: Migration) -> None:
        """DELETE /servers/{id}/migrations/{mid}: the source cancels the copy (or never
        starts it) and rolls the destination back; the migration ends ``cancelled``."""
        await asyncio.to_thread(self._note, ctx, uuid, "live_migration_cancel")
        await self.compute.bus.cast(f"compute.{migration.source_compute}", "live_migration_abort",
                                    {"uuid": uuid, "migration_id": migration.id})

    async def force_complete_live(self, ctx, uuid: str, migration: Migration) -> None:
        """POST .../action {"force_complete": null}: the source pauses the guest so the
        copy converges; it runs again at the destination."""
        await asyncio.to_thread(self._note, ctx, uuid, "live_migration_force_complete")
        await self.compute.bus.cast(f"compute.{migration.source_compute}", "live_migration_force_complete",
                                    {"uuid": uuid, "migration_id": migration.id})
