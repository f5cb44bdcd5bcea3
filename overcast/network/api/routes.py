"""The Neutron v2.0 route table. Generic resources get their five rows from their
:class:`Resource`; the rest are listed here. Operations of extensions overcast does not
serve are 501 rows (and are absent from /v2.0/extensions)."""

from __future__ import annotations

from overcast.common.api import Route, not_implemented
from overcast.network.api import (agents, auto_allocate, extensions, floatingips, networks, port_forwardings, ports,
                                  quotas, routers, security_group_rules, security_groups, subnetpools, subnets, tags,
                                  versions)

RESOURCES = {resource.base.removeprefix("/v2.0/"): resource for resource in (
    networks.RESOURCE, subnets.RESOURCE, subnetpools.RESOURCE, ports.RESOURCE, routers.RESOURCE,
    floatingips.RESOURCE, security_groups.RESOURCE, security_group_rules.RESOURCE)}

UNSERVED = ("qos/policies", "qos/rule-types", "trunks", "rbac-policies", "address-scopes", "address-groups",
            "metering/metering-labels", "metering/metering-label-rules", "segments", "network_segment_ranges",
            "log/logs", "log/loggable-resources", "fw/firewall_groups",
            "fw/firewall_policies", "fw/firewall_rules", "vpn/vpnservices", "lbaas/loadbalancers", "flavors",
            "service_profiles", "local_ips", "ndp_proxies", "bgp-speakers", "bgpvpn/bgpvpns", "network-segment-ranges")
FORWARDINGS = "/v2.0/floatingips/{floatingip_id}/port_forwardings"

ROUTES = [
    Route("GET", "/", versions.versions, auth=False),
    Route("GET", "/v2.0", versions.resources),
    Route("GET", "/v2.0/", versions.resources),
    Route("GET", "/v2.0/extensions", extensions.list_extensions),
    Route("GET", "/v2.0/extensions/{alias}", extensions.show),
    *[row for resource in RESOURCES.values() for row in resource.routes()],
    *tags.routes(),
    *auto_allocate.ROUTES,
    Route("GET", "/v2.0/quotas", quotas.list_quotas, "get_quota"),
    Route("GET", "/v2.0/quotas/{project_id}", quotas.show, "get_quota"),
    Route("GET", "/v2.0/quotas/{project_id}/default", quotas.defaults, "get_quota"),
    Route("GET", "/v2.0/quotas/{project_id}/details", quotas.details, "get_quota"),
    Route("PUT", "/v2.0/quotas/{project_id}", quotas.update, "update_quota"),
    Route("DELETE", "/v2.0/quotas/{project_id}", quotas.delete, "delete_quota"),
    Route("PUT", "/v2.0/routers/{id}/add_router_interface", routers.add_router_interface, "add_router_interface"),
    Route("PUT", "/v2.0/routers/{id}/remove_router_interface", routers.remove_router_interface,
          "remove_router_interface"),
    Route("PUT", "/v2.0/routers/{id}/add_extraroutes", routers.add_extraroutes, "add_extraroutes"),
    Route("PUT", "/v2.0/routers/{id}/remove_extraroutes", routers.remove_extraroutes, "remove_extraroutes"),
    Route("GET", f"{FORWARDINGS}", port_forwardings.list_forwardings, "get_floatingip_port_forwarding"),
    Route("POST", f"{FORWARDINGS}", port_forwardings.create, "create_floatingip_port_forwarding"),
    Route("GET", f"{FORWARDINGS}/{{id}}", port_forwardings.show, "get_floatingip_port_forwarding"),
    Route("PUT", f"{FORWARDINGS}/{{id}}", port_forwardings.update, "update_floatingip_port_forwarding"),
    Route("DELETE", f"{FORWARDINGS}/{{id}}", port_forwardings.delete, "delete_floatingip_port_forwarding"),
    *agents.ROUTES,
    *[Route(method, f"/v2.0/{path}{tail}", not_implemented)
      for path in UNSERVED for method, tail in (("GET", ""), ("POST", ""), ("GET", "/{id}"), ("PUT", "/{id}"),
                                                ("DELETE", "/{id}"))],
]
