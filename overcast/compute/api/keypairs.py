"""/v2.1/os-keypairs"""

from __future__ import annotations

from overcast.common.api import reply
from overcast.common.api.validation import body_object, check
from overcast.compute import errors, views

FIELDS = {"name": "string", "public_key": "string", "type": "string", "user_id": "string"}


def _user(req) -> str:
    """Whose keypairs: the caller's, or (admins, from 2.10) ``user_id``'s."""
    wanted = req.query.get("user_id")
    if wanted and req.version.at_least("2.10"):
        req.authorize({"user_id": wanted})
        return wanted
    req.authorize({"user_id": req.context.user_id})
    return req.context.user_id


def create(req):
    body = check(body_object(req.json(), "keypair"), FIELDS, ("name",))
    version = req.version
    key_type = body.get("type", "ssh") if version.at_least("2.2") else "ssh"
    if key_type not in ("ssh", "x509"):
        raise errors.ComputeInvalid(f"Invalid input for field/attribute type. Value: {key_type}.")
    user_id = body.get("user_id") if version.at_least("2.10") and body.get("user_id") else req.context.user_id
    req.authorize({"user_id": user_id})
    public_key = body.get("public_key")
    if public_key is None and version.at_least("2.92"):
        raise errors.ComputeInvalid("Invalid input for field/attribute keypair. 'public_key' is a required property")
    row, private = req.state.compute.keypairs.create(user_id, body["name"], key_type, public_key,
                                                     req.context.project_id)
    result = {**views.keypair(row, version), "user_id": row.user_id}
    if private is not None:
        result["private_key"] = private
    return reply({"keypair": result}, status=201 if version.at_least("2.2") else 200)


def list_keypairs(req):
    user_id = _user(req)
    limit = req.query.get("limit") if req.version.at_least("2.35") else None
    if limit is not None and (not limit.isdigit()):
        raise errors.ComputeInvalid(f"Invalid input for query parameters limit. Value: {limit}.")
    marker = req.query.get("marker") if req.version.at_least("2.35") else None
    rows = req.state.compute.keypairs.list(user_id, int(limit) if limit else None, marker)
    body = {"keypairs": [{"keypair": views.keypair(row, req.version)} for row in rows]}
    if limit and len(rows) == int(limit):
        body["keypairs_links"] = [{"rel": "next", "href": f"{req.base_url}/v2.1/os-keypairs?limit={limit}"
                                                           f"&marker={rows[-1].name}"}]
    return reply(body)


def show(req):
    user_id = _user(req)
    row = req.state.compute.keypairs.get(user_id, req.params["name"])
    return reply({"keypair": views.keypair(row, req.version, detail=True)})


def delete(req):
    user_id = _user(req)
    req.state.compute.keypairs.delete(user_id, req.params["name"])
    return reply(None, status=204 if req.version.at_least("2.2") else 202)
