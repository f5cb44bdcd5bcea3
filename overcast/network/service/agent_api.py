"""What the network service tells the network agents, over the bus.

Service methods run in worker threads inside a transaction; they call these methods
after the change is committed. Each becomes a fanout cast on topic ``network`` (every
network agent hears it and applies what concerns its host), sent from the event loop.
Without a running loop (unit tests) the messages are only kept in ``sent``.
"""

from __future__ import annotations

import asyncio
import logging

log = logging.getLogger("overcast.network")
TOPIC = "network"


class AgentApi:
    def __init__(self, bus, schedule_router=None):
        self.bus = bus
        self.schedule_router = schedule_router  # binds an unbound router to an L3 agent before agents hear of it
        self.loop: asyncio.AbstractEventLoop | None = None
        self.sent: list[tuple[str, dict]] = []  # the last messages, for tests and debugging

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()

    async def stop(self) -> None:
        self.loop = None

    def send(self, kind: str, payload: dict) -> None:
        self.sent = [*self.sent[-99:], (kind, payload)]
        loop = self.loop
        if loop is None or self.bus is None:
            return
        loop.call_soon_threadsafe(lambda: loop.create_task(self._fanout(kind, payload)))

    async def _fanout(self, kind: str, payload: dict) -> None:
        try:
            await self.bus.fanout(TOPIC, kind, payload)
        except Exception:  # the agents re-sync from the database on start; log and go on
            log.exception("could not tell the network agents %s", kind)

    # the messages (payloads carry ids; agents read the rest through the service)
    def port_changed(self, port: dict) -> None:
        self.send("port_update", {"port_id": port["id"], "host": port.get("binding:host_id", "")})

    def port_deleted(self, port: dict) -> None:
        self.send("port_delete", {"port_id": port["id"], "host": port.get("binding:host_id", ""),
                                  "network_id": port.get("network_id")})

    def network_changed(self, network_id: str) -> None:
        self.send("network_update", {"network_id": network_id})

    def network_deleted(self, network_id: str) -> None:
        self.send("network_delete", {"network_id": network_id})

    def router_changed(self, router_id: str, schedule: bool = True) -> None:
        """A router changed: bind it to an L3 agent first if it has none (``schedule``;
        not after an admin's or the failover's own binding change)."""
        if schedule and self.schedule_router is not None:
            try:
                self.schedule_router(router_id)
            except Exception:  # the agents' next sync binds it
                log.exception("could not schedule router %s", router_id)
        self.send("router_update", {"router_id": router_id})

    def router_deleted(self, router_id: str) -> None:
        self.send("router_delete", {"router_id": router_id})

    def security_groups_changed(self, group_ids: list[str]) -> None:
        self.send("security_groups_update", {"security_group_ids": list(group_ids)})
