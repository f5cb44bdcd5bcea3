"""The network agent: one per host, playing Neutron's DHCP, L3, metadata and Linux
bridge agents over one :class:`NetworkDriver`.

It hears the fanout topic ``network`` (``service/agent_api.py``: port, network, router
and security group changes, each carrying ids) and answers calls on ``network.<host>``
(``plug_port(port_id) -> vif``, ``unplug_port(port_id)``) from the compute agent. It
reads what it needs through a source (:class:`agent_specs.ServiceSource`, the service's
Python interface in this process; a bus client in the split mode) and makes the host
match it through the driver, whose calls are idempotent: a missed message is repaired
by the next one about the same thing, and a start re-syncs everything.

Heartbeats go out as the four Neutron binaries, so ``network agent list`` shows them.
In the all-in-one cloud this agent serves DHCP, routers and metadata for every network;
with several hosts each agent does (scheduling is for later).
"""

from __future__ import annotations

import asyncio
import logging

from overcast.common import heartbeats
from overcast.network import agent_specs as specs
from overcast.network.drivers import NetworkDriver

log = logging.getLogger("overcast.network.agent")
TOPIC = "network"
#: binary -> the topic Neutron's agent of that kind reports
BINARIES = {"neutron-dhcp-agent": "dhcp_agent", "neutron-l3-agent": "l3_agent",
            "neutron-metadata-agent": "N/A", "neutron-linuxbridge-agent": "N/A"}


