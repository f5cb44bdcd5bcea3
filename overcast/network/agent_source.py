"""The network agent's source over the bus, for an agent on another host (``overcast
agent network``): the methods of :class:`agent_specs.ServiceSource`, each one call on
topic ``network-source`` that the controller serves (:func:`serve`) from its own
ServiceSource. The agent calls its source from worker threads, so each method here
hands its call to the event loop and waits for the answer.
"""

from __future__ import annotations

import asyncio

TOPIC = "network-source"
TIMEOUT = 30.0
METHODS = ("networks", "subnets", "ports", "port", "security_groups", "routers", "floatingips", "dhcp_choice",
           "l3_choice", "agent_sync", "tunnel_peers", "port_status", "bind_port", "create_port", "update_port",
           "delete_port")


async def serve(bus, source) -> None:
    """Answer the agents' reads and writes on the controller, each in a worker thread."""
    def handler(name: str):
        method = getattr(source, name)

        async def handle(payload: dict):
            return await asyncio.to_thread(method, *payload.get("args", []), **payload.get("filters", {}))

        return handle

    await bus.serve(TOPIC, {name: handler(name) for name in METHODS})


def _remote(name: str):
    def call(self, *args, **filters):
        return self.call(name, list(args), filters)

    call.__name__ = name
    return call


class BusSource:
    """ServiceSource's methods, answered by the controller over ``bus``."""

    def __init__(self, bus, loop: asyncio.AbstractEventLoop, timeout: float = TIMEOUT):
        self.bus = bus
        self.loop = loop
        self.timeout = timeout

    def call(self, name: str, args: list, filters: dict):
        request = self.bus.call(TOPIC, name, {"args": args, "filters": filters}, timeout=self.timeout)
        return asyncio.run_coroutine_threadsafe(request, self.loop).result()

    networks = _remote("networks")
    subnets = _remote("subnets")
    ports = _remote("ports")
    port = _remote("port")
    security_groups = _remote("security_groups")
    routers = _remote("routers")
    floatingips = _remote("floatingips")
    dhcp_choice = _remote("dhcp_choice")
    l3_choice = _remote("l3_choice")
    agent_sync = _remote("agent_sync")
    tunnel_peers = _remote("tunnel_peers")
    port_status = _remote("port_status")
    bind_port = _remote("bind_port")
    create_port = _remote("create_port")
    update_port = _remote("update_port")
    delete_port = _remote("delete_port")
