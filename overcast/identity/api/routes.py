"""The identity route table: every Keystone v3 operation overcast knows, as data.

Rows whose handler is ``not_implemented`` answer a clean 501 in Keystone's error style.
"""

from __future__ import annotations

from overcast.common.api import Route, not_implemented
from overcast.identity.api import (
    app_creds, assignments, catalog, credentials, domain_configs, domains, extensions, grants, groups, projects, roles,
    tokens, users, v2, versions,
)

P = "identity:"


def _grant_rows(prefix: str, actor: str, target: str, rules: tuple[str, str, str, str], inherited=False) -> list:
    list_, check, create, delete = grants.handlers(actor, target, inherited)
    suffix = "/inherited_to_projects" if inherited else ""
    collection = f"{prefix}/roles" if not inherited else None
    rows = [
        Route("GET", f"{prefix}/roles/{{role_id}}{suffix}", check, rules[1]),
        Route("PUT", f"{prefix}/roles/{{role_id}}{suffix}", create, rules[2]),
        Route("DELETE", f"{prefix}/roles/{{role_id}}{suffix}", delete, rules[3]),
    ]
    if collection:
        rows.append(Route("GET", collection, list_, rules[0]))
    else:
        rows.append(Route("GET", f"{prefix}/roles/inherited_to_projects", list_, rules[0]))
    return rows


GRANT = (P + "list_grants", P + "check_grant", P + "create_grant", P + "revoke_grant")
SYSTEM_USER = tuple(P + f"{verb}_system_grant_for_user" for verb in ("list", "check", "create", "revoke"))
SYSTEM_USER = (P + "list_system_grants_for_user",) + SYSTEM_USER[1:]
SYSTEM_GROUP = tuple(P + f"{verb}_system_grant_for_group" for verb in ("list", "check", "create", "revoke"))
SYSTEM_GROUP = (P + "list_system_grants_for_group",) + SYSTEM_GROUP[1:]

