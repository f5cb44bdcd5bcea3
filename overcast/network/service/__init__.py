"""NetworkService: Neutron's logic, one small class per resource, no HTTP in here.

Each resource class speaks in resource dicts (the shape the API returns, before policy
hides attributes) and raises ``overcast.network.errors``. Changes that hosts must
apply (ports bound, routers, security groups) go to the network agents through
``self.agents`` after the transaction commits.
"""

from __future__ import annotations

from overcast.common.config import Config
from overcast.common.db import Database
from overcast.network.service.agent_api import AgentApi
from overcast.network.service.floating_ips import FloatingIPs, PortForwardings
from overcast.network.service.ipam import Ipam
from overcast.network.service.networks import Networks
from overcast.network.service.ports import Ports
from overcast.network.service.quotas import Quotas
from overcast.network.service.routers import Routers
from overcast.network.service.security_groups import SecurityGroupRules, SecurityGroups
from overcast.network.service.subnets import SubnetPools, Subnets
from overcast.network.service.tags import Tags


class NetworkService:
    def __init__(self, config: Config, db: Database, bus=None):
        self.config = config
        self.db = db
        self.bus = bus
        self.agents = AgentApi(bus)
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

    def instance_addresses(self, device_ids: list[str]) -> dict[str, dict[str, list[dict]]]:
        """Nova's ``addresses`` of each compute instance (device id) that has ports."""
        from overcast.network.service.addresses import instance_addresses

        return instance_addresses(self.db, device_ids)

    def start(self) -> None:
        """Nothing to prepare at first start: default security groups come per project."""

    async def serve(self) -> None:
        await self.agents.start()

    async def stop(self) -> None:
        await self.agents.stop()
