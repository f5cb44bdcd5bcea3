"""The power-state sync (Nova's ``_sync_power_states``): every ``interval`` seconds the
agent asks the driver how each of its idle guests really is. A guest that stopped on
its own (powered off from inside, its QEMU killed or crashed) becomes SHUTOFF, with a
``stop`` instance action whose event says so; a power state that merely drifted is
written back. Guests with an operation in flight are left alone (their operation
reports them), and the write only happens while the server is still idle.
"""

from __future__ import annotations

import asyncio
import logging
import uuid as uuids

from overcast.common.db import utcnow
from overcast.compute import power_state as ps
from overcast.compute import states
from overcast.compute.drivers.errors import InstanceNotFound

log = logging.getLogger("overcast.compute.agent")
GONE = (ps.SHUTDOWN, ps.CRASHED, ps.NOSTATE)


async def sync_forever(agent, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            await sync_once(agent)
        except Exception:  # the broker may be restarting; the next round tries again
            log.warning("power-state sync on %s failed", agent.host, exc_info=True)


async def sync_once(agent) -> int:
    """One round; how many servers it changed."""
    from overcast.compute.agent import CONDUCTOR

    known = await agent.bus.call(CONDUCTOR, "host_instances", {"host": agent.host}, timeout=30)
    changed = 0
    for inst in known:
        lock = agent._lock(inst["uuid"])
        if inst["task_state"] is not None or inst["vm_state"] not in (states.ACTIVE, states.STOPPED) or lock.locked():
            continue
        async with lock:
            try:
                power = (await asyncio.to_thread(agent.driver.get_info, inst["uuid"])).power_state
            except InstanceNotFound:
                power = ps.NOSTATE
            report = _report(inst, power, agent.host)
            if report:
                await agent.bus.cast(CONDUCTOR, "instance_update", report)
                changed += 1
    return changed


def _report(inst: dict, power: int, host: str) -> dict | None:
    if inst["vm_state"] == states.ACTIVE and power in GONE:
        log.info("server %s stopped outside overcast (power state %s): now SHUTOFF", inst["uuid"], ps.name(power))
        request_id, now = f"req-{uuids.uuid4()}", utcnow().isoformat()
        event = {"name": "compute_stop_instance", "request_id": request_id, "host": host, "start": now,
                 "finish": now, "result": "Success", "details": "the guest stopped on its own (power-state sync)"}
        return {"uuid": inst["uuid"], "expected_task_state": None, "record_action": "stop", "event": event,
                "values": {"vm_state": states.STOPPED, "power_state": power}}
    if power != inst["power_state"] and not (inst["vm_state"] == states.STOPPED and power == ps.RUNNING):
        return {"uuid": inst["uuid"], "expected_task_state": None, "values": {"power_state": power}}
    return None
