"""/v2.1/extensions[/{alias}]: Nova's legacy list of API extensions, limited to what overcast serves.

Nova's list has been static since v2.1 (microversions replaced extensions). Each entry
here names what it needs, a route ("GET /v2.1/os-hosts") or a server action
("action:pause"), and is listed only while the route table serves that route with a real
handler (not the 501 stub) or the server action dispatcher knows that action. An entry
with no probe describes something overcast does not do at all; it is kept for the day it
does. Names and descriptions are Nova's, as clients see them.
"""

from __future__ import annotations

from overcast.common.api import reply
from overcast.common.api.routing import not_implemented
from overcast.common.errors import NotFound

SERVERS = "GET /v2.1/servers"  # attributes and request fields of the servers API itself
S = "/v2.1/servers/{server_id}"
ADMIN_ACTIONS = ("Enable admin-only server actions\n\n    Actions include: resetNetwork, injectNetworkInfo, "
                 "os-resetState\n    ")
ZONES = "1. Add availability_zone to the Create Server API.\n       2. Add availability zones describing.\n    "
CELLS = ("Enables cells-related functionality such as adding neighbor cells,\n    listing neighbor cells, and getting "
         "the capabilities of the local cell.\n    ")
CLOUDPIPE = ("Adds actions to create cloudpipe instances.\n\n    When running with the Vlan network mode, you need a "
             "mechanism to route\n    from the public Internet to your vlans.  This mechanism is known as a\n    "
             "cloudpipe.\n\n    At the time of creating this class, only OpenVPN is supported.  Support for\n    a SSH "
             "Bastion host is forthcoming.\n    ")

