"""/v2.1/servers/{id}/metadata, /tags (2.26+) and /os-instance-actions."""

from __future__ import annotations

import hashlib

from overcast.common.api import reply
from overcast.common.api.validation import body_object
from overcast.compute import errors
from overcast.compute.api.servers import check_metadata, check_tags
from overcast.compute.service.server_list import parse_time
from overcast.compute.views_servers import usage_time


def _owned(req):
    row = req.state.compute.servers.get(req.context, req.params["server_id"], deleted=req.rule is not None
                                        and "instance-actions" in req.rule)
    req.authorize({"project_id": row.project_id, "user_id": row.user_id})
    return row


# -- metadata ---------------------------------------------------------------------------

def list_metadata(req):
    row = _owned(req)
    return reply({"metadata": req.state.compute.metadata.list(req.context, row.uuid)})


def replace_metadata(req):
    items = check_metadata(body_object(req.json(), "metadata"))
    row = _owned(req)
    return reply({"metadata": req.state.compute.metadata.replace(req.context, row.uuid, items)})


def update_metadata(req):
    items = check_metadata(body_object(req.json(), "metadata"))
    row = _owned(req)
    return reply({"metadata": req.state.compute.metadata.update(req.context, row.uuid, items)})


def show_item(req):
    row = _owned(req)
    key = req.params["key"]
    return reply({"meta": {key: req.state.compute.metadata.get(req.context, row.uuid, key)}})


def set_item(req):
    meta = body_object(req.json(), "meta")
    check_metadata(meta)
    key = req.params["key"]
    if key not in meta:
        raise errors.ComputeInvalid("Request body and URI mismatch")
    if len(meta) > 1:
        raise errors.ComputeInvalid("Request body contains too many items")
    row = _owned(req)
    req.state.compute.metadata.update(req.context, row.uuid, meta)
    return reply({"meta": meta})


def delete_item(req):
    row = _owned(req)
    req.state.compute.metadata.delete(req.context, row.uuid, req.params["key"])
    return reply(None, status=204)


# -- tags ---------------------------------------------------------------------------------

def list_tags(req):
    row = _owned(req)
    return reply({"tags": req.state.compute.tags.list(req.context, row.uuid)})


def replace_tags(req):
    body = req.json()
    if not isinstance(body, dict) or "tags" not in body:
        raise errors.ComputeInvalid("Invalid input for field/attribute tags. 'tags' is a required property")
    tags = check_tags(body["tags"])
    row = _owned(req)
    return reply({"tags": req.state.compute.tags.replace(req.context, row.uuid, tags)})


def delete_tags(req):
    row = _owned(req)
    req.state.compute.tags.delete(req.context, row.uuid)
    return reply(None, status=204)


def check_tag(req):
    row = _owned(req)
    if not req.state.compute.tags.has(req.context, row.uuid, req.params["tag"]):
        raise errors.ComputeNotFound(f"Tag {req.params['tag']} could not be found.")
    return reply(None, status=204)


def add_tag(req):
    tag = req.params["tag"]
    check_tags([tag])
    row = _owned(req)
    added = req.state.compute.tags.add(req.context, row.uuid, tag)
    location = f"{req.base_url}/v2.1/servers/{row.uuid}/tags/{tag}"
    return reply(None, status=201 if added else 204, headers={"Location": location})


def delete_tag(req):
    row = _owned(req)
    req.state.compute.tags.delete(req.context, row.uuid, req.params["tag"])
    return reply(None, status=204)


# -- instance actions ------------------------------------------------------------------------

def _action(row, version) -> dict:
    body = {"action": row.action, "instance_uuid": row.instance_uuid, "message": row.message,
            "project_id": row.project_id, "request_id": row.request_id, "start_time": usage_time(row.start_time),
            "user_id": row.user_id}
    if version.at_least("2.58"):
        body["updated_at"] = usage_time(row.updated_at)
    return body


def _event(req, event, project_id: str) -> dict:
    version = req.version
    body = {"event": event.event, "start_time": usage_time(event.start_time),
            "finish_time": usage_time(event.finish_time), "result": event.result}
    details = req.allowed({"project_id": project_id}, rule="os_compute_api:os-instance-actions:events:details")
    if details:
        body["traceback"] = event.traceback
    if version.at_least("2.62"):
        body["hostId"] = hashlib.sha224((project_id + (event.host or "")).encode()).hexdigest() if event.host else ""
        if details:
            body["host"] = event.host or ""
    if version.at_least("2.84") and details:
        body["details"] = event.details
    return body


def list_actions(req):
    row = _owned(req)
    q, version = req.query, req.version
    limit = marker = since = before = None
    if version.at_least("2.58"):
        if "limit" in q:
            if not q["limit"].isdigit():
                raise errors.ComputeInvalid(f"Invalid input for query parameters limit. Value: {q['limit']}.")
            limit = int(q["limit"])
        marker = q.get("marker")
        since = parse_time(q["changes-since"], "changes-since") if "changes-since" in q else None
        if version.at_least("2.66") and "changes-before" in q:
            before = parse_time(q["changes-before"], "changes-before")
    rows = req.state.compute.instance_actions.list(req.context, row.uuid, limit, marker, since, before)
    body = {"instanceActions": [_action(r, version) for r in rows]}
    if limit is not None and len(rows) == limit and rows:
        body["links"] = [{"rel": "next", "href": f"{req.base_url}/v2.1/servers/{row.uuid}/os-instance-actions"
                                                 f"?limit={limit}&marker={rows[-1].request_id}"}]
    return reply(body)


def show_action(req):
    row = _owned(req)
    action, events = req.state.compute.instance_actions.get(req.context, row.uuid, req.params["request_id"])
    body = _action(action, req.version)
    if req.version.at_least("2.51") or req.allowed({"project_id": row.project_id},
                                                   rule="os_compute_api:os-instance-actions:events"):
        body["events"] = [_event(req, e, row.project_id) for e in events]
    return reply({"instanceAction": body})
