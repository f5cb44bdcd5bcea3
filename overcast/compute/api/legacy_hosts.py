"""/v2.1/os-hosts (deprecated, removed at 2.43 in favour of os-services and os-hypervisors)."""

from __future__ import annotations

from overcast.common.api import reply
from overcast.common.api.microversions import Microversion
from overcast.common.errors import NotFound
from overcast.compute.api import checks

SWITCH = ("enable", "disable", "Enable", "Disable", "ENABLE", "DISABLE")  # Nova's update schema enum
LAST = Microversion(2, 42)


def _until(req, last: Microversion) -> None:
    """404 from 2.43, where Nova removed os-hosts."""
    if req.version > last:
        raise NotFound("The resource could not be found.")


def list_hosts(req):
    _until(req, LAST)
    req.authorize()
    listed = req.state.compute.legacy_hosts.list_hosts(req.query.get("zone") or None)
    return reply({"hosts": [{"host_name": host, "service": topic, "zone": zone} for host, topic, zone in listed]})


def show_host(req):
    _until(req, LAST)
    req.authorize()
    rows = req.state.compute.legacy_hosts.show_host(req.params["host_name"])
    return reply({"host": [{"resource": {"host": use.host, "project": use.project, "cpu": use.cpu,
                                         "memory_mb": use.memory_mb, "disk_gb": use.disk_gb}} for use in rows]})


def update_host(req):
    """PUT {"status": "enable|disable", "maintenance_mode": "enable|disable"} (either or both)."""
    _until(req, LAST)
    body = checks.obj(req.json())
    checks.only(body, ("status", "maintenance_mode"))
    if "status" not in body and "maintenance_mode" not in body:
        raise checks.invalid("body", body, f"{body!r} is not valid under any of the given schemas")
    for name in ("status", "maintenance_mode"):
        if name in body and body[name] not in SWITCH:
            raise checks.invalid(name, body[name], f"{body[name]!r} is not one of {list(SWITCH)}")
    req.authorize()
    hosts, host = req.state.compute.legacy_hosts, req.params["host_name"]
    answer = {"host": host}
    if "status" in body:
        answer["status"] = hosts.set_enabled(host, body["status"].lower() == "enable")
    if "maintenance_mode" in body:
        answer["maintenance_mode"] = hosts.set_maintenance(host, body["maintenance_mode"].lower() == "enable")
    return reply(answer)


def _power(action: str):
    def handler(req):
        _until(req, LAST)
        req.authorize()
        host = req.params["host_name"]
        return reply({"host": host, "power_action": req.state.compute.legacy_hosts.power_action(host, action)})

    handler.__name__ = handler.__qualname__ = f"{action}_host"
    return handler


startup_host = _power("startup")
shutdown_host = _power("shutdown")
reboot_host = _power("reboot")
