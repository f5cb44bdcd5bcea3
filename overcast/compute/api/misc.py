"""Small read-only resources: availability zones and limits."""

from __future__ import annotations

from overcast.common.api import reply


def availability_zones(req):
    req.authorize()
    return reply({"availabilityZoneInfo": [{"zoneName": "nova", "zoneState": {"available": True}, "hosts": None}]})


def limits(req):
    """Nova's default absolute limits; usage is zero until servers exist (the servers work)."""
    req.authorize()
    compute = req.state.compute
    absolute = {
        "maxServerMeta": 128,
        "maxPersonality": 5,
        "maxPersonalitySize": 10240,
        "maxImageMeta": 128,
        "maxTotalKeypairs": compute.keypairs.quota,
        "maxServerGroups": 10,
        "maxServerGroupMembers": 10,
        "maxTotalCores": 20,
        "maxTotalInstances": 10,
        "maxTotalRAMSize": 51200,
        "totalCoresUsed": 0,
        "totalInstancesUsed": 0,
        "totalRAMUsed": 0,
        "totalServerGroupsUsed": 0,
    }
    if not req.version.at_least("2.36"):  # the network proxy limits, gone from 2.36
        absolute.update(maxSecurityGroupRules=20, maxSecurityGroups=10, maxTotalFloatingIps=10,
                        totalFloatingIpsUsed=0, totalSecurityGroupsUsed=0)
    if req.version.at_least("2.57"):
        for key in ("maxPersonality", "maxPersonalitySize"):
            absolute.pop(key)
    return reply({"limits": {"rate": [], "absolute": absolute}})