ROUTES = [
    Route("GET", "/", versions.root, auth=False),
    Route("GET", "/v3", versions.v3, auth=False),
    Route("GET", "/v3/", versions.v3, auth=False),
    Route("GET", "/v2.0", versions.v2, auth=False),
    Route("GET", "/v2.0/", versions.v2, auth=False),
    Route("POST", "/v2.0/tokens", v2.issue, auth=False),
    Route("GET", "/v2.0/tenants", v2.tenants),
    # tokens and auth discovery
    Route("POST", "/v3/auth/tokens", tokens.issue, auth=False),
    Route("GET", "/v3/auth/tokens", tokens.validate, P + "validate_token"),
    Route("HEAD", "/v3/auth/tokens", tokens.check, P + "check_token"),
    Route("DELETE", "/v3/auth/tokens", tokens.revoke, P + "revoke_token"),
    Route("GET", "/v3/auth/catalog", tokens.catalog, P + "get_auth_catalog"),
    Route("GET", "/v3/auth/projects", tokens.projects, P + "get_auth_projects"),
    Route("GET", "/v3/auth/domains", tokens.domains, P + "get_auth_domains"),
    Route("GET", "/v3/auth/system", tokens.system, P + "get_auth_system"),
    # domains
    Route("GET", "/v3/domains", domains.list_domains, P + "list_domains"),
    Route("POST", "/v3/domains", domains.create_domain, P + "create_domain"),
    Route("GET", "/v3/domains/{domain_id}", domains.get_domain, P + "get_domain"),
    Route("PATCH", "/v3/domains/{domain_id}", domains.update_domain, P + "update_domain"),
    Route("DELETE", "/v3/domains/{domain_id}", domains.delete_domain, P + "delete_domain"),
    *_grant_rows("/v3/domains/{domain_id}/users/{user_id}", "user", "domain", GRANT),
    *_grant_rows("/v3/domains/{domain_id}/groups/{group_id}", "group", "domain", GRANT),
    Route("GET", "/v3/domains/config/default", domain_configs.defaults, P + "get_domain_config_default"),
    Route("GET", "/v3/domains/config/{group}/default", domain_configs.defaults, P + "get_domain_config_default"),
    Route("GET", "/v3/domains/config/{group}/{option}/default", domain_configs.defaults,
          P + "get_domain_config_default"),
    Route("PUT", "/v3/domains/{domain_id}/config", domain_configs.replace, P + "create_domain_config"),
    *[
        Route(method, f"/v3/domains/{{domain_id}}/config{tail}", handler, P + rule)
        for tail in ("", "/{group}", "/{group}/{option}")
        for method, handler, rule in (
            ("GET", domain_configs.show, "get_domain_config"),
            ("PATCH", domain_configs.update, "update_domain_config"),
            ("DELETE", domain_configs.delete, "delete_domain_config"),
        )
    ],
    # projects
    Route("GET", "/v3/projects", projects.list_projects, P + "list_projects"),
    Route("POST", "/v3/projects", projects.create_project, P + "create_project"),
    Route("GET", "/v3/projects/{project_id}", projects.get_project, P + "get_project"),
    Route("PATCH", "/v3/projects/{project_id}", projects.update_project, P + "update_project"),
    Route("DELETE", "/v3/projects/{project_id}", projects.delete_project, P + "delete_project"),
    Route("GET", "/v3/projects/{project_id}/tags", projects.list_tags, P + "get_project_tag"),
    Route("PUT", "/v3/projects/{project_id}/tags", projects.replace_tags, P + "update_project_tags"),
    Route("DELETE", "/v3/projects/{project_id}/tags", projects.delete_tags, P + "update_project_tags"),
    Route("GET", "/v3/projects/{project_id}/tags/{tag}", projects.check_tag, P + "get_project_tag"),
    Route("PUT", "/v3/projects/{project_id}/tags/{tag}", projects.add_tag, P + "create_project_tag"),
    Route("DELETE", "/v3/projects/{project_id}/tags/{tag}", projects.delete_tag, P + "delete_project_tag"),
    *_grant_rows("/v3/projects/{project_id}/users/{user_id}", "user", "project", GRANT),
    *_grant_rows("/v3/projects/{project_id}/groups/{group_id}", "group", "project", GRANT),
    # users
    Route("GET", "/v3/users", users.list_users, P + "list_users"),
    Route("POST", "/v3/users", users.create_user, P + "create_user"),
    Route("GET", "/v3/users/{user_id}", users.get_user, P + "get_user"),
    Route("PATCH", "/v3/users/{user_id}", users.update_user, P + "update_user"),
    Route("DELETE", "/v3/users/{user_id}", users.delete_user, P + "delete_user"),
    Route("POST", "/v3/users/{user_id}/password", users.change_password, auth=False),
    Route("GET", "/v3/users/{user_id}/groups", users.list_user_groups, P + "list_groups_for_user"),
    Route("GET", "/v3/users/{user_id}/projects", projects.list_user_projects, P + "list_user_projects"),
    Route("GET", "/v3/users/{user_id}/credentials/OS-EC2", credentials.list_ec2, P + "ec2_list_credentials"),
    Route("POST", "/v3/users/{user_id}/credentials/OS-EC2", credentials.create_ec2, P + "ec2_create_credential"),
    Route("GET", "/v3/users/{user_id}/credentials/OS-EC2/{access}", credentials.get_ec2, P + "ec2_get_credential"),
    Route("DELETE", "/v3/users/{user_id}/credentials/OS-EC2/{access}", credentials.delete_ec2,
          P + "ec2_delete_credential"),
    Route("GET", "/v3/users/{user_id}/application_credentials", app_creds.list_all,
          P + "list_application_credentials"),
    Route("POST", "/v3/users/{user_id}/application_credentials", app_creds.create,
          P + "create_application_credential"),
    Route("GET", "/v3/users/{user_id}/application_credentials/{app_cred_id}", app_creds.get,
          P + "get_application_credential"),
    Route("DELETE", "/v3/users/{user_id}/application_credentials/{app_cred_id}", app_creds.delete,
          P + "delete_application_credential"),
    Route("GET", "/v3/users/{user_id}/access_rules", not_implemented),
    Route("GET", "/v3/users/{user_id}/OS-OAUTH1/access_tokens", not_implemented),
    # groups
    Route("GET", "/v3/groups", groups.list_groups, P + "list_groups"),
    Route("POST", "/v3/groups", groups.create_group, P + "create_group"),
    Route("GET", "/v3/groups/{group_id}", groups.get_group, P + "get_group"),
    Route("PATCH", "/v3/groups/{group_id}", groups.update_group, P + "update_group"),
    Route("DELETE", "/v3/groups/{group_id}", groups.delete_group, P + "delete_group"),
    Route("GET", "/v3/groups/{group_id}/users", groups.list_members, P + "list_users_in_group"),
    Route("GET", "/v3/groups/{group_id}/users/{user_id}", groups.check_member, P + "check_user_in_group"),
    Route("PUT", "/v3/groups/{group_id}/users/{user_id}", groups.add_member, P + "add_user_to_group"),
    Route("DELETE", "/v3/groups/{group_id}/users/{user_id}", groups.remove_member, P + "remove_user_from_group"),
    # roles
    Route("GET", "/v3/roles", roles.list_roles, P + "list_roles"),
    Route("POST", "/v3/roles", roles.create_role, P + "create_role"),
    Route("GET", "/v3/roles/{role_id}", roles.get_role, P + "get_role"),
    Route("PATCH", "/v3/roles/{role_id}", roles.update_role, P + "update_role"),
    Route("DELETE", "/v3/roles/{role_id}", roles.delete_role, P + "delete_role"),
    Route("GET", "/v3/roles/{prior_role_id}/implies", roles.list_implied, P + "list_implied_roles"),
    Route("GET", "/v3/roles/{prior_role_id}/implies/{implied_role_id}", roles.get_implied, P + "get_implied_role"),
    Route("PUT", "/v3/roles/{prior_role_id}/implies/{implied_role_id}", roles.create_implied,
          P + "create_implied_role"),
    Route("DELETE", "/v3/roles/{prior_role_id}/implies/{implied_role_id}", roles.delete_implied,
          P + "delete_implied_role"),
    Route("GET", "/v3/role_inferences", roles.list_inferences, P + "list_role_inference_rules"),
    Route("GET", "/v3/role_assignments", assignments.list_assignments, P + "list_role_assignments"),
    *_grant_rows("/v3/system/users/{user_id}", "user", "system", SYSTEM_USER),
    *_grant_rows("/v3/system/groups/{group_id}", "group", "system", SYSTEM_GROUP),
    *_grant_rows("/v3/OS-INHERIT/domains/{domain_id}/users/{user_id}", "user", "domain", GRANT, inherited=True),
    *_grant_rows("/v3/OS-INHERIT/domains/{domain_id}/groups/{group_id}", "group", "domain", GRANT, inherited=True),
    *_grant_rows("/v3/OS-INHERIT/projects/{project_id}/users/{user_id}", "user", "project", GRANT, inherited=True),
    *_grant_rows("/v3/OS-INHERIT/projects/{project_id}/groups/{group_id}", "group", "project", GRANT,
                 inherited=True),
    # catalog
    Route("GET", "/v3/regions", catalog.list_regions, P + "list_regions"),
    Route("POST", "/v3/regions", catalog.create_region, P + "create_region"),
    Route("GET", "/v3/regions/{region_id}", catalog.get_region, P + "get_region"),
    Route("PUT", "/v3/regions/{region_id}", catalog.put_region, P + "create_region"),
    Route("PATCH", "/v3/regions/{region_id}", catalog.update_region, P + "update_region"),
    Route("DELETE", "/v3/regions/{region_id}", catalog.delete_region, P + "delete_region"),
    Route("GET", "/v3/services", catalog.list_services, P + "list_services"),
    Route("POST", "/v3/services", catalog.create_service, P + "create_service"),
    Route("GET", "/v3/services/{service_id}", catalog.get_service, P + "get_service"),
    Route("PATCH", "/v3/services/{service_id}", catalog.update_service, P + "update_service"),
    Route("DELETE", "/v3/services/{service_id}", catalog.delete_service, P + "delete_service"),
    Route("GET", "/v3/endpoints", catalog.list_endpoints, P + "list_endpoints"),
    Route("POST", "/v3/endpoints", catalog.create_endpoint, P + "create_endpoint"),
    Route("GET", "/v3/endpoints/{endpoint_id}", catalog.get_endpoint, P + "get_endpoint"),
    Route("PATCH", "/v3/endpoints/{endpoint_id}", catalog.update_endpoint, P + "update_endpoint"),
    Route("DELETE", "/v3/endpoints/{endpoint_id}", catalog.delete_endpoint, P + "delete_endpoint"),
    # credentials and policies
    Route("GET", "/v3/credentials", credentials.list_credentials, P + "list_credentials"),
    Route("POST", "/v3/credentials", credentials.create_credential, P + "create_credential"),
    Route("GET", "/v3/credentials/{credential_id}", credentials.get_credential, P + "get_credential"),
    Route("PATCH", "/v3/credentials/{credential_id}", credentials.update_credential, P + "update_credential"),
    Route("DELETE", "/v3/credentials/{credential_id}", credentials.delete_credential, P + "delete_credential"),
    Route("POST", "/v3/ec2tokens", tokens.issue_ec2, auth=False),
    Route("GET", "/v3/policies", credentials.list_policies, P + "list_policies"),
    Route("POST", "/v3/policies", credentials.create_policy, P + "create_policy"),
    Route("GET", "/v3/policies/{policy_id}", credentials.get_policy, P + "get_policy"),
    Route("PATCH", "/v3/policies/{policy_id}", credentials.update_policy, P + "update_policy"),
    Route("DELETE", "/v3/policies/{policy_id}", credentials.delete_policy, P + "delete_policy"),
    # not yet served
    Route("GET", "/v3/OS-TRUST/trusts", not_implemented),
    Route("POST", "/v3/OS-TRUST/trusts", not_implemented),
    Route("GET", "/v3/limits", not_implemented),
    Route("GET", "/v3/registered_limits", not_implemented),
    Route("GET", "/v3/OS-FEDERATION/identity_providers", not_implemented),
    Route("GET", "/v3/OS-REVOKE/events", not_implemented),
    Route("GET", "/v3/OS-EP-FILTER/endpoint_groups", extensions.list_groups, P + "list_endpoint_groups"),
    Route("POST", "/v3/OS-EP-FILTER/endpoint_groups", extensions.create_group, P + "create_endpoint_group"),
    Route("GET", "/v3/OS-EP-FILTER/endpoint_groups/{group_id}", extensions.get_group, P + "get_endpoint_group"),
    Route("PATCH", "/v3/OS-EP-FILTER/endpoint_groups/{group_id}", extensions.update_group,
          P + "update_endpoint_group"),
    Route("DELETE", "/v3/OS-EP-FILTER/endpoint_groups/{group_id}", extensions.delete_group,
          P + "delete_endpoint_group"),
    Route("GET", "/v3/OS-EP-FILTER/projects/{project_id}/endpoints", not_implemented),
    Route("GET", "/v3/OS-OAUTH1/consumers", extensions.list_consumers, P + "list_consumers"),
    Route("POST", "/v3/OS-OAUTH1/consumers", extensions.create_consumer, P + "create_consumer"),
    Route("GET", "/v3/OS-OAUTH1/consumers/{consumer_id}", extensions.get_consumer, P + "get_consumer"),
    Route("PATCH", "/v3/OS-OAUTH1/consumers/{consumer_id}", extensions.update_consumer, P + "update_consumer"),
    Route("DELETE", "/v3/OS-OAUTH1/consumers/{consumer_id}", extensions.delete_consumer, P + "delete_consumer"),
    Route("POST", "/v3/OS-OAUTH1/request_token", not_implemented, auth=False),
    Route("GET", "/v3/OS-SIMPLE-CERT/ca", not_implemented),
]
