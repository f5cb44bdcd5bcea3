"""Network tables, one module per resource family.

Every resource row carries Neutron's standard attributes (``description``,
``created_at``, ``updated_at``, ``revision_number``); tags live in one table keyed by
resource id (ids are UUIDs, unique across kinds).
"""

from overcast.network.models.agents import DhcpAgentChoice, NetworkAgentRow, RouterAgentBinding
from overcast.network.models.networks import IPAllocation, Network, Subnet, SubnetPool
from overcast.network.models.ports import Port, PortSecurityGroup
from overcast.network.models.routers import FloatingIP, PortForwarding, Router, RouterRoute
from overcast.network.models.security_groups import DefaultSecurityGroup, SecurityGroup, SecurityGroupRule
from overcast.network.models.misc import NetworkQuota, ResourceTag

__all__ = ["DefaultSecurityGroup", "DhcpAgentChoice", "FloatingIP", "IPAllocation", "Network", "NetworkAgentRow", "NetworkQuota", "Port", "RouterAgentBinding",
           "PortForwarding", "PortSecurityGroup", "ResourceTag", "Router", "RouterRoute", "SecurityGroup",
           "SecurityGroupRule", "Subnet", "SubnetPool"]
