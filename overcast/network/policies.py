"""Network default policy rules, with Neutron's rule names and defaults (its 2024
secure-RBAC ones), so Neutron's policy.yaml files work. Attribute rules
(``create_network:shared``) guard single attributes: on create and update only when
the request sets them, on GET by leaving them out of the answer."""

from overcast.common.policy import Rule

ADMIN = "rule:admin_only"
MEMBER = "(rule:admin_only) or (role:member and project_id:%(project_id)s)"
READER = "(rule:admin_only) or (role:reader and project_id:%(project_id)s)"
NET_MEMBER = "(rule:admin_only) or (role:member and project_id:%(network:project_id)s)"
NET_READER = "(rule:admin_only) or (role:reader and project_id:%(network:project_id)s)"
ANY = "@"

BASE = [
    # context_is_admin ("role:admin") is the image service's rule of the same name and text
    Rule("admin_only", "rule:context_is_admin", "Rule for admin-only access."),
    Rule("context_is_advsvc", "role:advsvc", "Rule for advanced services (unused here)."),
    Rule("admin_or_network_owner", "rule:context_is_admin or project_id:%(network:project_id)s",
         "Admin or the owner of the network the resource is on."),
    Rule("network_owner", "project_id:%(network:project_id)s", "The owner of the resource's network."),
    Rule("shared", "field:networks:shared=True", "The network is shared."),
    Rule("external", "field:networks:router:external=True", "The network is external."),
    Rule("shared_subnetpools", "field:subnetpools:shared=True", "The subnet pool is shared."),
    Rule("regular_user", "", "Any authenticated user."),
]


def crud(resource: str, plural: str, create: str = MEMBER, get: str = READER, update: str = MEMBER,
         delete: str = MEMBER, attributes: dict | None = None) -> list[Rule]:
    """The four rules of one resource, and its attribute rules (``action:attr`` -> check)."""
    path = f"/v2.0/{plural}"
    rules = [
        Rule(f"create_{resource}", create, f"Create a {resource}.", [("POST", path)]),
        Rule(f"get_{resource}", get, f"Show or list {plural}.", [("GET", path), ("GET", path + "/{id}")]),
        Rule(f"update_{resource}", update, f"Update a {resource}.", [("PUT", path + "/{id}")]),
        Rule(f"delete_{resource}", delete, f"Delete a {resource}.", [("DELETE", path + "/{id}")]),
    ]
    for name, check in (attributes or {}).items():
        action, _, attribute = name.partition(":")
        method = {"create": "POST", "get": "GET", "update": "PUT"}[action]
        rules.append(Rule(f"{action}_{resource}:{attribute}", check,
                          f"{action.title()} the ``{attribute}`` attribute of a {resource}.", [(method, path)]))
    return rules


PROVIDER = ("provider:network_type", "provider:physical_network", "provider:segmentation_id", "segments")

NETWORKS = crud("network", "networks", get=f"({READER}) or rule:shared or rule:external", attributes={
    **{f"{action}:{attr}": ADMIN for action in ("create", "get", "update") for attr in PROVIDER},
    **{f"{action}:{attr}": ADMIN for action in ("create", "update") for attr in ("shared", "router:external",
                                                                                  "is_default")},
    "create:port_security_enabled": MEMBER, "update:port_security_enabled": MEMBER, "get:router:external": ANY,
})
SUBNETS = crud("subnet", "subnets", create=NET_MEMBER, get=f"({READER}) or rule:shared or ({NET_READER})",
               update=NET_MEMBER, delete=NET_MEMBER,
               attributes={"create:segment_id": ADMIN, "update:segment_id": ADMIN, "create:service_types": ADMIN,
                           "update:service_types": ADMIN})
SUBNETPOOLS = crud("subnetpool", "subnetpools", get=f"({READER}) or rule:shared_subnetpools", attributes={
    "create:shared": ADMIN, "create:is_default": ADMIN, "update:is_default": ADMIN})
PORT_NET = f"({MEMBER}) or ({NET_MEMBER})"
PORTS = crud("port", "ports", create=f"({MEMBER}) or ({NET_MEMBER}) or rule:shared",
             get=f"({READER}) or ({NET_READER})", update=PORT_NET, delete=PORT_NET, attributes={
    "create:device_owner": f"not rule:network_device or ({NET_MEMBER})",
    "create:mac_address": NET_MEMBER, "create:fixed_ips:ip_address": NET_MEMBER,
    "create:port_security_enabled": NET_MEMBER, "create:allowed_address_pairs": NET_MEMBER,
    **{f"{action}:binding:{attr}": ADMIN for action in ("create", "update") for attr in ("host_id", "profile")},
    **{f"get:binding:{attr}": ADMIN for attr in ("vif_type", "vif_details", "host_id", "profile")},
    "update:device_owner": f"not rule:network_device or ({NET_MEMBER})", "update:mac_address": ADMIN,
    "update:fixed_ips:ip_address": NET_MEMBER, "update:port_security_enabled": NET_MEMBER,
    "update:allowed_address_pairs": NET_MEMBER,
})
ROUTERS = crud("router", "routers", attributes={
    "create:external_gateway_info:enable_snat": ADMIN, "create:external_gateway_info:external_fixed_ips": ADMIN,
    "update:external_gateway_info:enable_snat": ADMIN, "update:external_gateway_info:external_fixed_ips": ADMIN,
    "create:distributed": ADMIN, "create:ha": ADMIN, "get:distributed": ADMIN, "get:ha": ADMIN,
    "update:distributed": ADMIN, "update:ha": ADMIN})
