"""Compute tables, one module per resource family."""

from overcast.compute.models.aggregates import Aggregate, AggregateHost, AggregateMetadata
from overcast.compute.models.consoles import ConsoleToken
from overcast.compute.models.flavors import Flavor, FlavorAccess, FlavorExtraSpec, KeyPair, QuotaLimit
from overcast.compute.models.groups import ServerGroup, ServerGroupMember
from overcast.compute.models.hosts import Allocation, ComputeNode, ComputeServiceRow
from overcast.compute.models.migrations import Migration
from overcast.compute.models.quota_classes import QuotaClass
from overcast.compute.models.servers import (Instance, InstanceAction, InstanceActionEvent, InstanceFault,
                                             InstanceMetadata, InstanceTag)

__all__ = ["Aggregate", "AggregateHost", "AggregateMetadata", "Allocation", "ComputeNode", "ComputeServiceRow",
           "ConsoleToken", "Flavor", "FlavorAccess", "FlavorExtraSpec", "Instance",
           "InstanceAction", "InstanceActionEvent", "InstanceFault", "InstanceMetadata", "InstanceTag", "KeyPair",
           "Migration", "QuotaClass", "QuotaLimit", "ServerGroup", "ServerGroupMember"]
