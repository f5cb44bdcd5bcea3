"""/v2.1/servers/{id}/diagnostics and /v2.1/os-server-external-events."""

from __future__ import annotations

import asyncio

from overcast.common.api import reply
from overcast.compute import errors

EVENTS = {"network-changed": "2.1", "network-vif-plugged": "2.1", "network-vif-unplugged": "2.1",
          "network-vif-deleted": "2.1", "volume-extended": "2.51", "power-update": "2.76",
          "accelerator-request-bound": "2.82", "volume-reimaged": "2.93"}
STATUSES = ("failed", "completed", "in-progress")
NIC_KEYS = ("mac_address", "rx_octets", "rx_errors", "rx_drop", "rx_packets", "rx_rate", "tx_octets", "tx_errors",
            "tx_drop", "tx_packets", "tx_rate")
DISK_KEYS = ("read_bytes", "read_requests", "write_bytes", "write_requests", "errors_count")


#: the API's driver field is an enum of Nova's driver families; overcast's qemu driver runs
#: QEMU/KVM guests as libvirt does, and the fake imitates it (as Nova's own fake says libvirt)
DRIVER_FAMILY = {"qemu": "libvirt", "fake": "libvirt"}


def _standard(found: dict) -> dict:
    """Nova's 2.48 diagnostics, every key present (what the driver did not say is None)."""
    body = dict(found)
    body["driver"] = DRIVER_FAMILY.get(body.get("driver"), body.get("driver"))
    body["nic_details"] = [{key: nic.get(key) for key in NIC_KEYS} for nic in found.get("nic_details", [])]
    body["disk_details"] = [{key: disk.get(key) for key in DISK_KEYS} for disk in found.get("disk_details", [])]
    return body


def _legacy(found: dict) -> dict:
    """The flat, libvirt-shaped dict below 2.48."""
    body = {f"cpu{cpu['id']}_time": cpu.get("time") or 0 for cpu in found.get("cpu_details", [])}
    body["memory"] = (found.get("memory_details", {}).get("maximum") or 0) * 1024
    for index, disk in enumerate(found.get("disk_details", [])):
        name = "vd" + "abcdefghijklmnopqrstuvwxyz"[index]
        body.update({f"{name}_read": disk.get("read_bytes") or 0, f"{name}_write": disk.get("write_bytes") or 0,
                     f"{name}_errors": disk.get("errors_count") or 0})
    return body


async def diagnostics(req):
    compute = req.state.compute
    row = await asyncio.to_thread(compute.servers.get, req.context, req.params["server_id"])
    req.authorize({"project_id": row.project_id})
    found = await compute.lifecycle.diagnostics(req.context, row.uuid)
    return reply(_standard(found) if req.version.at_least("2.48") else _legacy(found))


async def external_events(req):
    body = req.json()
    events = body.get("events") if isinstance(body, dict) else None
    if not isinstance(events, list) or not events:
        raise errors.ComputeInvalid("Invalid input for field/attribute events.")
    for event in events:
        if not isinstance(event, dict) or not isinstance(event.get("server_uuid"), str):
            raise errors.ComputeInvalid(f"Invalid input for field/attribute events. Value: {event}.")
        since = EVENTS.get(event.get("name"))
        if since is None or not req.version.at_least(since):
            raise errors.ComputeInvalid(f"Invalid input for field/attribute name. Value: {event.get('name')}.")
        if event.get("status", "completed") not in STATUSES:
            raise errors.ComputeInvalid(f"Invalid input for field/attribute status. Value: {event.get('status')}.")
    req.authorize()
    results = await req.state.compute.lifecycle.external_events(events)
    codes = {result["code"] for result in results}
    if codes == {404}:
        raise errors.ComputeNotFound("No instances found for any event")
    return reply({"events": results}, status=200 if codes == {200} else 207)
