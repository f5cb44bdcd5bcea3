"""The route rows for the admin extras: quota classes, os-hosts, the usage audit log,
extensions and migrations."""

from __future__ import annotations

from overcast.common.api import Route
from overcast.compute.api import audit_log, extensions, legacy_hosts, migrations, quota_classes

P = "os_compute_api:"
HOST = "/v2.1/os-hosts/{host_name}"
SM = "/v2.1/servers/{server_id}/migrations"

ROUTES = [
    Route("GET", "/v2.1/os-quota-class-sets/{class_name}", quota_classes.show, P + "os-quota-class-sets:show"),
    Route("PUT", "/v2.1/os-quota-class-sets/{class_name}", quota_classes.update, P + "os-quota-class-sets:update"),
    Route("GET", "/v2.1/os-hosts", legacy_hosts.list_hosts, P + "os-hosts:list"),
    Route("GET", HOST, legacy_hosts.show_host, P + "os-hosts:show"),
    Route("PUT", HOST, legacy_hosts.update_host, P + "os-hosts:update"),
    Route("GET", HOST + "/reboot", legacy_hosts.reboot_host, P + "os-hosts:reboot"),
    Route("GET", HOST + "/shutdown", legacy_hosts.shutdown_host, P + "os-hosts:shutdown"),
    Route("GET", HOST + "/startup", legacy_hosts.startup_host, P + "os-hosts:start"),
    Route("GET", "/v2.1/os-instance_usage_audit_log", audit_log.list_logs,
          P + "os-instance-usage-audit-log:list"),
    Route("GET", "/v2.1/os-instance_usage_audit_log/{before_timestamp}", audit_log.show_log,
          P + "os-instance-usage-audit-log:show"),
    Route("GET", "/v2.1/extensions", extensions.list_extensions, P + "extensions"),
    Route("GET", "/v2.1/extensions/{alias}", extensions.show_extension, P + "extensions"),
    Route("GET", "/v2.1/os-migrations", migrations.list_migrations, P + "os-migrations:index"),
    # the server migration handlers check their own rules (servers:migrations:*) once they found the server
    Route("GET", SM, migrations.list_server_migrations),
    Route("GET", SM + "/{migration_id}", migrations.show_server_migration),
    Route("DELETE", SM + "/{migration_id}", migrations.abort),
    Route("POST", SM + "/{migration_id}/action", migrations.action),
]