ROUTER_INTERFACES = [
    Rule("add_router_interface", MEMBER, "Add an interface to a router.",
         [("PUT", "/v2.0/routers/{id}/add_router_interface")]),
    Rule("remove_router_interface", MEMBER, "Remove an interface from a router.",
         [("PUT", "/v2.0/routers/{id}/remove_router_interface")]),
    Rule("add_extraroutes", MEMBER, "Add static routes to a router.", [("PUT", "/v2.0/routers/{id}/add_extraroutes")]),
    Rule("remove_extraroutes", MEMBER, "Remove static routes from a router.",
         [("PUT", "/v2.0/routers/{id}/remove_extraroutes")]),
]
FLOATING_IPS = crud("floatingip", "floatingips", attributes={"create:floating_ip_address": ADMIN})
PORT_FORWARDINGS = crud("floatingip_port_forwarding", "floatingips/{floatingip_id}/port_forwardings")
SECURITY_GROUPS = crud("security_group", "security-groups")
SECURITY_GROUP_RULES = crud("security_group_rule", "security-group-rules",
                            get=f"({READER}) or (role:reader and project_id:%(security_group:project_id)s)")
OTHER = [
    Rule("get_auto_allocated_topology", MEMBER, "Show (making it if needed) a project's auto-allocated network.",
         [("GET", "/v2.0/auto-allocated-topology/{project_id}")]),
    Rule("delete_auto_allocated_topology", MEMBER, "Delete a project's auto-allocated network.",
         [("DELETE", "/v2.0/auto-allocated-topology/{project_id}")]),
    Rule("network_device", "field:port:device_owner=~^network:", "The port belongs to a network device."),
    Rule("get_quota", READER, "Show a project's quotas.", [("GET", "/v2.0/quotas/{project_id}")]),
    Rule("update_quota", ADMIN, "Set a project's quotas.", [("PUT", "/v2.0/quotas/{project_id}")]),
    Rule("delete_quota", ADMIN, "Reset a project's quotas to the defaults.", [("DELETE", "/v2.0/quotas/{project_id}")]),
    Rule("get_agent", ADMIN, "Show or list agents.", [("GET", "/v2.0/agents"), ("GET", "/v2.0/agents/{id}")]),
    Rule("update_agent", ADMIN, "Update an agent.", [("PUT", "/v2.0/agents/{id}")]),
    Rule("delete_agent", ADMIN, "Delete an agent.", [("DELETE", "/v2.0/agents/{id}")]),
    Rule("get_dhcp-networks", ADMIN, "List the networks a DHCP agent serves.",
         [("GET", "/v2.0/agents/{id}/dhcp-networks")]),
    Rule("create_dhcp-network", ADMIN, "Add a network to a DHCP agent.", [("POST", "/v2.0/agents/{id}/dhcp-networks")]),
    Rule("delete_dhcp-network", ADMIN, "Remove a network from a DHCP agent.",
         [("DELETE", "/v2.0/agents/{id}/dhcp-networks/{network_id}")]),
    Rule("get_l3-routers", ADMIN, "List the routers an L3 agent runs.", [("GET", "/v2.0/agents/{id}/l3-routers")]),
    Rule("create_l3-router", ADMIN, "Add a router to an L3 agent.", [("POST", "/v2.0/agents/{id}/l3-routers")]),
    Rule("delete_l3-router", ADMIN, "Remove a router from an L3 agent.",
         [("DELETE", "/v2.0/agents/{id}/l3-routers/{router_id}")]),
    Rule("get_dhcp-agents", ADMIN, "List the DHCP agents serving a network.",
         [("GET", "/v2.0/networks/{network_id}/dhcp-agents")]),
    Rule("get_l3-agents", ADMIN, "List the L3 agents running a router.", [("GET", "/v2.0/routers/{router_id}/l3-agents")]),
    Rule("get_availability_zone", ANY, "List availability zones.", [("GET", "/v2.0/availability_zones")]),
    Rule("get_network_ip_availability", ADMIN, "Show IP availability of networks.",
         [("GET", "/v2.0/network-ip-availabilities")]),
    Rule("get_service_provider", ANY, "List service providers.", [("GET", "/v2.0/service-providers")]),
]

RULES = (BASE + NETWORKS + SUBNETS + SUBNETPOOLS + PORTS + ROUTERS + ROUTER_INTERFACES + FLOATING_IPS
         + PORT_FORWARDINGS + SECURITY_GROUPS + SECURITY_GROUP_RULES + OTHER)
