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

    def __init__(self, message: str | None = None, **fields):
        fields.setdefault("reason", "in use")
        super().__init__(message, **fields)


class SecurityGroupCannotRemoveDefault(errors.Conflict):
    message = "Insufficient rights for removing default security group."


class SecurityGroupCannotUpdateDefault(errors.Conflict):
    message = "Updating default security group not allowed."


class SecurityGroupDefaultAlreadyExists(errors.Conflict):
    message = "Default security group already exists."


class SecurityGroupRuleExists(errors.Conflict):
    message = "Security group rule already exists. Rule id is {rule_id}."


class DuplicateSecurityGroupRuleInPost(errors.Conflict):
    message = "Duplicate Security Group Rule in POST."


class SecurityGroupInvalidPortRange(errors.BadRequest):
    message = "For TCP/UDP protocols, port_range_min must be <= port_range_max"


class SecurityGroupInvalidPortValue(errors.BadRequest):
    message = "Invalid value for port {port}."


class SecurityGroupInvalidIcmpValue(errors.BadRequest):
    message = "Invalid value for ICMP {field} ({attr}) {value}. It must be 0 to 255."


class SecurityGroupMissingIcmpType(errors.BadRequest):
    message = "ICMP code (port-range-max) {value} is provided but ICMP type (port-range-min) is missing."


class SecurityGroupRuleInvalidProtocol(errors.BadRequest):
    message = ("Security group rule protocol {protocol} not supported. Only protocol values {values} and integer "
               "representations [0 to 255] are supported.")


class SecurityGroupRemoteGroupAndRemoteIpPrefix(errors.BadRequest):
    message = "Only remote_ip_prefix or remote_group_id may be provided."


class SecurityGroupProtocolRequiredWithPorts(errors.BadRequest):
    message = "Must also specify protocol if port range is given."


class SecurityGroupInvalidProtocolForPort(errors.BadRequest):
    message = "Invalid protocol {protocol} for port range, only supported for {valid_port_protocols} protocols."


class SecurityGroupRuleParameterConflict(errors.BadRequest):
    message = "Conflicting value ethertype {ethertype} for CIDR {cidr}"


class SecurityGroupEthertypeConflictWithProtocol(errors.BadRequest):
    message = "Invalid ethertype {ethertype} for protocol {protocol}."


class SecurityGroupRulesNotSingleTenant(errors.BadRequest):
    message = "Multiple tenant_ids in bulk security group rule create not allowed"


class SecurityGroupNotSingleGroupRules(errors.BadRequest):
    message = "Only allowed to update rules for one security profile at a time"


class InvalidCIDR(errors.BadRequest):
    message = "Invalid CIDR {input} given as IP prefix."


class OverQuota(errors.Conflict):
    message = "Quota exceeded for resources: {overs}."


class BadRouterRequest(errors.BadRequest):
    message = "Bad router request: {reason}."


class BadFloatingIPRequest(errors.BadRequest):
    message = "Bad floatingip request: {reason}."


class InvalidRoutes(errors.BadRequest):
    message = "Invalid format for routes: {routes}, {reason}"


class RouterInterfaceNotFound(errors.NotFound):
    message = "Router {router_id} does not have an interface with id {port_id}"


class RouterInterfaceNotFoundForSubnet(errors.NotFound):
    message = "Router {router_id} has no interface on subnet {subnet_id}"


class ExternalGatewayForFloatingIPNotFound(errors.NotFound):
    message = ("External network {external_network_id} is not reachable from subnet {subnet_id}.  Therefore, "
               "cannot associate Port {port_id} with a Floating IP.")


class PortForwardingNotFound(errors.NotFound):
    message = "Port Forwarding {id} could not be found."


class RouterInterfaceInUseByFloatingIP(errors.Conflict):
    message = ("Router interface for subnet {subnet_id} on router {router_id} cannot be deleted, as it is "
               "required by one or more floating IPs.")


class RouterInterfaceInUseByRoute(errors.Conflict):
    message = ("Router interface for subnet {subnet_id} on router {router_id} cannot be deleted, as it is "
               "required by one or more routes.")


class RouterExternalGatewayInUseByFloatingIp(errors.Conflict):
    message = ("Gateway cannot be updated for router {router_id}, since a gateway to external network {net_id} "
               "is required by one or more floating IPs.")


class FloatingIPPortAlreadyAssociated(errors.Conflict):
    message = ("Cannot associate floating IP {floating_ip_address} ({fip_id}) with port {port_id} using fixed IP "
               "{fixed_ip}, as that fixed IP already has a floating IP on external network {net_id}.")


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


class PortForwardingConflict(errors.BadRequest):
    message = "Bad port_forwarding request: {reason}."


class FipInUseByPortForwarding(errors.Conflict):
    message = "Floating IP {id} is in use by port forwardings; it cannot be associated with a port"


class FipAssociatedWithPort(errors.Conflict):
    message = "Floating IP {id} is associated with port {port_id}; it cannot have port forwardings"


class PortForwardingExists(errors.Conflict):
    message = "A port forwarding of floating IP {id} already uses {protocol} port {port}"




class AutoAllocationFailure(errors.Conflict):
    message = "Deployment error: {reason}."


class NetworkHostedByDHCPAgent(errors.Conflict):
    message = "The network {network_id} has been already hosted by the DHCP Agent {agent_id}."


class NetworkNotHostedByDhcpAgent(errors.Conflict):
    message = "The network {network_id} is not hosted by the DHCP agent {agent_id}."


class InvalidDHCPAgent(AgentNotFound):
    message = "Agent {id} is not a valid DHCP Agent or has been disabled"


class InvalidL3Agent(AgentNotFound):
    message = "Agent {id} is not a L3 Agent or has been disabled"


class RouterHostedByL3Agent(errors.Conflict):
    message = "The router {router_id} has been already hosted by the L3 Agent {agent_id}."


class RouterNotHostedByL3Agent(errors.Conflict):
    message = "The router {router_id} is not hosted by L3 agent {agent_id}."
