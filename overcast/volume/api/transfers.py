"""/v3/{project_id}/os-volume-transfer and /volume-transfers (3.55+): give a volume away."""

from __future__ import annotations

from overcast.common.api import reply
from overcast.volume import errors, views
from overcast.volume.api import common


def _kind(req) -> str:
    return "volume-transfers" if "/volume-transfers" in req.raw.url.path else "os-volume-transfer"


def _links(req, row) -> list[dict]:
    project = req.params["project_id"]
    kind = _kind(req)
    return [{"rel": "self", "href": f"{req.base_url}/v3/{project}/{kind}/{row.id}"},
            {"rel": "bookmark", "href": f"{req.base_url}/{project}/{kind}/{row.id}"}]


def _view(req, row, detail: bool = True) -> dict:
    body = {"id": row.id, "volume_id": row.volume_id, "name": row.name, "links": _links(req, row)}
    if detail:
        body["created_at"] = views.when(row.created_at)
        if req.version.at_least("3.57"):
            body.update(source_project_id=row.project_id, destination_project_id=None, accepted=False,
                        no_snapshots=row.no_snapshots)
    return body


def _gate(req) -> None:
    if "/volume-transfers" in req.raw.url.path and not req.version.at_least("3.55"):
        req.authorized = True
        raise errors.NotFound("The resource could not be found.")


def create(req):
    _gate(req)
    fields = common.body_dict(req, "transfer")
    volume_id = fields.get("volume_id")
    if not isinstance(volume_id, str):
        raise errors.InvalidInput("Incorrect request body format")
    common.check_name(fields, ("name",))
    no_snapshots = common.boolean(fields.get("no_snapshots", False), "no_snapshots") \
        if req.version.at_least("3.55") else False
    volume = req.state.volume.volumes.get(req.context, volume_id)
    req.authorize({"project_id": volume.project_id})
    row, key = req.state.volume.transfers.create(req.context, volume_id, fields.get("name"), no_snapshots)
    return reply({"transfer": {**_view(req, row), "auth_key": key}}, status=202)


def _list(req, detail: bool):
    _gate(req)
    req.authorize({"project_id": req.context.project_id})
    rows = req.state.volume.transfers.list(req.context, common.all_projects(req))
    return reply({"transfers": [_view(req, row, detail) for row in rows]})


def list_transfers(req):
    return _list(req, False)


def list_detail(req):
    return _list(req, True)


def show(req):
    _gate(req)
    row = req.state.volume.transfers.get(req.context, req.params["transfer_id"])
    req.authorize({"project_id": row.project_id})
    return reply({"transfer": _view(req, row)})


def delete(req):
    _gate(req)
    row = req.state.volume.transfers.get(req.context, req.params["transfer_id"])
    req.authorize({"project_id": row.project_id})
    req.state.volume.transfers.delete(req.context, row.id)
    return reply(None, status=202)


def accept(req):
    _gate(req)
    fields = common.body_dict(req, "accept")
    req.authorize({"project_id": req.context.project_id})
    row = req.state.volume.transfers.accept(req.context, req.params["transfer_id"], fields.get("auth_key"))
    return reply({"transfer": _view(req, row, detail=False)}, status=202)
