"""/v3/{project_id}/types/{type_id}/encryption: encryption types (admin). Kept and shown;
volumes of an encrypted type are LUKS volumes with a key in the key manager
(``overcast.volume.service.encryption``) and say ``encrypted: true``.
/v3/{project_id}/volumes/{volume_id}/encryption (os-volume-encryption-metadata): a volume's
key id and its type's encryption, the key itself never."""

from __future__ import annotations

from overcast.common.api import reply
from overcast.volume import errors
from overcast.volume.api import common

FIELDS = ("provider", "cipher", "key_size", "control_location")
PUBLIC = ("volume_type_id", "encryption_id", "provider", "cipher", "key_size", "control_location")


def _values(fields: dict, create: bool) -> dict:
    values = {key: fields[key] for key in FIELDS if key in fields}
    if create and not isinstance(values.get("provider"), str):
        raise errors.InvalidInput("provider must be specified")
    location = values.get("control_location", "front-end" if create else None)
    if location is not None:
        if location not in ("front-end", "back-end"):
            raise errors.InvalidInput("Valid control location are: ['front-end', 'back-end']")
        values["control_location"] = location
    size = values.get("key_size")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
        raise errors.InvalidInput("key_size must be a non-negative integer")
    return values


def _row(req):
    return req.state.volume.types.get(req.context, req.params["type_id"])


def show(req):
    req.authorize()
    row = _row(req)
    if not row.encryption:
        return reply({})
    return reply({"volume_type_id": row.id, **row.encryption, "deleted": False, "deleted_at": None})


def show_item(req):
    req.authorize()
    row = _row(req)
    key = req.params["key"]
    if not row.encryption or key not in row.encryption:
        raise errors.NotFound(f"Volume type encryption for type {row.id} has no key {key}.")
    return reply({key: row.encryption[key]})


def create(req):
    req.authorize()
    fields = common.body_dict(req, "encryption")
    found = req.state.volume.types.set_encryption(req.params["type_id"], _values(fields, True), create=True)
    body = {"volume_type_id": req.params["type_id"], **found}
    return reply({"encryption": {key: body.get(key) for key in PUBLIC}})


def update(req):
    req.authorize()
    fields = common.body_dict(req, "encryption")
    values = _values(fields, False)
    req.state.volume.types.set_encryption(req.params["type_id"], values)
    return reply({"encryption": values})


def delete(req):
    req.authorize()
    req.state.volume.types.set_encryption(req.params["type_id"], None)
    return reply(None, status=202)


def _volume_metadata(req) -> dict:
    row = req.state.volume.volumes.get(req.context, req.params["volume_id"])
    req.authorize({"project_id": row.project_id})
    return req.state.volume.keys.metadata(row)


def volume_metadata(req):
    return reply(_volume_metadata(req))


def volume_metadata_item(req):
    found = _volume_metadata(req)
    if req.params["key"] not in found:
        raise errors.NotFound(f"Volume {req.params['volume_id']} has no encryption key {req.params['key']}.")
    return reply(found[req.params["key"]])
