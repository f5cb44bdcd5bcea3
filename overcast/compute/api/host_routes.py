"""The route rows for the admin host APIs: services, hypervisors, aggregates, zones."""

from __future__ import annotations

from overcast.common.api import Route, not_implemented
from overcast.compute.api import aggregates, hosts

P = "os_compute_api:"
H = "/v2.1/os-hypervisors"
A = "/v2.1/os-aggregates"

ROUTES = [
    Route("GET", "/v2.1/os-services", hosts.list_services, P + "os-services:list"),
    Route("PUT", "/v2.1/os-services/{service_id}", hosts.update_service, P + "os-services:update"),
    Route("DELETE", "/v2.1/os-services/{service_id}", hosts.delete_service, P + "os-services:delete"),
    Route("GET", H, hosts.list_hypervisors, P + "os-hypervisors:list"),
    Route("GET", H + "/detail", hosts.list_hypervisors_detail, P + "os-hypervisors:list-detail"),
    Route("GET", H + "/statistics", hosts.hypervisor_statistics, P + "os-hypervisors:statistics"),
    Route("GET", H + "/{hypervisor_id}", hosts.show_hypervisor, P + "os-hypervisors:show"),
    Route("GET", H + "/{hypervisor_id}/uptime", hosts.hypervisor_uptime, P + "os-hypervisors:uptime"),
    Route("GET", H + "/{pattern}/search", hosts.search_hypervisors, P + "os-hypervisors:search"),
    Route("GET", H + "/{pattern}/servers", hosts.hypervisor_servers, P + "os-hypervisors:servers"),
    Route("GET", A, aggregates.list_aggregates, P + "os-aggregates:index"),
    Route("POST", A, aggregates.create, P + "os-aggregates:create"),
    Route("GET", A + "/{aggregate_id}", aggregates.show, P + "os-aggregates:show"),
    Route("PUT", A + "/{aggregate_id}", aggregates.update, P + "os-aggregates:update"),
    Route("DELETE", A + "/{aggregate_id}", aggregates.delete, P + "os-aggregates:delete"),
    Route("POST", A + "/{aggregate_id}/action", aggregates.action),  # one rule per action, checked inside
    Route("POST", A + "/{aggregate_id}/images", not_implemented),  # 2.81 image pre-caching
    Route("GET", "/v2.1/os-availability-zone", hosts.availability_zones, P + "os-availability-zone:list"),
    Route("GET", "/v2.1/os-availability-zone/detail", hosts.availability_zones_detail,
          P + "os-availability-zone:detail"),
]
