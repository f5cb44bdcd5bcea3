"""The metadata calls volumes and snapshots share (list, create, replace, show, set and
delete one key), built once for each resource from its loader and its service."""

from __future__ import annotations

from types import SimpleNamespace

from overcast.common.api import reply
from overcast.volume import errors
from overcast.volume.api import common


def handlers(get, service: str, kind: str) -> SimpleNamespace:
    """``get(req)`` loads and authorizes the row; ``service`` names the resource's logic
    on ``req.state.volume``; ``kind`` ("Volume", "Snapshot") words the 404."""

    def logic(req):
        return getattr(req.state.volume, service)

    def list_metadata(req):
        return reply({"metadata": dict(get(req).meta or {})})

    def set_all(req, replace: bool):
        body = req.json()
        if not isinstance(body, dict) or "metadata" not in body:
            raise errors.InvalidInput("Malformed request body")
        metadata = common.check_metadata(body["metadata"])
        row = get(req)
        return reply({"metadata": logic(req).set_metadata(req.context, row.id, metadata, replace)})

    def show_item(req):
        row = get(req)
        key = req.params["key"]
        if key not in (row.meta or {}):
            raise errors.MetadataNotFound(key, kind, row.id)
        return reply({"meta": {key: row.meta[key]}})

    def set_item(req):
        body = req.json()
        key = req.params["key"]
        meta = body.get("meta") if isinstance(body, dict) else None
        if not isinstance(meta, dict) or len(meta) != 1:
            raise errors.InvalidInput("Malformed request body")
        if key not in meta:
            raise errors.InvalidInput("Request body and URI mismatch")
        common.check_metadata(meta)
        row = get(req)
        logic(req).set_metadata(req.context, row.id, meta, False)
        return reply({"meta": meta})

    def delete_item(req):
        row = get(req)
        logic(req).delete_metadata(req.context, row.id, req.params["key"])
        return reply(None, status=200)

    return SimpleNamespace(list=list_metadata, create=lambda req: set_all(req, False),
                           replace=lambda req: set_all(req, True), show_item=show_item, set_item=set_item,
                           delete_item=delete_item)