# (alias, name, description, probe)
EXTENSIONS = [
    ("NMN", "Multinic", "Multiple network support.", "action:addFixedIp"),
    ("OS-DCF", "DiskConfig", "Disk Management Extension.", SERVERS),
    ("OS-EXT-AZ", "ExtendedAvailabilityZone", "Extended Availability Zone support.", SERVERS),
    ("OS-EXT-IMG-SIZE", "ImageSize", "Adds image size to image listings.", "GET /v2.1/images"),
    ("OS-EXT-IPS", "ExtendedIps", "Adds type parameter to the ip list.", SERVERS),
    ("OS-EXT-IPS-MAC", "ExtendedIpsMac", "Adds mac address parameter to the ip list.", SERVERS),
    ("OS-EXT-SRV-ATTR", "ExtendedServerAttributes", "Extended Server Attributes support.", SERVERS),
    ("OS-EXT-STS", "ExtendedStatus", "Extended Status support.", SERVERS),
    ("OS-FLV-DISABLED", "FlavorDisabled", "Support to show the disabled status of a flavor.", "GET /v2.1/flavors"),
    ("OS-FLV-EXT-DATA", "FlavorExtraData", "Provide additional data for flavors.", "GET /v2.1/flavors"),
    ("OS-SCH-HNT", "SchedulerHints", "Pass arbitrary key/value pairs to the scheduler.", SERVERS),
    ("OS-SRV-USG", "ServerUsage", "Adds launched_at and terminated_at on Servers.", SERVERS),
    ("os-access-ips", "AccessIPs", "Access IPs support.", SERVERS),
    ("os-admin-actions", "AdminActions", ADMIN_ACTIONS, "action:os-resetState"),
    ("os-admin-password", "AdminPassword", "Admin password management support.", "action:changePassword"),
    ("os-agents", "Agents", "Agents support.", "GET /v2.1/os-agents"),
    ("os-aggregates", "Aggregates", "Admin-only aggregate administration.", "GET /v2.1/os-aggregates"),
    ("os-assisted-volume-snapshots", "AssistedVolumeSnapshots", "Assisted volume snapshots.",
     "POST /v2.1/os-assisted-volume-snapshots"),
    ("os-attach-interfaces", "AttachInterfaces", "Attach interface support.", f"GET {S}/os-interface"),
    ("os-availability-zone", "AvailabilityZone", ZONES, "GET /v2.1/os-availability-zone"),
    ("os-baremetal-ext-status", "BareMetalExtStatus", "Add extended status in Baremetal Nodes v2 API.",
     "GET /v2.1/os-baremetal-nodes"),
    ("os-baremetal-nodes", "BareMetalNodes", "Admin-only bare-metal node administration.",
     "GET /v2.1/os-baremetal-nodes"),
    ("os-block-device-mapping", "BlockDeviceMapping", "Block device mapping boot support.", SERVERS),
    ("os-block-device-mapping-v2-boot", "BlockDeviceMappingV2Boot", "Allow boot with the new BDM data format.",
     SERVERS),
    ("os-cell-capacities", "CellCapacities", "Adding functionality to get cell capacities.", "GET /v2.1/os-cells"),
    ("os-cells", "Cells", CELLS, "GET /v2.1/os-cells"),
    ("os-certificates", "Certificates", "Certificates support.", "POST /v2.1/os-certificates"),
    ("os-cloudpipe", "Cloudpipe", CLOUDPIPE, "GET /v2.1/os-cloudpipe"),
    ("os-cloudpipe-update", "CloudpipeUpdate", "Adds the ability to set the vpn ip/port for cloudpipe instances.",
     "GET /v2.1/os-cloudpipe"),
    ("os-config-drive", "ConfigDrive", "Config Drive Extension.", SERVERS),
    ("os-console-auth-tokens", "ConsoleAuthTokens", "Console token authentication support.",
     "GET /v2.1/os-console-auth-tokens/{console_token}"),
    ("os-console-output", "ConsoleOutput", "Console log output support, with tailing ability.",
     "action:os-getConsoleOutput"),
    ("os-consoles", "Consoles", "Interactive Console support.", f"POST {S}/remote-consoles"),
    ("os-create-backup", "CreateBackup", "Create a backup of a server.", "action:createBackup"),
    ("os-create-server-ext", "Createserverext", "Extended support to the Create Server v1.1 API.", SERVERS),
    ("os-deferred-delete", "DeferredDelete", "Instance deferred delete.", "action:restore"),
    ("os-evacuate", "Evacuate", "Enables server evacuation.", "action:evacuate"),
    ("os-extended-evacuate-find-host", "ExtendedEvacuateFindHost",
     "Enables server evacuation without target host. Scheduler will select one to target.", "action:evacuate"),
    ("os-extended-floating-ips", "ExtendedFloatingIps", "Adds optional fixed_address to the add floating IP command.",
     "GET /v2.1/os-floating-ips"),
    ("os-extended-hypervisors", "ExtendedHypervisors", "Extended hypervisors support.", "GET /v2.1/os-hypervisors"),
    ("os-extended-networks", "ExtendedNetworks", "Adds additional fields to networks.", "GET /v2.1/os-networks"),
    ("os-extended-quotas", "ExtendedQuotas", "Adds ability for admins to delete quota and optionally force the "
     "update Quota command.", "DELETE /v2.1/os-quota-sets/{project_id}"),
    ("os-extended-rescue-with-image", "ExtendedRescueWithImage", "Allow the user to specify the image to use for "
     "rescue.", "action:rescue"),
    ("os-extended-services", "ExtendedServices", "Extended services support.", "PUT /v2.1/os-services/{service_id}"),
    ("os-extended-services-delete", "ExtendedServicesDelete", "Extended services deletion support.",
     "DELETE /v2.1/os-services/{service_id}"),
    ("os-extended-status", "ExtendedStatus", "Extended Status support.", SERVERS),
    ("os-extended-volumes", "ExtendedVolumes", "Extended Volumes support.", SERVERS),
    ("os-fixed-ips", "FixedIPs", "Fixed IPs support.", "GET /v2.1/os-fixed-ips/{fixed_ip}"),
    ("os-flavor-access", "FlavorAccess", "Flavor access support.", "GET /v2.1/flavors/{flavor_id}/os-flavor-access"),
    ("os-flavor-extra-specs", "FlavorExtraSpecs", "Flavors extra specs support.",
     "GET /v2.1/flavors/{flavor_id}/os-extra_specs"),
    ("os-flavor-manage", "FlavorManage", "Flavor create/delete API support.", "POST /v2.1/flavors"),
    ("os-flavor-rxtx", "FlavorRxtx", "Support to show the rxtx status of a flavor.", "GET /v2.1/flavors"),
    ("os-flavor-swap", "FlavorSwap", "Support to show the swap status of a flavor.", "GET /v2.1/flavors"),
    ("os-floating-ip-dns", "FloatingIpDns", "Floating IP DNS support.", "GET /v2.1/os-floating-ip-dns"),
    ("os-floating-ip-pools", "FloatingIpPools", "Floating IPs support.", "GET /v2.1/os-floating-ip-pools"),
    ("os-floating-ips", "FloatingIps", "Floating IPs support.", "GET /v2.1/os-floating-ips"),
    ("os-floating-ips-bulk", "FloatingIpsBulk", "Bulk handling of Floating IPs.", "GET /v2.1/os-floating-ips-bulk"),
    ("os-fping", "Fping", "Fping Management Extension.", "GET /v2.1/os-fping"),
    ("os-hide-server-addresses", "HideServerAddresses", "Support hiding server addresses in certain states.",
     SERVERS),
    ("os-hosts", "Hosts", "Admin-only host administration.", "GET /v2.1/os-hosts"),
    ("os-hypervisor-status", "HypervisorStatus", "Show hypervisor status.", "GET /v2.1/os-hypervisors"),
    ("os-hypervisors", "Hypervisors", "Admin-only hypervisor administration.", "GET /v2.1/os-hypervisors"),
    ("os-instance-actions", "InstanceActions", "View a log of actions and events taken on an instance.",
     f"GET {S}/os-instance-actions"),
    ("os-instance_usage_audit_log", "OSInstanceUsageAuditLog", "Admin-only Task Log Monitoring.",
     "GET /v2.1/os-instance_usage_audit_log"),
    ("os-keypairs", "Keypairs", "Keypair Support.", "GET /v2.1/os-keypairs"),
    ("os-lock-server", "LockServer", "Enable lock/unlock server actions.", "action:lock"),
    ("os-migrate-server", "MigrateServer", "Enable migrate and live-migrate server actions.", "action:migrate"),
    ("os-migrations", "Migrations", "Provide data on migrations.", "GET /v2.1/os-migrations"),
    ("os-multiple-create", "MultipleCreate", "Allow multiple create in the Create Server v2.1 API.", SERVERS),
    ("os-networks", "Networks", "Admin-only Network Management Extension.", "GET /v2.1/os-networks"),
    ("os-networks-associate", "NetworkAssociationSupport", "Network association support.",
     "POST /v2.1/os-networks/{network_id}/action"),
    ("os-pause-server", "PauseServer", "Enable pause/unpause server actions.", "action:pause"),
    ("os-personality", "Personality", "Personality support.", None),  # files are not injected
    ("os-preserve-ephemeral-rebuild", "PreserveEphemeralOnRebuild", "Allow preservation of the ephemeral partition "
     "on rebuild.", "action:rebuild"),
    ("os-quota-class-sets", "QuotaClasses", "Quota classes management support.",
     "GET /v2.1/os-quota-class-sets/{class_name}"),
    ("os-quota-sets", "Quotas", "Quotas management support.", "GET /v2.1/os-quota-sets/{project_id}"),
    ("os-rescue", "Rescue", "Instance rescue mode.", "action:rescue"),
    ("os-security-group-default-rules", "SecurityGroupDefaultRules", "Default rules for security group support.",
     "GET /v2.1/os-security-group-default-rules"),
    ("os-security-groups", "SecurityGroups", "Security group support.", "GET /v2.1/os-security-groups"),
    ("os-server-diagnostics", "ServerDiagnostics", "Allow Admins to view server diagnostics through server action.",
     f"GET {S}/diagnostics"),
    ("os-server-external-events", "ServerExternalEvents", "Server External Event Triggers.",
     "POST /v2.1/os-server-external-events"),
    ("os-server-group-quotas", "ServerGroupQuotas", "Adds quota support to server groups.",
     "POST /v2.1/os-server-groups"),
    ("os-server-groups", "ServerGroups", "Server group support.", "GET /v2.1/os-server-groups"),
    ("os-server-list-multi-status", "ServerListMultiStatus", "Allow to filter the servers by a set of status "
     "values.", SERVERS),
    ("os-server-password", "ServerPassword", "Server password support.", f"GET {S}/os-server-password"),
    ("os-server-sort-keys", "ServerSortKeys", "Add sorting support in get Server v2 API.", SERVERS),
    ("os-server-start-stop", "ServerStartStop", "Start/Stop instance compute API support.", "action:os-start"),
    ("os-services", "Services", "Services support.", "GET /v2.1/os-services"),
    ("os-shelve", "Shelve", "Instance shelve mode.", "action:shelve"),
    ("os-simple-tenant-usage", "SimpleTenantUsage", "Simple tenant usage extension.",
     "GET /v2.1/os-simple-tenant-usage"),
    ("os-suspend-server", "SuspendServer", "Enable suspend/resume server actions.", "action:suspend"),
    ("os-tenant-networks", "OSTenantNetworks", "Tenant-based Network Management Extension.",
     "GET /v2.1/os-tenant-networks"),
    ("os-used-limits", "UsedLimits", "Provide data on limited resources that are being used.", "GET /v2.1/limits"),
    ("os-used-limits-for-admin", "UsedLimitsForAdmin", "Provide data to admin on limited resources used by other "
     "tenants.", None),  # /limits?tenant_id= is not served
    ("os-user-data", "UserData", "Add user_data to the Create Server API.", SERVERS),
    ("os-user-quotas", "UserQuotas", "Project user quota support.", None),  # per-user quotas are not kept
    ("os-virtual-interfaces", "VirtualInterfaces", "Virtual interface support.", f"GET {S}/os-virtual-interfaces"),
    ("os-volume-attachment-update", "VolumeAttachmentUpdate", "Support for updating a volume attachment.",
     f"PUT {S}/os-volume_attachments/{{volume_id}}"),
    ("os-volumes", "Volumes", "Volumes support.", "GET /v2.1/os-volumes"),
]


def served() -> list[dict]:
    """The extensions whose probe the running code answers, in Nova's (alias) order."""
    from overcast.compute.api import routes, server_actions  # the table includes this module's rows

    real = {f"{row.method} {row.path}" for row in routes.ROUTES if row.handler is not not_implemented}
    real |= {f"action:{name}" for name in getattr(server_actions, "ACTIONS", {})}
    return [{"alias": alias, "description": text, "links": [], "name": name,
             "namespace": "http://docs.openstack.org/compute/ext/fake_xml", "updated": "2014-12-03T00:00:00Z"}
            for alias, name, text, probe in EXTENSIONS if probe in real]


def list_extensions(req):
    req.authorize()
    return reply({"extensions": served()})


def show_extension(req):
    req.authorize()
    for extension in served():
        if extension["alias"] == req.params["alias"]:
            return reply({"extension": extension})
    raise NotFound("The resource could not be found.")
