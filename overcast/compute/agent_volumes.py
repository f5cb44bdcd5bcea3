"""The compute agent's volume operations: connect a reserved attachment through the volume
service, plug it with the hypervisor driver and complete it; unplug and delete it. A guest
that does not release a volume keeps it: the volume goes back to in-use, not available
while QEMU still writes to it.

The agent reaches the volume service on its conductor topic (``volume-conductor``), never
its database. A failed plug deletes the attachment, so the volume goes back to available.
"""

from __future__ import annotations

import asyncio
import logging

from overcast.compute.drivers.errors import HypervisorError, InstanceInvalidState

VOLUME_CONDUCTOR = "volume-conductor"
log = logging.getLogger("overcast.compute.agent")


def handlers(agent) -> dict:
    async def attach_volume(payload: dict) -> None:
        uuid, attachment_id = payload["uuid"], payload["attachment_id"]
        async with agent._lock(uuid):
            try:
                info = await agent.bus.call(VOLUME_CONDUCTOR, "attachment_update",
                                            {"attachment_id": attachment_id,
                                             "connector": {"host": agent.host, "mountpoint": payload.get("device")}},
                                            timeout=120)
                if (info.get("data") or {}).get("encrypted"):  # the key, for a server of the volume's project
                    key = await agent.bus.call(VOLUME_CONDUCTOR, "attachment_encryption",
                                               _key_request(attachment_id, uuid), timeout=30)
                    info = _with_key(info, key)
                device = await asyncio.to_thread(agent.driver.attach_volume, uuid, info, payload.get("device"))
            except Exception as error:  # the volume goes back to available; the server is untouched
                log.warning("attaching volume (attachment %s) to %s failed: %s", attachment_id, uuid, error)
                await agent.bus.cast(VOLUME_CONDUCTOR, "attachment_delete", {"attachment_id": attachment_id})
                return
            await agent.bus.cast(VOLUME_CONDUCTOR, "attachment_complete",
                                 {"attachment_id": attachment_id, "mountpoint": device})

    async def detach_volume(payload: dict) -> None:
        uuid, attachment_id = payload["uuid"], payload["attachment_id"]
        async with agent._lock(uuid):
            try:
                await asyncio.to_thread(agent.driver.detach_volume, uuid, payload.get("connection_info") or {},
                                        payload.get("device"))
            except (HypervisorError, InstanceInvalidState) as error:  # the guest still holds it: it stays in-use
                log.warning("detaching volume (attachment %s) from %s failed: %s", attachment_id, uuid, error)
                await agent.bus.cast(VOLUME_CONDUCTOR, "attachment_roll_detaching", {"attachment_id": attachment_id})
                return
            except Exception as error:  # the guest is gone; the attachment goes all the same
                log.warning("detaching volume (attachment %s) from %s failed: %s", attachment_id, uuid, error)
            await agent.bus.cast(VOLUME_CONDUCTOR, "attachment_delete", {"attachment_id": attachment_id})

    return {"attach_volume": attach_volume, "detach_volume": detach_volume}


def _key_request(attachment_id: str, uuid: str) -> dict:
    return {"attachment_id": attachment_id, "instance_uuid": uuid}


def _with_key(info: dict, key: dict | None) -> dict:
    """The connection info of an encrypted volume with what opens it (the driver seals the
    passphrase at once; it is never stored in clear)."""
    return {**info, "data": {**info["data"], "encryption": key}}


async def volume_extended(agent, uuid: str, volume_id: str) -> None:
    """Cinder extended an attached volume: its new size (asked of the volume service, as
    Nova's compute manager reads the volume) goes to the driver, which tells the guest."""
    async with agent._lock(uuid):
        try:
            found = await agent.bus.call(VOLUME_CONDUCTOR, "attachment_info", {"volume_id": volume_id,
                                                                               "instance_uuid": uuid}, timeout=30)
            if not found:
                return
            await asyncio.to_thread(agent.driver.extend_volume, uuid, found["connection_info"],
                                    int(found["size"]) << 30)
        except Exception as error:  # the volume is extended; the guest sees it at its next start
            log.warning("telling %s that volume %s grew failed: %s", uuid, volume_id, error)


# -- boot from volume (in the build operation's worker thread) ------------------------------


def prepare_boot(agent, payload: dict, spec):
    """The spec with its volumes connected: each ``destination_type: volume`` mapping is
    made ready by the volume service (created from its image, snapshot or nothing, or an
    existing volume), reserved for this server and connected to this host."""
    import dataclasses

    mappings = (payload.get("spec") or {}).get("boot_volumes") or []
    if not mappings:
        return spec, []
    owner = payload["spec"].get("owner") or {}
    devices, attached = list(spec.block_devices), []
    for bdm in mappings:
        ready = agent._call(VOLUME_CONDUCTOR, "boot_volume", {"instance_uuid": spec.uuid, "bdm": bdm,
                                                             "owner": owner, "connector": {"host": agent.host}})
        info = ready["connection_info"]
        if (info.get("data") or {}).get("encrypted"):  # an encrypted boot volume: its key, as for an attach
            info = _with_key(info, agent._call(VOLUME_CONDUCTOR, "attachment_encryption",
                                               _key_request(ready["attachment_id"], spec.uuid)))
        devices.append({"connection_info": info, "device": ready["device"],
                        "boot_index": bdm.get("boot_index")})
        attached.append(ready)
    return dataclasses.replace(spec, block_devices=devices), attached


def complete_boot(agent, attached: list[dict]) -> None:
    for ready in attached:
        agent._call(VOLUME_CONDUCTOR, "attachment_complete", {"attachment_id": ready["attachment_id"],
                                                              "mountpoint": ready["device"]})
