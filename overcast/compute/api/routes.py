"""The compute route table (Nova v2.1), as data."""

from __future__ import annotations

from overcast.common.api import Route
from overcast.compute.api import (admin_routes, assisted_snapshots, host_routes, misc_routes, network_proxy, server_network,
                                  server_password, server_routes, volume_attachments, volumes_proxy)
from overcast.compute.api import flavors, keypairs, misc, quotas, server_groups, versions

P = "os_compute_api:"

ROUTES = [
    Route("GET", "/", versions.versions, auth=False),
    Route("GET", "/v2", versions.version_20, auth=False),
    Route("GET", "/v2/", versions.version_20, auth=False),
    Route("GET", "/v2.1", versions.version, auth=False),
    Route("GET", "/v2.1/", versions.version, auth=False),
    Route("GET", "/v2.1/flavors", flavors.list_flavors, P + "flavors:index"),
    Route("GET", "/v2.1/flavors/detail", flavors.list_detail, P + "flavors:index"),
    Route("POST", "/v2.1/flavors", flavors.create, P + "os-flavor-manage:create"),
    Route("GET", "/v2.1/flavors/{flavor_id}", flavors.show, P + "flavors:show"),
    Route("PUT", "/v2.1/flavors/{flavor_id}", flavors.update, P + "os-flavor-manage:update"),
    Route("DELETE", "/v2.1/flavors/{flavor_id}", flavors.delete, P + "os-flavor-manage:delete"),
    Route("GET", "/v2.1/flavors/{flavor_id}/os-extra_specs", flavors.list_specs, P + "os-flavor-extra-specs:index"),
    Route("POST", "/v2.1/flavors/{flavor_id}/os-extra_specs", flavors.create_specs,
          P + "os-flavor-extra-specs:create"),
    Route("GET", "/v2.1/flavors/{flavor_id}/os-extra_specs/{key}", flavors.show_spec,
          P + "os-flavor-extra-specs:show"),
    Route("PUT", "/v2.1/flavors/{flavor_id}/os-extra_specs/{key}", flavors.update_spec,
          P + "os-flavor-extra-specs:update"),
    Route("DELETE", "/v2.1/flavors/{flavor_id}/os-extra_specs/{key}", flavors.delete_spec,
          P + "os-flavor-extra-specs:delete"),
    Route("GET", "/v2.1/flavors/{flavor_id}/os-flavor-access", flavors.list_access, P + "os-flavor-access"),
    Route("POST", "/v2.1/flavors/{flavor_id}/action", flavors.action),
    Route("GET", "/v2.1/os-keypairs", keypairs.list_keypairs, P + "os-keypairs:index"),
    Route("POST", "/v2.1/os-keypairs", keypairs.create, P + "os-keypairs:create"),
    Route("GET", "/v2.1/os-keypairs/{name}", keypairs.show, P + "os-keypairs:show"),
    Route("DELETE", "/v2.1/os-keypairs/{name}", keypairs.delete, P + "os-keypairs:delete"),
    Route("GET", "/v2.1/limits", misc.limits, P + "limits"),
    Route("GET", "/v2.1/os-quota-sets/{project_id}", quotas.show, P + "os-quota-sets:show"),
    Route("PUT", "/v2.1/os-quota-sets/{project_id}", quotas.update, P + "os-quota-sets:update"),
    Route("DELETE", "/v2.1/os-quota-sets/{project_id}", quotas.delete, P + "os-quota-sets:delete"),
    Route("GET", "/v2.1/os-quota-sets/{project_id}/detail", quotas.detail, P + "os-quota-sets:detail"),
    Route("GET", "/v2.1/os-quota-sets/{project_id}/defaults", quotas.defaults, P + "os-quota-sets:defaults"),
    Route("GET", "/v2.1/os-server-groups", server_groups.list_groups, P + "os-server-groups:index"),
    Route("POST", "/v2.1/os-server-groups", server_groups.create, P + "os-server-groups:create"),
    Route("GET", "/v2.1/os-server-groups/{group_id}", server_groups.show, P + "os-server-groups:show"),
    Route("DELETE", "/v2.1/os-server-groups/{group_id}", server_groups.delete, P + "os-server-groups:delete"),
    *server_routes.ROUTES,
    *host_routes.ROUTES,
    *misc_routes.ROUTES,
    *admin_routes.ROUTES,
    *network_proxy.ROUTES,
    *server_network.ROUTES,
    *server_password.ROUTES,
    *volume_attachments.ROUTES,
    *volumes_proxy.ROUTES,
    *assisted_snapshots.ROUTES,
]
