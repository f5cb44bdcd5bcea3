"""The route rows for servers and what hangs off them."""

from __future__ import annotations

from overcast.common.api import Route
from overcast.compute.api import server_actions, server_admin, server_meta, servers

P = "os_compute_api:"
S = "/v2.1/servers/{server_id}"

ROUTES = [
    Route("GET", "/v2.1/servers", servers.list_servers, P + "servers:index"),
    Route("GET", "/v2.1/servers/detail", servers.list_detail, P + "servers:detail"),
    Route("POST", "/v2.1/servers", servers.create, P + "servers:create"),
    Route("GET", S, servers.show, P + "servers:show"),
    Route("PUT", S, servers.update, P + "servers:update"),
    Route("DELETE", S, servers.delete, P + "servers:delete"),
    Route("POST", S + "/action", server_actions.action),
    Route("POST", S + "/remote-consoles", server_actions.remote_consoles),
    Route("GET", S + "/metadata", server_meta.list_metadata, P + "server-metadata:index"),
    Route("PUT", S + "/metadata", server_meta.replace_metadata, P + "server-metadata:update_all"),
    Route("POST", S + "/metadata", server_meta.update_metadata, P + "server-metadata:create"),
    Route("GET", S + "/metadata/{key}", server_meta.show_item, P + "server-metadata:show"),
    Route("PUT", S + "/metadata/{key}", server_meta.set_item, P + "server-metadata:update"),
    Route("DELETE", S + "/metadata/{key}", server_meta.delete_item, P + "server-metadata:delete"),
    Route("GET", S + "/tags", server_meta.list_tags, P + "os-server-tags:index"),
    Route("PUT", S + "/tags", server_meta.replace_tags, P + "os-server-tags:update_all"),
    Route("DELETE", S + "/tags", server_meta.delete_tags, P + "os-server-tags:delete_all"),
    Route("GET", S + "/tags/{tag}", server_meta.check_tag, P + "os-server-tags:show"),
    Route("PUT", S + "/tags/{tag}", server_meta.add_tag, P + "os-server-tags:update"),
    Route("DELETE", S + "/tags/{tag}", server_meta.delete_tag, P + "os-server-tags:delete"),
    Route("GET", S + "/diagnostics", server_admin.diagnostics, P + "os-server-diagnostics"),
    Route("POST", "/v2.1/os-server-external-events", server_admin.external_events,
          P + "os-server-external-events:create"),
    Route("GET", S + "/os-instance-actions", server_meta.list_actions, P + "os-instance-actions:list"),
    Route("GET", S + "/os-instance-actions/{request_id}", server_meta.show_action, P + "os-instance-actions:show"),
]
