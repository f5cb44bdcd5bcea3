"""/v2/images/{image_id}/members"""

from __future__ import annotations

from overcast.common.api import reply
from overcast.image import errors, views


def _target(req) -> dict:
    row = req.state.image.images.get(req.context, req.params["image_id"])
    return {"project_id": row.owner, "member_id": req.context.project_id, "visibility": row.visibility}


def _field(req, name: str) -> str:
    body = req.json()
    if not isinstance(body, dict) or not isinstance(body.get(name), str):
        raise errors.ImageInvalid(f"The request body needs a '{name}' string.")
    return body[name]


def add(req):
    req.authorize(_target(req))
    row = req.state.image.members.add(req.context, req.params["image_id"], _field(req, "member"))
    return reply(views.member(row))


def list_members(req):
    req.authorize(_target(req))
    rows = req.state.image.members.list(req.context, req.params["image_id"])
    return reply({"members": [views.member(r) for r in rows], "schema": "/v2/schemas/members"})


def show(req):
    req.authorize(_target(req))
    row = req.state.image.members.get(req.context, req.params["image_id"], req.params["member_id"])
    return reply(views.member(row))


def update(req):
    target = _target(req)
    req.authorize({**target, "member_id": req.params["member_id"]})
    row = req.state.image.members.set_status(req.context, req.params["image_id"], req.params["member_id"],
                                             _field(req, "status"))
    return reply(views.member(row))


def delete(req):
    req.authorize(_target(req))
    req.state.image.members.delete(req.context, req.params["image_id"], req.params["member_id"])
    return reply(None, status=204)
