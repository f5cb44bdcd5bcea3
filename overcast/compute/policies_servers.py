"""Default policy rules for servers and what hangs off them, with Nova's rule names."""

from overcast.common.policy import Rule

P = "os_compute_api:"
ADMIN = "role:admin"
MEMBER = "role:admin or (role:member and project_id:%(project_id)s)"  # Nova's PROJECT_MEMBER_OR_ADMIN
READER = "role:admin or (role:reader and project_id:%(project_id)s)"  # Nova's PROJECT_READER_OR_ADMIN
S = "/servers/{server_id}"


def _rule(name: str, check: str, text: str, method: str, path: str) -> Rule:
    return Rule(P + name, check, text, [(method, path)])


RULES = [
    _rule("servers:index", READER, "List servers.", "GET", "/servers"),
    _rule("servers:detail", READER, "List servers with details.", "GET", "/servers/detail"),
    _rule("servers:index:get_all_tenants", ADMIN, "List every project's servers.", "GET", "/servers"),
    _rule("servers:detail:get_all_tenants", ADMIN, "List every project's servers with details.", "GET",
          "/servers/detail"),
    _rule("servers:show", READER, "Show a server.", "GET", S),
    _rule("servers:create", MEMBER, "Create a server.", "POST", "/servers"),
    _rule("servers:create:forced_host", ADMIN, "Create a server on a named host.", "POST", "/servers"),
    _rule("servers:update", MEMBER, "Update a server.", "PUT", S),
    _rule("servers:delete", MEMBER, "Delete a server.", "DELETE", S),
    _rule("servers:start", MEMBER, "Start a server.", "POST", S + "/action (os-start)"),
    _rule("servers:stop", MEMBER, "Stop a server.", "POST", S + "/action (os-stop)"),
    _rule("servers:reboot", MEMBER, "Reboot a server.", "POST", S + "/action (reboot)"),
    _rule("servers:rebuild", MEMBER, "Rebuild a server.", "POST", S + "/action (rebuild)"),
    _rule("servers:resize", MEMBER, "Resize a server.", "POST", S + "/action (resize)"),
    _rule("servers:confirm_resize", MEMBER, "Confirm a resize.", "POST", S + "/action (confirmResize)"),
    _rule("servers:revert_resize", MEMBER, "Revert a resize.", "POST", S + "/action (revertResize)"),
    _rule("servers:create_image", MEMBER, "Snapshot a server into an image.", "POST", S + "/action (createImage)"),
    _rule("servers:create_image:allow_volume_backed", MEMBER, "Snapshot a server booted from a volume (snapshots "
          "of its volumes and an image that maps them).", "POST", S + "/action (createImage)"),
    _rule("os-pause-server:pause", MEMBER, "Pause a server.", "POST", S + "/action (pause)"),
    _rule("os-pause-server:unpause", MEMBER, "Unpause a server.", "POST", S + "/action (unpause)"),
    _rule("os-suspend-server:suspend", MEMBER, "Suspend a server.", "POST", S + "/action (suspend)"),
    _rule("os-suspend-server:resume", MEMBER, "Resume a server.", "POST", S + "/action (resume)"),
    _rule("os-lock-server:lock", MEMBER, "Lock a server.", "POST", S + "/action (lock)"),
    _rule("os-lock-server:unlock", MEMBER, "Unlock a server.", "POST", S + "/action (unlock)"),
    _rule("os-lock-server:unlock:unlock_override", ADMIN, "Unlock a server an admin locked.", "POST",
          S + "/action (unlock)"),
    _rule("os-create-backup", MEMBER, "Back a server up into an image.", "POST", S + "/action (createBackup)"),
    _rule("os-security-groups:add", MEMBER, "Add a security group to a server.", "POST",
          S + "/action (addSecurityGroup)"),
    _rule("os-security-groups:remove", MEMBER, "Remove a security group from a server.", "POST",
          S + "/action (removeSecurityGroup)"),
    _rule("os-shelve:shelve", MEMBER, "Shelve a server.", "POST", S + "/action (shelve)"),
    _rule("os-shelve:shelve_offload", ADMIN, "Offload a shelved server.", "POST", S + "/action (shelveOffload)"),
    _rule("os-shelve:unshelve", MEMBER, "Unshelve a server.", "POST", S + "/action (unshelve)"),
    _rule("os-shelve:unshelve_to_host", ADMIN, "Unshelve a server to a named host (2.91).", "POST",
          S + "/action (unshelve)"),
    _rule("os-rescue", MEMBER, "Rescue a server.", "POST", S + "/action (rescue)"),
    _rule("os-unrescue", MEMBER, "Unrescue a server.", "POST", S + "/action (unrescue)"),
    _rule("os-console-output", MEMBER, "Read a server's console log.", "POST", S + "/action (os-getConsoleOutput)"),
    _rule("os-remote-consoles", MEMBER, "Open a remote console.", "POST", S + "/remote-consoles"),
    _rule("os-server-diagnostics", ADMIN, "Show a server's diagnostics.", "GET", S + "/diagnostics"),
    _rule("os-server-external-events:create", ADMIN, "Send events from other services.", "POST",
          "/os-server-external-events"),
    _rule("os-migrate-server:migrate", ADMIN, "Cold-migrate a server.", "POST", S + "/action (migrate)"),
    _rule("os-migrate-server:migrate:host", ADMIN, "Cold-migrate a server to a named host (2.56).", "POST",
          S + "/action (migrate)"),
    _rule("os-migrate-server:migrate_live", ADMIN, "Live-migrate a server.", "POST", S + "/action (os-migrateLive)"),
    _rule("os-admin-actions:reset_state", ADMIN, "Reset a server's state.", "POST", S + "/action (os-resetState)"),
    _rule("os-deferred-delete:force", MEMBER, "Force-delete a server.", "POST", S + "/action (forceDelete)"),
    _rule("os-deferred-delete:restore", MEMBER, "Restore a soft-deleted server.", "POST", S + "/action (restore)"),
    _rule("server-metadata:index", READER, "List a server's metadata.", "GET", S + "/metadata"),
    _rule("server-metadata:show", READER, "Show a metadata item.", "GET", S + "/metadata/{key}"),
    _rule("server-metadata:create", MEMBER, "Add metadata items.", "POST", S + "/metadata"),
    _rule("server-metadata:update_all", MEMBER, "Replace the metadata.", "PUT", S + "/metadata"),
    _rule("server-metadata:update", MEMBER, "Set a metadata item.", "PUT", S + "/metadata/{key}"),
    _rule("server-metadata:delete", MEMBER, "Delete a metadata item.", "DELETE", S + "/metadata/{key}"),
    _rule("os-server-tags:index", READER, "List a server's tags.", "GET", S + "/tags"),
    _rule("os-server-tags:show", READER, "Check a tag.", "GET", S + "/tags/{tag}"),
    _rule("os-server-tags:update_all", MEMBER, "Replace the tags.", "PUT", S + "/tags"),
    _rule("os-server-tags:update", MEMBER, "Add a tag.", "PUT", S + "/tags/{tag}"),
    _rule("os-server-tags:delete_all", MEMBER, "Delete every tag.", "DELETE", S + "/tags"),
    _rule("os-server-tags:delete", MEMBER, "Delete a tag.", "DELETE", S + "/tags/{tag}"),
    _rule("os-instance-actions:list", READER, "List a server's actions.", "GET", S + "/os-instance-actions"),
    _rule("os-instance-actions:show", READER, "Show an action.", "GET", S + "/os-instance-actions/{request_id}"),
    _rule("os-instance-actions:events", ADMIN, "See an action's events (below 2.51).", "GET",
          S + "/os-instance-actions/{request_id}"),
    _rule("os-instance-actions:events:details", ADMIN, "See events' tracebacks and hosts.", "GET",
          S + "/os-instance-actions/{request_id}"),
]
