"""/v2.1/servers/{server_id}/os-volume_attachments: attach, list, show, update, detach."""

from __future__ import annotations

import asyncio
import uuid as uuidlib

from overcast.common.api import Route, reply
from overcast.common.api.validation import body_object, check
from overcast.compute import errors

P = "os_compute_api:os-volumes-attachments:"
S = "/v2.1/servers/{server_id}/os-volume_attachments"
FIELDS = {"volumeId": "string", "device": "string|null", "tag": "string", "delete_on_termination": "boolean"}


def view(row, version) -> dict:
    body = {"id": row.volume_id, "serverId": row.instance_uuid, "volumeId": row.volume_id,
            "device": row.mountpoint}
    if version.at_least("2.70"):
        body["tag"] = row.tag
    if version.at_least("2.79"):
        body["delete_on_termination"] = bool(row.delete_on_termination)
    if version.at_least("2.89"):
        del body["id"]
        body["attachment_id"] = row.id
        body["bdm_uuid"] = row.id
    return body


async def _server(req):
    row = await asyncio.to_thread(req.state.compute.servers.get, req.context, req.params["server_id"])
    req.authorize({"project_id": row.project_id})
    return row


async def list_attachments(req):
    row = await _server(req)
    found = await asyncio.to_thread(req.state.compute.volume_attachments.list, req.context, row.uuid)
    limit, offset = req.query.get("limit"), req.query.get("offset", "0")
    if (limit is not None and not limit.isdigit()) or not offset.isdigit():
        raise errors.ComputeInvalid("Invalid input for query parameters limit or offset.")
    found = found[int(offset):]
    if limit is not None:
        found = found[:int(limit)]
    return reply({"volumeAttachments": [view(a, req.version) for a in found]})


async def show(req):
    row = await _server(req)
    found = await asyncio.to_thread(req.state.compute.volume_attachments.find, req.context, row.uuid,
                                    req.params["volume_id"])
    return reply({"volumeAttachment": view(found, req.version)})


def _volume_id(value: str) -> str:
    try:
        uuidlib.UUID(value)
    except (ValueError, TypeError, AttributeError):
        raise errors.ComputeInvalid(f"Invalid input for field/attribute volumeId. Value: {value}. "
                                    f"'{value}' is not a 'uuid'") from None
    return value


async def create(req):
    body = check(body_object(req.json(), "volumeAttachment"), FIELDS, ("volumeId",))
    volume_id = _volume_id(body["volumeId"])
    if "tag" in body and not req.version.at_least("2.49"):
        raise errors.ComputeInvalid("Additional properties are not allowed ('tag' was unexpected)")
    if "delete_on_termination" in body and not req.version.at_least("2.79"):
        raise errors.ComputeInvalid("Additional properties are not allowed ('delete_on_termination' was unexpected)")
    row = await _server(req)
    found = await req.state.compute.volume_attachments.attach(req.context, row.uuid, volume_id, body.get("device"),
                                                              body.get("tag"),
                                                              bool(body.get("delete_on_termination", False)))
    return reply({"volumeAttachment": view(found, req.version)})


async def update(req):
    body = body_object(req.json(), "volumeAttachment")
    new_volume = _volume_id(body.get("volumeId", ""))
    row = await _server(req)
    if new_volume != req.params["volume_id"]:
        req.authorize({"project_id": row.project_id}, P + "swap")
        await req.state.compute.volume_attachments.swap(req.context, row.uuid, req.params["volume_id"], new_volume)
        return reply(None, status=202)
    dot = body.get("delete_on_termination") if req.version.at_least("2.85") else None
    await asyncio.to_thread(req.state.compute.volume_attachments.update, req.context, row.uuid,
                            req.params["volume_id"], dot)
    return reply(None, status=202)


async def delete(req):
    row = await _server(req)
    await req.state.compute.volume_attachments.detach(req.context, row.uuid, req.params["volume_id"])
    return reply(None, status=202)


ROUTES = [
    Route("GET", S, list_attachments, P + "index"),
    Route("POST", S, create, P + "create"),
    Route("GET", S + "/{volume_id}", show, P + "show"),
    Route("PUT", S + "/{volume_id}", update, P + "update"),
    Route("DELETE", S + "/{volume_id}", delete, P + "delete"),
]
