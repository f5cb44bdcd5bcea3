"""Compute default policy rules, with Nova's rule names so its policy.yaml files work."""

from overcast.common.policy import Rule
from overcast.compute.policies_admin import RULES as ADMIN_RULES
from overcast.compute.policies_hosts import RULES as HOST_RULES
from overcast.compute.policies_misc import RULES as MISC_RULES
from overcast.compute.policies_network import RULES as NETWORK_RULES
from overcast.compute.policies_servers import RULES as SERVER_RULES
from overcast.compute.policies_volumes import RULES as VOLUME_RULES

P = "os_compute_api:"
ADMIN = "role:admin"
ANY = "@"
OWNER = "(role:admin) or user_id:%(user_id)s"  # keypairs belong to users
PROJECT_READER = "role:admin or (role:reader and project_id:%(project_id)s)"
GROUP_MEMBER = "role:admin or (role:member and project_id:%(project_id)s)"  # Nova's PROJECT_MEMBER_OR_ADMIN

RULES = [
    Rule(P + "flavors:index", ANY, "List flavors.", [("GET", "/flavors"), ("GET", "/flavors/detail")]),
    Rule(P + "flavors:show", ANY, "Show a flavor.", [("GET", "/flavors/{flavor_id}")]),
    Rule(P + "os-flavor-manage:create", ADMIN, "Create a flavor.", [("POST", "/flavors")]),
    Rule(P + "os-flavor-manage:update", ADMIN, "Update a flavor's description.", [("PUT", "/flavors/{flavor_id}")]),
    Rule(P + "os-flavor-manage:delete", ADMIN, "Delete a flavor.", [("DELETE", "/flavors/{flavor_id}")]),
    Rule(P + "os-flavor-extra-specs:index", ANY, "List a flavor's extra specs.",
         [("GET", "/flavors/{flavor_id}/os-extra_specs")]),
    Rule(P + "os-flavor-extra-specs:show", ANY, "Show an extra spec.",
         [("GET", "/flavors/{flavor_id}/os-extra_specs/{key}")]),
    Rule(P + "os-flavor-extra-specs:create", ADMIN, "Set extra specs.",
         [("POST", "/flavors/{flavor_id}/os-extra_specs")]),
    Rule(P + "os-flavor-extra-specs:update", ADMIN, "Update an extra spec.",
         [("PUT", "/flavors/{flavor_id}/os-extra_specs/{key}")]),
    Rule(P + "os-flavor-extra-specs:delete", ADMIN, "Delete an extra spec.",
         [("DELETE", "/flavors/{flavor_id}/os-extra_specs/{key}")]),
    Rule(P + "os-flavor-access", ADMIN, "List projects with access to a private flavor.",
         [("GET", "/flavors/{flavor_id}/os-flavor-access")]),
    Rule(P + "os-flavor-access:add_tenant_access", ADMIN, "Give a project access to a private flavor.",
         [("POST", "/flavors/{flavor_id}/action (addTenantAccess)")]),
    Rule(P + "os-flavor-access:remove_tenant_access", ADMIN, "Take a project's access to a private flavor.",
         [("POST", "/flavors/{flavor_id}/action (removeTenantAccess)")]),
    Rule(P + "os-keypairs:index", OWNER, "List keypairs.", [("GET", "/os-keypairs")]),
    Rule(P + "os-keypairs:create", OWNER, "Create or import a keypair.", [("POST", "/os-keypairs")]),
    Rule(P + "os-keypairs:show", OWNER, "Show a keypair.", [("GET", "/os-keypairs/{keypair_name}")]),
    Rule(P + "os-keypairs:delete", OWNER, "Delete a keypair.", [("DELETE", "/os-keypairs/{keypair_name}")]),
    Rule(P + "os-availability-zone:list", ANY, "List availability zones.", [("GET", "/os-availability-zone")]),
    Rule(P + "limits", ANY, "Show rate and absolute limits.", [("GET", "/limits")]),
    Rule(P + "os-quota-sets:show", PROJECT_READER, "Show a project's quotas.", [("GET", "/os-quota-sets/{tenant_id}")]),
    Rule(P + "os-quota-sets:detail", PROJECT_READER, "Show a project's quotas with usage.",
         [("GET", "/os-quota-sets/{tenant_id}/detail")]),
    Rule(P + "os-quota-sets:defaults", ANY, "Show the default quotas.", [("GET", "/os-quota-sets/{tenant_id}/defaults")]),
    Rule(P + "os-quota-sets:update", ADMIN, "Set a project's quotas.", [("PUT", "/os-quota-sets/{tenant_id}")]),
    Rule(P + "os-quota-sets:delete", ADMIN, "Revert a project's quotas to the defaults.",
         [("DELETE", "/os-quota-sets/{tenant_id}")]),
    Rule(P + "os-server-groups:index", PROJECT_READER, "List the project's server groups.",
         [("GET", "/os-server-groups")]),
    Rule(P + "os-server-groups:index:all_projects", ADMIN, "List every project's server groups.",
         [("GET", "/os-server-groups")]),
    Rule(P + "os-server-groups:create", GROUP_MEMBER, "Create a server group.", [("POST", "/os-server-groups")]),
    Rule(P + "os-server-groups:show", PROJECT_READER, "Show a server group.",
         [("GET", "/os-server-groups/{server_group_id}")]),
    Rule(P + "os-server-groups:delete", GROUP_MEMBER, "Delete a server group.",
         [("DELETE", "/os-server-groups/{server_group_id}")]),
    *SERVER_RULES,
    *HOST_RULES,
    *MISC_RULES,
    *ADMIN_RULES,
    *NETWORK_RULES,
    *VOLUME_RULES,
]
