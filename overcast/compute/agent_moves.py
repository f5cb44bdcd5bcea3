"""Agent operations that move an instance to another host (see service/moves.py).

The operation runs on one agent and calls the other host's agent over the bus for its
half, as Nova's compute managers call each other: a cold move runs on the source
(``migrate_disk_and_power_off`` here, then ``finish_migration`` there); its revert on the
destination (``destroy`` here, then ``finish_revert_migration`` on the source); its
confirm on the source; a live migration on the source (``pre_live_migration`` there,
``live_migration`` here, ``post_live_migration_at_destination`` there, then the source
copy goes). The destination's VIFs are plugged by the destination's network agent.

A live migration's record goes ``queued`` (the API) -> ``preparing`` (the destination gets
ready) -> ``running`` (the driver copies; ``running (post-copy)`` once a
forced one switched to post-copy) -> ``completed``, ``failed`` or ``cancelled``.
``live_migration_abort`` and ``live_migration_force_complete`` reach the source agent while
the operation holds the instance's lock, so they take no lock: an abort before the copy
starts is noted and honoured once the destination is ready; during the copy the driver
cancels it (MigrationCancelled), the destination is rolled back and the guest stays here.
"""

from __future__ import annotations

import asyncio
import logging

from overcast.compute import power_state as ps
from overcast.compute import states
from overcast.compute.agent_ops import Op, _error_state, _plugged, _power
from overcast.compute.drivers.errors import MigrationCancelled

log = logging.getLogger("overcast.compute.agent")
CONDUCTOR = "compute-conductor"


def _at(host: str) -> str:
    return f"compute.{host}"


def migrate(agent, payload):
    """Source of a cold migration or a resize to another host."""
    uuid, dest, power_on = payload["uuid"], payload["dest"], payload["power_on"]
    data = agent.driver.migrate_disk_and_power_off(uuid, dest)
    try:
        power = agent.call_sync(_at(dest), "finish_migration", {"uuid": uuid, "spec": payload["new_spec"],
                                                                "migrate_data": data, "power_on": power_on})
    except Exception:  # the destination could not take it: the guest runs here again
        agent.driver.finish_revert_migration(uuid, power_on)
        raise
    values = {"vm_state": states.RESIZED, "task_state": None, "power_state": power, "host": dest,
              "node": payload["dest_node"], **payload["on_success"]}
    return {"values": values, "after": "resized"}


def confirm(agent, payload):
    """Source, on confirmResize: the kept copy goes; the server is as the destination has it."""
    agent.driver.confirm_migration(payload["uuid"])
    running = payload.get("power_state") == ps.RUNNING
    values = {"vm_state": states.ACTIVE if running else states.STOPPED, "task_state": None, "old_flavor": None}
    return {"values": values, "after": "confirm_resize"}


def revert(agent, payload):
    """Destination, on revertResize: drop this copy; the source powers its own back on."""
    uuid, power_on = payload["uuid"], payload["power_on"]
    agent.driver.destroy(uuid)
    power = agent.call_sync(_at(payload["source"]), "finish_revert_migration", {"uuid": uuid, "power_on": power_on})
    values = {"vm_state": states.ACTIVE if power_on else states.STOPPED, "task_state": None, "power_state": power,
              "host": payload["source"], "node": payload["source_node"], **payload["on_success"]}
    return {"values": values, "after": "revert_resize"}


def _migration_status(agent, uuid: str, status: str) -> None:
    """A call, not a cast: the status must land before the operation's final report."""
    agent.call_sync(CONDUCTOR, "set_migration_status", {"uuid": uuid, "status": status}, timeout=30)


def post_copy(agent, uuid: str) -> None:
    """The driver switched ``uuid``'s live migration to post-copy (Nova's status for it)."""
    _migration_status(agent, uuid, "running (post-copy)")