class NetworkAgent:
    def __init__(self, bus, driver: NetworkDriver, host: str, source, metadata_upstream: str = ""):
        self.bus = bus
        self.driver = driver
        self.host = host
        self.source = source
        self.metadata_upstream = metadata_upstream
        self._lock = asyncio.Lock()  # one change at a time: specs are computed from a consistent read
        self._tasks: list[asyncio.Task] = []

    # -- start and stop ------------------------------------------------------------

    async def start(self) -> None:
        await asyncio.to_thread(self.driver.init_host, self.host)
        await self.resync()
        await self.bus.serve(TOPIC, self.fanout_handlers(), fanout=True)
        await self.bus.serve(f"{TOPIC}.{self.host}", {"plug_port": self.plug_port, "unplug_port": self.unplug_port})
        self._tasks = [asyncio.create_task(heartbeats.report_forever(self.bus, binary, self.host, topic))
                       for binary, topic in BINARIES.items()]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    def fanout_handlers(self) -> dict:
        return {"port_update": self.on_port_update, "port_delete": self.on_port_delete,
                "network_update": self.on_network_update, "network_delete": self.on_network_delete,
                "router_update": self.on_router_update, "router_delete": self.on_router_delete,
                "security_groups_update": self.on_security_groups_update}

    async def _run(self, work, *args):
        async with self._lock:
            return await asyncio.to_thread(work, *args)

    # -- calls from the compute agent ------------------------------------------------

    async def plug_port(self, payload: dict) -> dict:
        """Plug the port here and filter it; returns its VIF (the compute contract's dict)."""
        return await self._run(self._plug, payload["port_id"])

    async def unplug_port(self, payload: dict) -> None:
        await self._run(self.driver.unplug_port, payload["port_id"])

    def _plug(self, port_id: str) -> dict:
        port = self.source.port(port_id)
        network = next(n for n in self.source.networks() if n["id"] == port["network_id"])
        vif = self.driver.plug_port(specs.port_spec(port, network))
        self._filter([port_id])
        self.source.port_up(port_id, self.host, vif)
        return vif

    # -- fanout events ---------------------------------------------------------------

    async def on_port_update(self, payload: dict) -> None:
        await self._run(self._port_changed, payload["port_id"], None)

    async def on_port_delete(self, payload: dict) -> None:
        await self._run(self._port_changed, payload["port_id"], payload.get("network_id"))

    async def on_network_update(self, payload: dict) -> None:
        await self._run(self._network_changed, payload["network_id"])

    async def on_network_delete(self, payload: dict) -> None:
        await self._run(self._network_changed, payload["network_id"])

    async def on_router_update(self, payload: dict) -> None:
        await self._run(self._router_changed, payload["router_id"])

    async def on_router_delete(self, payload: dict) -> None:
        await self._run(self._router_changed, payload["router_id"])

    async def on_security_groups_update(self, payload: dict) -> None:
        await self._run(self._filter, None)

    # -- the work (worker threads, under the lock) ---------------------------------------

    def _port_changed(self, port_id: str, network_id: str | None) -> None:
        ports = {port["id"]: port for port in self.source.ports()}
        port = ports.get(port_id)
        if port_id in self.driver.list_ports():
            if port is None or port.get("binding:host_id") not in (self.host, ""):
                self.driver.unplug_port(port_id)
            else:
                network = next((n for n in self.source.networks() if n["id"] == port["network_id"]), None)
                if network is not None:
                    self.driver.plug_port(specs.port_spec(port, network))  # MAC/MTU/IPs brought up to date
        network_id = port["network_id"] if port else network_id
        if network_id:
            self._network_changed(network_id)
        if port and port.get("device_owner", "").startswith("network:router") and port.get("device_id"):
            self._router_changed(port["device_id"])
        self._filter(None)

    def _network_changed(self, network_id: str) -> None:
        networks = {network["id"]: network for network in self.source.networks()}
        network = networks.get(network_id)
        if network is None:
            self.driver.remove_dhcp(network_id)
            self.driver.stop_metadata(network_id)
            return
        subnets = self.source.subnets()
        self.driver.sync_dhcp(specs.dhcp_spec(network, subnets, self.source.ports()))
        self._metadata(network, subnets)

    def _metadata(self, network: dict, subnets: list[dict]) -> None:
        if not self.driver.capabilities.supports_metadata or not self.metadata_upstream:
            return
        if specs.serves_dhcp(network, subnets):
            self.driver.serve_metadata(network["id"], self.metadata_upstream)
        else:
            self.driver.stop_metadata(network["id"])

    def _router_changed(self, router_id: str) -> None:
        router = next((r for r in self.source.routers() if r["id"] == router_id), None)
        if router is None or not router.get("admin_state_up", True):
            self.driver.remove_router(router_id)
            return
        spec = specs.router_spec(router, self.source.ports(), self.source.networks(), self.source.subnets(),
                                 self.source.floatingips())
        self.driver.sync_router(spec)

    def _filter(self, port_ids: list[str] | None) -> None:
        """Refresh the filters of the given plugged ports (None: all of them)."""
        if not self.driver.capabilities.supports_security_groups:
            return
        plugged = set(self.driver.list_ports())
        wanted = plugged if port_ids is None else plugged & set(port_ids)
        if not wanted:
            return
        ports = self.source.ports()
        groups = {group["id"]: group for group in self.source.security_groups()}
        members = specs.group_members(ports)
        for port in ports:
            if port["id"] in wanted:
                self.driver.set_port_filter(specs.port_filter(port, groups, members))

    async def resync(self) -> None:
        """Make the host match the database: plug this host's ports, serve every network's
        DHCP and metadata, run every router; remove what the database no longer has."""
        await self._run(self._resync)

    def _resync(self) -> None:
        networks = {network["id"]: network for network in self.source.networks()}
        subnets, ports = self.source.subnets(), self.source.ports()
        local = [port for port in ports if port.get("binding:host_id") == self.host
                 and not port.get("device_owner", "").startswith("network:") and port["network_id"] in networks]
        for port_id in set(self.driver.list_ports()) - {port["id"] for port in local}:
            self.driver.unplug_port(port_id)
        for port in local:
            self._try(self.driver.plug_port, specs.port_spec(port, networks[port["network_id"]]))
        self._filter(None)
        if self.driver.capabilities.supports_dhcp:
            for network_id in set(self.driver.list_dhcp()) - set(networks):
                self.driver.remove_dhcp(network_id)
            for network in networks.values():
                self._try(self.driver.sync_dhcp, specs.dhcp_spec(network, subnets, ports))
                self._metadata(network, subnets)
        if self.driver.capabilities.supports_routers:
            routers = [r for r in self.source.routers() if r.get("admin_state_up", True)]
            for router_id in set(self.driver.list_routers()) - {router["id"] for router in routers}:
                self.driver.remove_router(router_id)
            floating = self.source.floatingips()
            for router in routers:
                self._try(self.driver.sync_router,
                          specs.router_spec(router, ports, list(networks.values()), subnets, floating))

    @staticmethod
    def _try(work, spec) -> None:
        try:
            work(spec)
        except Exception:  # one broken thing must not stop the rest of the re-sync
            log.exception("network driver failed on %s", getattr(spec, "id", spec))


def make_agent(config, bus, service) -> NetworkAgent:
    """This host's network agent with the configured driver, reading from ``service``."""
    import socket

    from overcast.network.drivers import make_driver

    host = config.network.host or socket.gethostname()
    return NetworkAgent(bus, make_driver(config.network.driver), host, specs.ServiceSource(service),
                        metadata_upstream=config.public_url)
