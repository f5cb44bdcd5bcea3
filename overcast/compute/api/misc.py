"""Small read-only resources: limits."""

from __future__ import annotations

from overcast.common.api import reply


def limits(req):
    """The project's absolute limits; instance, core and RAM usage is zero until servers exist."""
    req.authorize()
    quotas = req.state.compute.quotas
    limit = quotas.limits(req.context.project_id)
    used = quotas.usage(req.context.project_id)
    absolute = {
        "maxServerMeta": limit["metadata_items"],
        "maxPersonality": limit["injected_files"],
        "maxPersonalitySize": limit["injected_file_content_bytes"],
        "maxImageMeta": limit["metadata_items"],
        "maxTotalKeypairs": limit["key_pairs"],
        "maxServerGroups": limit["server_groups"],
        "maxServerGroupMembers": limit["server_group_members"],
        "maxTotalCores": limit["cores"],
        "maxTotalInstances": limit["instances"],
        "maxTotalRAMSize": limit["ram"],
        "totalCoresUsed": used["cores"],
        "totalInstancesUsed": used["instances"],
        "totalRAMUsed": used["ram"],
        "totalServerGroupsUsed": used["server_groups"],
    }
    if not req.version.at_least("2.36"):  # the network proxy limits, gone from 2.36
        absolute.update(maxSecurityGroupRules=limit["security_group_rules"],
                        maxSecurityGroups=limit["security_groups"], maxTotalFloatingIps=limit["floating_ips"],
                        totalFloatingIpsUsed=0, totalSecurityGroupsUsed=0)
    if req.version.at_least("2.57"):
        for key in ("maxPersonality", "maxPersonalitySize"):
            absolute.pop(key)
    return reply({"limits": {"rate": [], "absolute": absolute}})
