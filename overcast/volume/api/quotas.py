"""/v3/{project_id}/os-quota-sets/{target_id} and /limits."""

from __future__ import annotations

from overcast.common.api import reply
from overcast.volume import errors
from overcast.volume.api import common


def _target(req) -> str:
    target = req.params["target_id"]
    req.authorize({"project_id": target})
    return target


def show(req):
    target = _target(req)
    quotas = req.state.volume.quotas
    limits = quotas.limits(target)
    if common.boolean(req.query.get("usage", "false"), "usage"):
        used = quotas.usage(target)
        body = {key: {"limit": value, "in_use": used.get(key, 0), "reserved": 0, "allocated": 0}
                for key, value in limits.items()}
    else:
        body = dict(limits)
    return reply({"quota_set": {"id": target, **body}})


def defaults(req):
    target = req.params["target_id"]
    req.authorize({"project_id": target}, "volume_extension:quotas:show")
    return reply({"quota_set": {"id": target, **req.state.volume.quotas.default_limits()}})


def update(req):
    target = _target(req)
    fields = common.body_dict(req, "quota_set")
    values = {}
    for key, value in fields.items():
        if key in ("tenant_id", "id"):
            continue
        if isinstance(value, bool):
            raise errors.InvalidInput(f"Quota '{key}' must be an integer")
        try:
            values[key] = int(value)
        except (TypeError, ValueError):
            raise errors.InvalidInput(f"Quota '{key}' must be an integer: {value}") from None
    if not values:
        raise errors.InvalidInput("Missing required element 'quota_set' in request body.")
    limits = req.state.volume.quotas.update(target, values)
    return reply({"quota_set": limits})


def delete(req):
    target = _target(req)
    req.state.volume.quotas.reset(target)
    return reply(None, status=200)


def limits(req):
    project = req.context.project_id
    req.authorize({"project_id": project})
    quotas = req.state.volume.quotas
    limit, used = quotas.limits(project), quotas.usage(project)
    snapshot_gb = used["gigabytes"]
    absolute = {"maxTotalVolumes": limit["volumes"], "maxTotalSnapshots": limit["snapshots"],
                "maxTotalVolumeGigabytes": limit["gigabytes"], "maxTotalBackups": limit["backups"],
                "maxTotalBackupGigabytes": limit["backup_gigabytes"], "totalVolumesUsed": used["volumes"],
                "totalSnapshotsUsed": used["snapshots"], "totalGigabytesUsed": snapshot_gb,
                "totalBackupsUsed": used["backups"], "totalBackupGigabytesUsed": used["backup_gigabytes"]}
    return reply({"limits": {"rate": [], "absolute": absolute}})
