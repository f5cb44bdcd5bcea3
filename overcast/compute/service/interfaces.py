"""Interface hot-plug (os-interface): a port made or taken over for a running server,
plugged on its host and handed to the guest; and the reverse. Nova answers both once
the host is done, so these call the agent and wait."""

from __future__ import annotations

import asyncio
import logging

from overcast.compute import errors, states

log = logging.getLogger("overcast.compute.interfaces")
ATTACH_TIMEOUT = 60.0  # seconds a host may take to plug and hot-add one interface
PLUGGABLE = (states.ACTIVE, states.PAUSED, states.STOPPED)


class Interfaces:
    def __init__(self, compute):
        self.compute = compute

    def _ready(self, ctx, uuid: str, action: str):
        compute = self.compute
        row = compute.servers.get(ctx, uuid)
        compute.actions.check_lock(ctx, row)
        if row.vm_state not in PLUGGABLE or row.task_state is not None or not row.host:
            raise errors.InstanceInvalidState(uuid, action, "vm_state", row.vm_state)
        with compute.db.session() as session:
            if not compute.actions.host_can(session, row.host, "supports_attach_interface"):
                raise errors.ComputeConflict(f"Cannot '{action}' instance {uuid}: the hypervisor of host "
                                             f"{row.host} does not support it.")
            compute.actions.record(session, ctx, uuid, action)
        return row

    def record(self, ctx, uuid: str, action: str) -> None:
        with self.compute.db.session() as session:
            self.compute.actions.record(session, ctx, uuid, action)

    async def attach(self, ctx, uuid: str, network_id: str | None, port_id: str | None,
                     fixed_ips: list | None) -> dict:
        network = self.compute.network_api
        if not network.enabled:
            raise errors.ComputeInvalid("Network service is not available.")
        row = await asyncio.to_thread(self._ready, ctx, uuid, "attach_interface")
        port, made = await asyncio.to_thread(network.attach, ctx, row, row.host, network_id, port_id, fixed_ips)
        vif = network.vif(port)
        try:
            await self.compute.bus.call(f"compute.{row.host}", "attach_interface", {"uuid": uuid, "vif": vif},
                                        timeout=ATTACH_TIMEOUT)
        except Exception as error:
            log.warning("attaching port %s to %s failed: %s", port["id"], uuid, error)
            await asyncio.to_thread(network.detach, row, port["id"], made)
            raise errors.ComputeInvalid(f"Failed to attach network adapter device to {uuid}") from None
        if not made:
            await asyncio.to_thread(self._remember_given, uuid, port["id"])
        return await asyncio.to_thread(network.network.ports.get, network.admin, port["id"])

    def _remember_given(self, uuid: str, port_id: str) -> None:
        row = self.compute.servers.get(self.compute.network_api.admin, uuid)
        meta = dict(row.system_metadata or {})
        plan = dict(meta.get("network_plan") or {"nics": [], "security_groups": []})
        plan["given_ports"] = list(dict.fromkeys([*plan.get("given_ports", []), port_id]))
        meta["network_plan"] = plan
        self.compute.progress.apply(uuid, {"system_metadata": meta}, check_task=False)

    async def detach(self, ctx, uuid: str, port_id: str) -> None:
        network = self.compute.network_api
        row = await asyncio.to_thread(self._ready, ctx, uuid, "detach_interface")
        ports = await asyncio.to_thread(network.network.ports.list_by_device, uuid) if network.enabled else []
        port = next((p for p in ports if p["id"] == port_id), None)
        if port is None:
            raise errors.ComputeNotFound(f"Port {port_id} is not attached")
        await self.compute.bus.call(f"compute.{row.host}", "detach_interface",
                                    {"uuid": uuid, "vif": network.vif(port)}, timeout=ATTACH_TIMEOUT)
        given = set((row.system_metadata or {}).get("network_plan", {}).get("given_ports", []))
        await asyncio.to_thread(network.detach, row, port_id, port_id not in given)
