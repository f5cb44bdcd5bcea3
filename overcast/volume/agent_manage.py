"""The volume agent's manage and unmanage handlers: list what the backend holds that the
cloud does not manage, take one over as a volume or snapshot, and let one go (its data
stays on the backend)."""

from __future__ import annotations

import asyncio


def handlers(agent) -> dict:
    driver = agent.driver

    async def list_manageable_volumes(payload: dict) -> list[dict]:
        return await asyncio.to_thread(driver.manageable_volumes, set(payload.get("managed") or ()))

    async def list_manageable_snapshots(payload: dict) -> list[dict]:
        return await asyncio.to_thread(driver.manageable_snapshots, set(payload.get("managed") or ()))

    async def manage_existing(payload: dict) -> None:
        volume_id = payload["id"]
        async with agent._lock(volume_id):
            try:
                size = await asyncio.to_thread(driver.manage_existing, volume_id, payload["ref"])
            except Exception as error:  # a bad reference: the volume record shows why
                await agent._report("volume_update", volume_id, {"status": "error_managing",
                                                                 "error": str(error) or type(error).__name__})
                return
            await agent._report("volume_update", volume_id, {"status": "available", "size": size, "error": None})

    async def unmanage_volume(payload: dict) -> None:
        volume_id = payload["id"]
        async with agent._lock(volume_id):
            await agent._run("volume_update", volume_id, lambda: driver.unmanage(volume_id), {}, "error",
                             deleted=True)
        agent._locks.pop(volume_id, None)

    async def manage_existing_snapshot(payload: dict) -> None:
        snapshot_id, volume_id = payload["id"], payload["volume_id"]
        async with agent._lock(volume_id):
            try:
                size = await asyncio.to_thread(driver.manage_existing_snapshot, snapshot_id, volume_id,
                                               payload["ref"])
            except Exception as error:
                await agent._report("snapshot_update", snapshot_id, {"status": "error",
                                                                     "error": str(error) or type(error).__name__})
                return
            await agent._report("snapshot_update", snapshot_id, {"status": "available", "progress": "100%",
                                                                 "size": size})

    async def unmanage_snapshot(payload: dict) -> None:
        snapshot_id = payload["id"]
        async with agent._lock(payload.get("volume_id", snapshot_id)):
            await agent._run("snapshot_update", snapshot_id, lambda: driver.unmanage_snapshot(snapshot_id), {},
                             "error", deleted=True)

    return {"list_manageable_volumes": list_manageable_volumes, "list_manageable_snapshots": list_manageable_snapshots,
            "manage_existing": manage_existing, "unmanage_volume": unmanage_volume,
            "manage_existing_snapshot": manage_existing_snapshot, "unmanage_snapshot": unmanage_snapshot}
