"""Default policy rules for the admin host APIs, with Nova's rule names: services,
hypervisors, aggregates and the detailed availability zone list."""

from overcast.common.policy import Rule

P = "os_compute_api:"
ADMIN = "role:admin"
ANY = "@"
SERVICE = "/os-services/{service_id}"
HYPERVISOR = "/os-hypervisors/{hypervisor_id}"
AGGREGATE = "/os-aggregates/{aggregate_id}"


def _rule(name: str, check: str, text: str, method: str, path: str) -> Rule:
    return Rule(name if name.startswith("compute:") else P + name, check, text, [(method, path)])


RULES = [
    _rule("os-services:list", ADMIN, "List all running Compute services in a region.", "GET", "/os-services"),
    _rule("os-services:update", ADMIN, "Update a Compute service.", "PUT", SERVICE),
    _rule("os-services:delete", ADMIN, "Delete a Compute service.", "DELETE", SERVICE),
    _rule("os-hypervisors:list", ADMIN, "List all hypervisors.", "GET", "/os-hypervisors"),
    _rule("os-hypervisors:list-detail", ADMIN, "List all hypervisors with details.", "GET", "/os-hypervisors/detail"),
    _rule("os-hypervisors:statistics", ADMIN, "Show summary statistics for all hypervisors over all compute nodes.",
          "GET", "/os-hypervisors/statistics"),
    _rule("os-hypervisors:show", ADMIN, "Show details for a hypervisor.", "GET", HYPERVISOR),
    _rule("os-hypervisors:uptime", ADMIN, "Show the uptime of a hypervisor.", "GET", HYPERVISOR + "/uptime"),
    _rule("os-hypervisors:search", ADMIN, "Search hypervisor by hypervisor_hostname pattern.", "GET",
          "/os-hypervisors/{hypervisor_hostname_pattern}/search"),
    _rule("os-hypervisors:servers", ADMIN, "List all servers on hypervisors that can match the provided "
          "hypervisor_hostname pattern.", "GET", "/os-hypervisors/{hypervisor_hostname_pattern}/servers"),
    _rule("os-aggregates:index", ADMIN, "List all aggregates.", "GET", "/os-aggregates"),
    _rule("os-aggregates:create", ADMIN, "Create an aggregate.", "POST", "/os-aggregates"),
    _rule("os-aggregates:show", ADMIN, "Show details for an aggregate.", "GET", AGGREGATE),
    _rule("os-aggregates:update", ADMIN, "Update name and/or availability zone for an aggregate.", "PUT", AGGREGATE),
    _rule("os-aggregates:delete", ADMIN, "Delete an aggregate.", "DELETE", AGGREGATE),
    _rule("os-aggregates:add_host", ADMIN, "Add a host to an aggregate.", "POST", AGGREGATE + "/action (add_host)"),
    _rule("os-aggregates:remove_host", ADMIN, "Remove a host from an aggregate.", "POST",
          AGGREGATE + "/action (remove_host)"),
    _rule("os-aggregates:set_metadata", ADMIN, "Create or replace metadata for an aggregate.", "POST",
          AGGREGATE + "/action (set_metadata)"),
    _rule("compute:aggregates:images", ADMIN, "Request image caching for an aggregate.", "POST",
          AGGREGATE + "/images"),
    _rule("os-availability-zone:detail", ADMIN, "List detailed availability zone information with host "
          "information.", "GET", "/os-availability-zone/detail"),
]