def live_migrate(agent, payload):
    """Source of a live migration: the guest runs throughout, here and then there."""
    uuid, dest, paused = payload["uuid"], payload["dest"], payload.get("paused", False)
    try:
        _migration_status(agent, uuid, "preparing")
        source_data = agent.driver.live_migration_source_data(uuid)
        data = agent.call_sync(_at(dest), "pre_live_migration",
                               {"uuid": uuid, "spec": payload["spec"], "paused": paused, "source_data": source_data})
        try:
            if uuid in agent.live_aborts:
                raise MigrationCancelled(uuid=uuid)
            _migration_status(agent, uuid, "running")
            agent.driver.live_migration(uuid, dest, data)
            power = agent.call_sync(_at(dest), "post_live_migration_at_destination", {"uuid": uuid, "paused": paused})
        except Exception:
            agent.call_sync(_at(dest), "rollback_live_migration_at_destination", {"uuid": uuid})
            raise
    except MigrationCancelled:  # asked for: no fault, the server runs here as before
        return {"values": {"task_state": None, "power_state": _power(agent, uuid)}, "after": "live_cancelled"}
    finally:
        agent.live_aborts.discard(uuid)
    agent.driver.destroy(uuid)  # the source copy, now stale
    return {"values": {"task_state": None, "power_state": power, "host": dest, "node": payload["dest_node"]},
            "after": "live_migrated"}


OPS = {
    "migrate_instance": Op(migrate, "compute_resize_instance", "resize", after_failure="revert_claim"),
    "confirm_migration": Op(confirm, "compute_confirm_resize", "resize.confirm"),
    "revert_migration": Op(revert, "compute_revert_resize", "resize.revert", _error_state),
    "live_migrate_instance": Op(live_migrate, "compute_live_migration", "live_migration",
                                after_failure="live_failed"),
}


# -- the other host's half: bus calls answered by the agent there ---------------------------

def handlers(agent) -> dict:
    def threaded(work):
        async def handle(payload: dict):
            async with agent.lock(payload["uuid"]):
                return await asyncio.to_thread(work, payload)

        return handle

    def finish_migration(payload):
        spec = _plugged(agent, payload)
        agent.driver.finish_migration(spec, payload.get("migrate_data") or {}, payload["power_on"])
        return _power(agent, spec.uuid)

    def finish_revert_migration(payload):
        agent.driver.finish_revert_migration(payload["uuid"], payload["power_on"])
        return _power(agent, payload["uuid"])

    def pre_live_migration(payload):
        return agent.driver.pre_live_migration(_plugged(agent, payload), payload.get("paused", False),
                                               payload.get("source_data"))

    def post_live_migration(payload):
        agent.driver.post_live_migration_at_destination(payload["uuid"], payload.get("paused", False))
        return _power(agent, payload["uuid"])

    def rollback_live_migration(payload):
        agent.driver.rollback_live_migration_at_destination(payload["uuid"])

    async def read_file(payload):  # no lock: the move being served holds it
        import base64

        data = await asyncio.to_thread(agent.driver.read_migration_file, payload["uuid"], payload["name"],
                                       int(payload.get("offset", 0)), int(payload.get("length", 0)))
        return {"data": base64.b64encode(data).decode()}

    async def abort(payload):  # no lock: live_migrate holds it while it runs
        agent.live_aborts.add(payload["uuid"])
        await asyncio.to_thread(agent.driver.live_migration_abort, payload["uuid"])

    async def force_complete(payload):
        await asyncio.to_thread(agent.driver.live_migration_force_complete, payload["uuid"])

    return {"finish_migration": threaded(finish_migration),
            "finish_revert_migration": threaded(finish_revert_migration),
            "pre_live_migration": threaded(pre_live_migration),
            "post_live_migration_at_destination": threaded(post_live_migration),
            "rollback_live_migration_at_destination": threaded(rollback_live_migration),
            "read_migration_file": read_file,
            "live_migration_abort": abort, "live_migration_force_complete": force_complete}
