"""/os-hosts, /scheduler-stats/get_pools and /os-quota-class-sets: what admins read about backends."""

from __future__ import annotations

from overcast.common.api import reply
from overcast.volume import errors, views
from overcast.volume.api import common


def list_hosts(req):
    req.authorize()
    hosts = [{"host_name": s["host"], "service": s["binary"], "zone": s["zone"],
              "service-status": "available" if s["state"] == "up" else "unavailable",
              "service-state": "disabled" if s["disabled"] else "enabled",
              "last-update": views.when(s["updated_at"])} for s in req.state.volume.hosts.list()]
    return reply({"hosts": hosts})


def show_host(req):
    req.authorize()
    host = req.params["host_name"]
    used = req.state.volume.hosts.usage(host)
    resource = {"host": host, "project": "(total)", **{key: str(value) for key, value in used.items()}}
    return reply({"host": [{"resource": resource}]})


def get_pools(req):
    req.authorize()
    detail = common.boolean(req.query.get("detail", "false"), "detail")
    pools = []
    for service in req.state.volume.hosts.list(binary="cinder-volume"):
        caps = service["capabilities"] or {}
        name = f"{service['host']}#{caps.get('pool', 'pool')}"
        pool = {"name": name}
        if detail:
            pool["capabilities"] = {
                "total_capacity_gb": caps.get("total_gb", 0), "free_capacity_gb": caps.get("free_gb", 0),
                "volume_backend_name": caps.get("volume_backend_name", ""), "QoS_support": False,
                "driver_version": caps.get("driver_version", ""), "reserved_percentage": 0,
                "storage_protocol": caps.get("storage_protocol", ""), "vendor_name": caps.get("vendor_name", ""),
                "timestamp": views.when(service["updated_at"]), "thin_provisioning_support":
                    bool(caps.get("thin_provisioning")), "multiattach": bool(caps.get("supports_multiattach"))}
        pools.append(pool)
    return reply({"pools": pools})


def capabilities(req):
    req.authorize()
    host = req.params["hostname"].split("#", 1)[0]
    found = [s for s in req.state.volume.hosts.list(binary="cinder-volume") if s["host"] == host]
    if not found:
        raise errors.ServiceNotFound(f"cinder-volume on host {host}")
    caps = found[0]["capabilities"] or {}
    return reply({"namespace": f"OS::Storage::Capabilities::{host}", "vendor_name": caps.get("vendor_name", ""),
                  "volume_backend_name": caps.get("volume_backend_name", ""), "pool_name": caps.get("pool"),
                  "driver_version": caps.get("driver_version", ""),
                  "storage_protocol": caps.get("storage_protocol", ""), "display_name": None, "description": None,
                  "visibility": None, "replication_targets": [],
                  "properties": {"thin_provisioning": {"title": "Thin Provisioning", "type": "boolean",
                                                       "description": "Sets thin provisioning."}}})


def show_quota_class(req):
    req.authorize()
    name = req.params["class_name"]
    quotas = req.state.volume.quotas
    if name != "default":
        raise errors.InvalidInput("Only the 'default' quota class is served.")
    return reply({"quota_class_set": {"id": name, **quotas.default_limits()}})


def update_quota_class(req):
    req.authorize()
    name = req.params["class_name"]
    if name != "default":
        raise errors.InvalidInput("Only the 'default' quota class is served.")
    fields = common.body_dict(req, "quota_class_set")
    values = {}
    for key, value in fields.items():
        if isinstance(value, bool):
            raise errors.InvalidInput(f"Quota class '{key}' must be an integer")
        try:
            values[key] = int(value)
        except (TypeError, ValueError):
            raise errors.InvalidInput(f"Quota class '{key}' must be an integer: {value}") from None
    return reply({"quota_class_set": req.state.volume.quotas.update_class(name, values)})
