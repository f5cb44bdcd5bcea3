"""Default policy rules for the admin extras, with Nova's rule names: quota classes,
os-hosts, the instance usage audit log, extensions and migrations."""

from overcast.common.policy import Rule

P = "os_compute_api:"
ADMIN = "role:admin"
ANY = "@"
MANAGER = "role:admin or (role:manager and project_id:%(project_id)s)"  # Nova's PROJECT_MANAGER_OR_ADMIN
HOST = "/os-hosts/{host_name}"
SM = "/servers/{server_id}/migrations"
AUDIT = "/os-instance_usage_audit_log"


def _rule(name: str, check: str, text: str, method: str, path: str) -> Rule:
    return Rule(P + name, check, text, [(method, path)])


RULES = [
    _rule("os-quota-class-sets:show", ADMIN, "List quotas for specific quota classs.", "GET",
          "/os-quota-class-sets/{quota_class}"),
    _rule("os-quota-class-sets:update", ADMIN, "Update quotas for specific quota class.", "PUT",
          "/os-quota-class-sets/{quota_class}"),
    _rule("os-hosts:list", ADMIN, "List physical hosts (deprecated for os-hypervisors and os-services).", "GET",
          "/os-hosts"),
    _rule("os-hosts:show", ADMIN, "Show physical host.", "GET", HOST),
    _rule("os-hosts:update", ADMIN, "Update physical host.", "PUT", HOST),
    _rule("os-hosts:reboot", ADMIN, "Reboot physical host.", "GET", HOST + "/reboot"),
    _rule("os-hosts:shutdown", ADMIN, "Shutdown physical host.", "GET", HOST + "/shutdown"),
    _rule("os-hosts:start", ADMIN, "Start physical host.", "GET", HOST + "/startup"),
    _rule("os-instance-usage-audit-log:list", ADMIN, "List all usage audits.", "GET", AUDIT),
    _rule("os-instance-usage-audit-log:show", ADMIN, "List all usage audits occurred before a specified time for "
          "all servers on all compute hosts where usage auditing is configured.", "GET",
          AUDIT + "/{before_timestamp}"),
    Rule(P + "extensions", ANY, "List available extensions and show information for an extension.",
         [("GET", "/extensions"), ("GET", "/extensions/{alias}")]),
    _rule("os-migrations:index", MANAGER, "List migrations (a project manager: their project's, without hosts).",
          "GET", "/os-migrations"),
    _rule("os-migrations:index:all_projects", ADMIN, "List migrations of every project, or of another project.",
          "GET", "/os-migrations"),
    _rule("os-migrations:index:host", ADMIN, "List migrations with their source and destination hosts.", "GET",
          "/os-migrations"),
    _rule("servers:migrations:index", MANAGER, "List a server's live migrations in progress.", "GET", SM),
    _rule("servers:migrations:index:host", ADMIN, "List a server's live migrations with their hosts.", "GET", SM),
    _rule("servers:migrations:show", ADMIN, "Show a live migration in progress.", "GET", SM + "/{migration_id}"),
    _rule("servers:migrations:force_complete", MANAGER, "Force an in-progress live migration to complete.", "POST",
          SM + "/{migration_id}/action (force_complete)"),
    _rule("servers:migrations:delete", MANAGER, "Abort an in-progress live migration.", "DELETE",
          SM + "/{migration_id}"),
]
