"""NetworkService: Neutron's logic, one small class per resource, no HTTP in here.

Each resource class speaks in resource dicts (the shape the API returns, before policy
hides attributes) and raises ``overcast.network.errors``. Changes that hosts must
apply (ports bound, routers, security groups) go to the network agents through
``self.agents`` after the transaction commits.
"""

from __future__ import annotations

import asyncio
import logging

from overcast.common.config import Config
from overcast.common.db import Database
from overcast.network.service.agent_api import AgentApi
from overcast.network.service.agent_scheduler import AgentScheduler
from overcast.network.service.auto_allocate import AutoAllocate
from overcast.network.service.floating_ips import FloatingIPs, PortForwardings
from overcast.network.service.ip_availability import IpAvailability
from overcast.network.service.ipam import Ipam
from overcast.network.service.network_agents import NetworkAgents
from overcast.network.service.networks import Networks
from overcast.network.service.ports import Ports
from overcast.network.service.quotas import Quotas
from overcast.network.service.routers import Routers
from overcast.network.service.security_groups import SecurityGroupRules, SecurityGroups
from overcast.network.service.subnetpools import SubnetPools
from overcast.network.service.subnets import Subnets
from overcast.network.service.tags import Tags

log = logging.getLogger("overcast.network")


class NetworkService:
    def __init__(self, config: Config, db: Database, bus=None):
        self.config = config
        self.db = db
        self.bus = bus
        self.agent_scheduler = AgentScheduler(self)  # which DHCP/L3 agent hosts which network/router
        self.agents = AgentApi(bus, schedule_router=self.agent_scheduler.schedule_router)
        self.quotas = Quotas(db)
        self.ipam = Ipam(db)
        self.networks = Networks(self)
        self.subnets = Subnets(self)
        self.subnetpools = SubnetPools(self)
        self.ports = Ports(self)
        self.routers = Routers(self)
        self.floatingips = FloatingIPs(self)
        self.port_forwardings = PortForwardings(self)
        self.security_groups = SecurityGroups(self)
        self.security_group_rules = SecurityGroupRules(self)
        self.tags = Tags(db)
        self.auto_allocate = AutoAllocate(self)
        self.network_agents = NetworkAgents(self)  # the agents API (self.agents talks to the agents)
        self.ip_availability = IpAvailability(self)
        self.agent = None  # this host's network agent, when the config runs one here

    def instance_addresses(self, device_ids: list[str]) -> dict[str, dict[str, list[dict]]]:
        """Nova's ``addresses`` of each compute instance (device id) that has ports."""
        from overcast.network.service.addresses import instance_addresses

        return instance_addresses(self.db, device_ids)

    def devices_with_address(self, pattern, version: int | None = None) -> set[str]:
        """Compute instances with a fixed address the compiled regex ``pattern`` matches."""
        from overcast.network.service.addresses import devices_with_address

        return devices_with_address(self.db, pattern, version)

    def instance_at(self, network_id: str, address: str) -> dict | None:
        """The compute instance with the fixed ``address`` on ``network_id``: its
        ``device_id``, ``port_id`` and the port's ``floating_ips``; None if there is none."""
        from overcast.network.service.addresses import instance_at

        return instance_at(self.db, network_id, address)

    def start(self) -> None:
        """The external network and default subnet pool of a fresh cloud (``defaults``);
        default security groups come per project, on first need."""
        from overcast.network.service.defaults import ensure_defaults

        ensure_defaults(self, self.config.network)

    async def serve(self) -> None:
        """Send agent messages from this loop; start this host's network agent when the
        config asks (``[network] agent``, with ``[network] driver``)."""
        from overcast.network import agent_source
        from overcast.network.agent_specs import ServiceSource

        await self.agents.start()
        self._failover = asyncio.create_task(self._failover_forever())
        if self.bus is not None:  # agents on other hosts read and write through this
            await agent_source.serve(self.bus, ServiceSource(self))
        if self.config.network.agent:
            from overcast.network.agent import make_agent

            self.agent = make_agent(self.config, self.bus, ServiceSource(self))
            await self.agent.start()
        await self._start_fake_host_agents(ServiceSource(self))

    async def _failover_forever(self) -> None:
        """Every half ``agent_failover_seconds``, move what dead agents hold (``agent_scheduler``)."""
        while True:
            await asyncio.sleep(self.config.network.agent_failover_seconds / 2)
            try:
                await asyncio.to_thread(self.agent_scheduler.failover)
            except Exception:  # the database is away: the next round tries again
                log.exception("network agent failover failed")

    async def _start_fake_host_agents(self, source) -> None:
        """``[compute] fake_hosts``: each extra fake compute host gets a port-plugging agent
        with the fake driver (its ports exist nowhere), as a Neutron compute node runs only
        the L2 agent."""
        from overcast.network.agent import NetworkAgent
        from overcast.network.drivers import make_driver

        self.fake_host_agents = []
        for host in self.config.compute.extra_fake_hosts():
            agent = NetworkAgent(self.bus, make_driver("fake"), host, source, ports_only=True)
            await agent.start()
            self.fake_host_agents.append(agent)

    async def stop(self) -> None:
        failover = getattr(self, "_failover", None)
        if failover is not None:
            failover.cancel()
            await asyncio.gather(failover, return_exceptions=True)
        for agent in getattr(self, "fake_host_agents", []):
            await agent.stop()
        if self.agent is not None:
            await self.agent.stop()
        await self.agents.stop()
