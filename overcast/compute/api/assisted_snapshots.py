"""/v2.1/os-assisted-volume-snapshots: snapshots a hypervisor makes for a volume backend
that cannot (Cinder's NFS-like drivers call it, never end users).

Nova checks the volume is attached to a server that has a host, asks that host's driver
and answers with ``create_info``'s ``id`` (null when it has none). No volume driver here
asks for one (the file driver snapshots its qcow2 files itself), so the hypervisor has
nothing to do: the calls answer as Nova's with its fake driver does.
"""

from __future__ import annotations

import asyncio
import json

from overcast.common.api import Route, reply
from overcast.common.api.validation import body_object, check
from overcast.compute import errors

P = "os_compute_api:os-assisted-volume-snapshots:"
S = "/v2.1/os-assisted-volume-snapshots"
TYPES = ("qcow2",)


async def create(req):
    req.authorize()
    body = check(body_object(req.json(), "snapshot"), {"volume_id": "string", "create_info": "object"},
                 ("volume_id", "create_info"))
    info = body["create_info"]
    if not isinstance(info.get("snapshot_id"), str) or info.get("type") not in TYPES:
        raise errors.ComputeInvalid("Invalid input for field/attribute create_info: 'snapshot_id' (a string) "
                                    "and 'type' (qcow2) are required.")
    await asyncio.to_thread(req.state.compute.volume_attachments.snapshot_target, req.context, body["volume_id"])
    return reply({"snapshot": {"id": info.get("id"), "volumeId": body["volume_id"]}})


async def delete(req):
    req.authorize()
    try:
        delete_info = json.loads(req.query["delete_info"])
        volume_id = delete_info["volume_id"]
    except (KeyError, ValueError, TypeError) as error:
        raise errors.ComputeInvalid(f"Invalid delete_info: {error}") from None
    await asyncio.to_thread(req.state.compute.volume_attachments.snapshot_target, req.context, volume_id)
    return reply(None, status=204)


ROUTES = [
    Route("POST", S, create, P + "create"),
    Route("DELETE", S + "/{snapshot_id}", delete, P + "delete"),
]
