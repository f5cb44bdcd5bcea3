"""/v3/{project_id}/qos-specs: QoS specs and their volume type associations (admin)."""

from __future__ import annotations

from overcast.common.api import reply
from overcast.volume import errors
from overcast.volume.api import common


def _view(row) -> dict:
    return {"id": row.id, "name": row.name, "consumer": row.consumer, "specs": dict(row.specs or {})}


def _links(req, row) -> list[dict]:
    project = req.params["project_id"]
    return [{"rel": "self", "href": f"{req.base_url}/v3/{project}/qos-specs/{row.id}"},
            {"rel": "bookmark", "href": f"{req.base_url}/{project}/qos-specs/{row.id}"}]


def _specs(values) -> dict:
    if not isinstance(values, dict):
        raise errors.InvalidInput("qos_specs must be an object")
    for key, value in values.items():
        if not isinstance(key, str) or not key or len(key) > 255 or not isinstance(value, (str, int, float)) \
                or isinstance(value, bool):
            raise errors.InvalidInput(f"Invalid QoS spec {key!r}")
    return {key: str(value) for key, value in values.items()}


def create(req):
    req.authorize()
    fields = dict(common.body_dict(req, "qos_specs"))
    name = fields.pop("name", None)
    if not isinstance(name, str) or not name.strip() or len(name) > 255:
        raise errors.InvalidInput("QoS specs name can not be empty.")
    consumer = fields.pop("consumer", "back-end")
    row = req.state.volume.qos.create(name.strip(), consumer, _specs(fields))
    return reply({"qos_specs": _view(row), "links": _links(req, row)})


def list_specs(req):
    req.authorize()
    return reply({"qos_specs": [_view(row) for row in req.state.volume.qos.list()]})


def show(req):
    req.authorize()
    row = req.state.volume.qos.get(req.params["qos_id"])
    return reply({"qos_specs": _view(row), "links": _links(req, row)})


def set_keys(req):
    req.authorize()
    specs = _specs(common.body_dict(req, "qos_specs"))
    return reply({"qos_specs": req.state.volume.qos.set_keys(req.params["qos_id"], dict(specs))})


def delete_keys(req):
    req.authorize()
    body = req.json()
    keys = body.get("keys") if isinstance(body, dict) else None
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise errors.InvalidInput("'keys' must be a list of strings")
    req.state.volume.qos.delete_keys(req.params["qos_id"], keys)
    return reply(None, status=202)


def delete(req):
    req.authorize()
    force = common.boolean(req.query.get("force", "false"), "force")
    req.state.volume.qos.delete(req.params["qos_id"], force)
    return reply(None, status=202)


def associations(req):
    req.authorize()
    rows = req.state.volume.qos.associations(req.params["qos_id"])
    return reply({"qos_associations": [{"association_type": "volume_type", "name": row.name, "id": row.id}
                                       for row in rows]})


def _type_id(req) -> str:
    type_id = req.query.get("vol_type_id")
    if not type_id:
        raise errors.InvalidInput("Volume Type id must not be None.")
    return type_id


def associate(req):
    req.authorize()
    req.state.volume.qos.associate(req.params["qos_id"], _type_id(req))
    return reply(None, status=202)


def disassociate(req):
    req.authorize()
    req.state.volume.qos.disassociate(req.params["qos_id"], _type_id(req))
    return reply(None, status=202)


def disassociate_all(req):
    req.authorize()
    req.state.volume.qos.disassociate(req.params["qos_id"], None)
    return reply(None, status=202)
