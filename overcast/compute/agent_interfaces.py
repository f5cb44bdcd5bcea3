"""The compute agent's interface hot-plug: a port plugged on this host by the network
agent, then handed to the running guest (``attach_interface``), or taken out of it
(``detach_interface``). Both are calls: the API answers once the guest has it."""

from __future__ import annotations

import asyncio

from overcast.compute.drivers.errors import InstanceNotFound


def handlers(agent) -> dict:
    async def attach_interface(payload: dict) -> dict:
        async with agent._lock(payload["uuid"]):
            return await asyncio.to_thread(_attach, agent, payload)

    async def detach_interface(payload: dict) -> None:
        async with agent._lock(payload["uuid"]):
            await asyncio.to_thread(_detach, agent, payload)

    return {"attach_interface": attach_interface, "detach_interface": detach_interface}


def _attach(agent, payload: dict) -> dict:
    (vif,) = agent.plug_vifs([payload["vif"]])
    agent.driver.attach_interface(payload["uuid"], vif)
    return vif


def _detach(agent, payload: dict) -> None:
    try:
        agent.driver.detach_interface(payload["uuid"], payload["vif"])
    except InstanceNotFound:  # the guest is gone: nothing holds the interface
        pass
