"""Network errors. The class name is the ``type`` of Neutron's error body
(``{"NeutronError": {"type", "message", "detail"}}``), so the names are Neutron's."""

from overcast.common import errors


class InvalidInput(errors.BadRequest):
    message = "Invalid input for operation: {reason}."


class HTTPBadRequest(errors.BadRequest):
    """Neutron's answer to a body it cannot use at all (unknown or read-only attributes)."""


class PolicyNotAuthorized(errors.Forbidden):
    message = "({rule}) is disallowed by policy."


class NotFound(errors.NotFound):
    message = "The resource could not be found."


class NetworkNotFound(errors.NotFound):
    message = "Network {id} could not be found."


class SubnetNotFound(errors.NotFound):
    message = "Subnet {id} could not be found."


class SubnetPoolNotFound(errors.NotFound):
    message = "Subnet pool {id} could not be found."


class PortNotFound(errors.NotFound):
    message = "Port {id} could not be found."


class RouterNotFound(errors.NotFound):
    message = "Router {id} could not be found."


class FloatingIPNotFound(errors.NotFound):
    message = "Floating IP {id} could not be found"


class SecurityGroupNotFound(errors.NotFound):
    message = "Security group {id} does not exist"


class SecurityGroupRuleNotFound(errors.NotFound):
    message = "Security group rule {id} does not exist"


class AgentNotFound(errors.NotFound):
    message = "Agent {id} could not be found."


class ExtensionNotFound(errors.NotFound):
    message = "Extension with alias {id} does not exist"


class TagNotFound(errors.NotFound):
    message = "Tag {tag} could not be found."


class NetworkInUse(errors.Conflict):
    message = "Unable to complete operation on network {id}. There are one or more ports still in use on the network."


class SubnetInUse(errors.Conflict):
    message = "Unable to complete operation on subnet {id}: One or more ports have an IP allocation from this subnet."


class PortInUse(errors.Conflict):
    message = "Unable to complete operation on port {id} for network {network_id}. Port already has an attached device {device_id}."


class IpAddressAlreadyAllocated(errors.Conflict):
    message = "IP address {ip} already allocated in subnet {subnet_id}"


class IpAddressGenerationFailure(errors.Conflict):
    message = "No more IP addresses available on network {network_id}."


class MacAddressInUse(errors.Conflict):
    message = "Unable to complete operation for network {network_id}. The mac address {mac} is in use."


class RouterInUse(errors.Conflict):
    message = "Router {id} {reason}"


class SecurityGroupInUse(errors.Conflict):
    message = "Security Group {id} {reason}."


class OverQuota(errors.Conflict):
    message = "Quota exceeded for resources: {overs}."


# subnets, subnet pools and IPAM (neutron-lib's classes and messages)
class InvalidAllocationPool(errors.BadRequest):
    message = "The allocation pool {pool} is not valid."


class OutOfBoundsAllocationPool(errors.BadRequest):
    message = "The allocation pool {pool} spans beyond the subnet cidr {subnet_cidr}."


class OverlappingAllocationPools(errors.Conflict):
    message = "Found overlapping allocation pools: {pool_1} {pool_2} for subnet {subnet_cidr}."


class GatewayConflictWithAllocationPools(errors.Conflict):
    message = "Gateway ip {ip_address} conflicts with allocation pool {pool}."


class InvalidIpForSubnet(errors.BadRequest):
    message = "IP address {ip_address} is not a valid IP for the specified subnet."


class InvalidIpForNetwork(errors.BadRequest):
    message = "IP address {ip_address} is not a valid IP for any of the subnets on the specified network."


class DNSNameServersExhausted(errors.BadRequest):
    message = "Unable to complete operation for {subnet_id}. The number of DNS nameservers exceeds the limit {quota}."


class HostRoutesExhausted(errors.BadRequest):
    message = "Unable to complete operation for {subnet_id}. The number of host routes exceeds the limit {quota}."


class SubnetAllocationError(errors.Conflict):
    message = "Failed to allocate subnet: {reason}."


class IllegalSubnetPoolPrefixBounds(errors.BadRequest):
    message = "Illegal prefix bounds: {prefix_type}={prefixlen}, {base_prefix_type}={base_prefixlen}."


class SubnetPoolInUse(errors.Conflict):
    message = "Subnet pool {subnet_pool_id} cannot be deleted: {reason}."


class IllegalSubnetPoolPrefixUpdate(errors.BadRequest):
    message = "Illegal update to prefixes: {msg}."


# ports
class PortSecurityAndIPRequiredForSecurityGroups(errors.BadRequest):
    message = "Port security must be enabled and port must have an IP address in order to use security groups."


class PortSecurityPortHasSecurityGroup(errors.Conflict):
    message = "Port has security group associated. Cannot disable port security or ip address until security group " \
              "is removed"


class AddressPairAndPortSecurityRequired(errors.Conflict):
    message = "Port Security must be enabled in order to have allowed address pairs on a port."


class DuplicateAddressPairInRequest(errors.BadRequest):
    message = "Request contains duplicate address pair: mac_address {mac_address} ip_address {ip_address}."


class AddressPairMatchesPortFixedIPAndMac(errors.BadRequest):
    message = "Port's Fixed IP and Mac Address match an address pair entry."


class ServicePortInUse(errors.Conflict):
    message = "Port {port_id} cannot be deleted directly via the port API: {reason}."
