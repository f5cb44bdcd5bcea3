"""/os-services, /os-availability-zone and /extensions."""

from __future__ import annotations

from overcast.common.api import reply
from overcast.volume import errors, views

EXTENSIONS = [
    ("AdminActions", "os-admin-actions", "Enable admin actions."),
    ("AvailabilityZones", "os-availability-zone", "Describe Availability Zones."),
    ("ExtendedSnapshotAttributes", "os-extended-snapshot-attributes", "Extended SnapshotAttributes support."),
    ("ImageCreate", "os-image-create", "Allow creating a volume from an image in the Create Volume v1 API."),
    ("QuotaSets", "os-quota-sets", "Quota management support."),
    ("Services", "os-services", "Services support."),
    ("SchedulerHints", "OS-SCH-HNT", "Pass arbitrary key/value pairs to the scheduler."),
    ("TypesExtraSpecs", "os-types-extra-specs", "Type extra specs support."),
    ("TypesManage", "os-types-manage", "Types manage support."),
    ("UsedLimits", "os-used-limits", "Provide data on limited resources that are being used."),
    ("VolumeActions", "os-volume-actions", "Enable volume actions."),
    ("VolumeHostAttribute", "os-vol-host-attr", "Expose host as an attribute of a volume."),
    ("VolumeImageMetadata", "os-vol-image-meta", "Show image metadata associated with the volume."),
    ("VolumeMigStatusAttribute", "os-vol-mig-status-attr", "Expose migration_status as an attribute of a volume."),
    ("VolumeTenantAttribute", "os-vol-tenant-attr", "Expose the internal project_id as an attribute of a volume."),
    ("VolumeTypeAccess", "os-volume-type-access", "Volume type access support."),
]


def extensions(req):
    req.authorize()
    body = [{"name": name, "alias": alias, "description": text, "namespace": "",
             "updated": "2013-10-03T00:00:00+00:00", "links": []} for name, alias, text in EXTENSIONS]
    return reply({"extensions": body})


def availability_zones(req):
    req.authorize()
    return reply({"availabilityZoneInfo": req.state.volume.hosts.zones()})


def list_services(req):
    req.authorize()
    found = req.state.volume.hosts.list(req.query.get("binary"), req.query.get("host"), req.query.get("zone"))
    services = []
    for service in found:
        body = {"binary": service["binary"], "host": service["host"], "zone": service["zone"],
                "status": "disabled" if service["disabled"] else "enabled", "state": service["state"],
                "updated_at": views.when(service["updated_at"]), "disabled_reason": service["disabled_reason"]}
        if service["binary"] == "cinder-volume":
            body.update(frozen=service["frozen"], replication_status="disabled", active_backend_id=None)
        if req.version.at_least("3.49") and service["binary"] == "cinder-volume":
            body["backend_state"] = "up" if service["state"] == "up" else "down"
        if req.version.at_least("3.7"):
            body["cluster"] = service["cluster"]
        services.append(body)
    return reply({"services": services})


def update_service(req):
    req.authorize()
    action = req.params["action"]
    if action not in ("enable", "disable", "disable-log-reason"):
        if action in ("freeze", "thaw", "failover_host", "failover", "set-log", "get-log"):
            raise errors.InvalidInput(f"The {action} action needs a replicating backend, which this cloud has not.")
        raise errors.ServiceNotFound(action)
    body = req.json()
    if not isinstance(body, dict):
        raise errors.InvalidInput("Malformed request body")
    host, binary = body.get("host"), body.get("binary") or body.get("service")
    if not host or not binary:
        raise errors.InvalidInput("Missing required element 'host' or 'binary' in request body.")
    reason = None
    if action == "disable-log-reason":
        reason = body.get("disabled_reason")
        if not isinstance(reason, str) or not reason.strip() or len(reason) > 255:
            raise errors.InvalidInput("Disabled reason contains invalid characters or is too long")
    result = req.state.volume.hosts.set_disabled(host, binary, action != "enable", reason)
    answer = {"host": host, "binary": binary, "service": binary, "disabled": result["disabled"],
              "status": "disabled" if result["disabled"] else "enabled"}
    if action != "disable":
        answer["disabled_reason"] = reason
    return reply(answer)
