"""Default policy rules of compute's network calls (addresses, interfaces) and of the
proxies of the network service Nova keeps for old clients, with Nova's rule names."""

from overcast.common.policy import Rule

P = "os_compute_api:"
MEMBER = "role:admin or (role:member and project_id:%(project_id)s)"
READER = "role:admin or (role:reader and project_id:%(project_id)s)"
S = "/servers/{server_id}"

RULES = [Rule(P + name, check, text, [(method, path)]) for name, check, text, method, path in (
    ("ips:index", READER, "List a server's addresses.", "GET", S + "/ips"),
    ("ips:show", READER, "List a server's addresses on one network.", "GET", S + "/ips/{network_label}"),
    ("os-attach-interfaces:list", READER, "List a server's interfaces.", "GET", S + "/os-interface"),
    ("os-attach-interfaces:show", READER, "Show a server's interface.", "GET", S + "/os-interface/{port_id}"),
    ("os-attach-interfaces:create", MEMBER, "Attach an interface to a server.", "POST", S + "/os-interface"),
    ("os-attach-interfaces:delete", MEMBER, "Detach an interface from a server.", "DELETE",
     S + "/os-interface/{port_id}"),
    ("os-networks:list", READER, "List networks (proxy, below 2.36).", "GET", "/os-networks"),
    ("os-networks:view", READER, "Show a network (proxy, below 2.36).", "GET", "/os-networks/{network_id}"),
    ("os-tenant-networks:list", READER, "List the project's networks (proxy).", "GET", "/os-tenant-networks"),
    ("os-tenant-networks:show", READER, "Show a project network (proxy).", "GET", "/os-tenant-networks/{network_id}"),
    ("os-security-groups:get", READER, "List security groups (proxy).", "GET", "/os-security-groups"),
    ("os-security-groups:show", READER, "Show a security group (proxy).", "GET", "/os-security-groups/{id}"),
    ("os-security-groups:create", MEMBER, "Create a security group (proxy).", "POST", "/os-security-groups"),
    ("os-security-groups:update", MEMBER, "Update a security group (proxy).", "PUT", "/os-security-groups/{id}"),
    ("os-security-groups:delete", MEMBER, "Delete a security group (proxy).", "DELETE", "/os-security-groups/{id}"),
    ("os-security-groups:rule:create", MEMBER, "Create a security group rule (proxy).", "POST",
     "/os-security-group-rules"),
    ("os-security-groups:rule:delete", MEMBER, "Delete a security group rule (proxy).", "DELETE",
     "/os-security-group-rules/{id}"),
    ("os-security-groups:list", READER, "List a server's security groups.", "GET", S + "/os-security-groups"),
    ("os-floating-ips:list", READER, "List floating IPs (proxy).", "GET", "/os-floating-ips"),
    ("os-floating-ips:show", READER, "Show a floating IP (proxy).", "GET", "/os-floating-ips/{id}"),
    ("os-floating-ips:create", MEMBER, "Allocate a floating IP (proxy).", "POST", "/os-floating-ips"),
    ("os-floating-ips:delete", MEMBER, "Release a floating IP (proxy).", "DELETE", "/os-floating-ips/{id}"),
    ("os-floating-ips:add", MEMBER, "Associate a floating IP with a server.", "POST", S + "/action (addFloatingIp)"),
    ("os-floating-ips:remove", MEMBER, "Disassociate a floating IP from a server.", "POST",
     S + "/action (removeFloatingIp)"),
    ("os-server-password:show", READER, "Show a server's encrypted password.", "GET", S + "/os-server-password"),
    ("os-server-password:clear", MEMBER, "Clear a server's encrypted password.", "DELETE",
     S + "/os-server-password"),
    ("os-admin-actions:inject_network_info", "role:admin", "Inject network information into a server.", "POST",
     S + "/action (injectNetworkInfo)"),
    ("os-floating-ip-pools", "@", "List floating IP pools (proxy).", "GET", "/os-floating-ip-pools"),
)]
