"""/v2/images: create, list, show, JSON-patch update, delete, tags, (de)activation."""

from __future__ import annotations

from urllib.parse import urlencode

from overcast.common.api import reply
from overcast.image import errors, views
from overcast.image.schemas import SORT_KEYS
from overcast.image.service.images import INT_COLUMN_FILTERS, TEXT_COLUMN_FILTERS

PATCH_TYPES = ("application/openstack-images-v2.1-json-patch", "application/openstack-images-v2.0-json-patch")
MAX_LIMIT = 1000
DEFAULT_LIMIT = 25
IMPORT_METHODS = "glance-direct,web-download"
DEFAULT_SORT = [("created_at", "desc"), ("id", "desc")]


def _target(row) -> dict:
    return {"project_id": row.owner, "visibility": row.visibility, "owner": row.owner}


def authorized_image(req):
    """The image named in the URL, once the route's policy rule allows the caller on it."""
    row = req.state.image.images.get(req.context, req.params["image_id"])
    req.authorize(_target(row))
    return row


def _check_visibility_change(req, visibility, owner) -> None:
    if visibility == "public":
        req.authorize({"project_id": owner}, rule="publicize_image")
    elif visibility == "community":
        req.authorize({"project_id": owner}, rule="communitize_image")


def create(req):
    body = req.json()
    if not isinstance(body, dict):
        raise errors.ImageInvalid("The image body must be a JSON object.")
    owner = body.get("owner") or req.context.project_id
    req.authorize({"project_id": owner, "owner": owner})
    _check_visibility_change(req, body.get("visibility"), owner)
    row = req.state.image.images.create(req.context, body)
    headers = {"Location": f"{req.base_url}/v2/images/{row.id}", "OpenStack-image-import-methods": IMPORT_METHODS}
    return reply(views.image(row), status=201, headers=headers)


def _int(req, name: str, default=None, low: int = 0):
    value = req.query.get(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise errors.ImageInvalid(f"Invalid {name}: {value!r} is not an integer") from None
    if number < low:
        raise errors.ImageInvalid(f"Invalid {name}: {number} is below {low}")
    return number


def _bool(req, name: str):
    value = req.query.get(name)
    if value is None:
        return None
    if value.lower() not in ("true", "false"):
        raise errors.ImageInvalid(f"Invalid {name}: {value!r} is not a boolean")
    return value.lower() == "true"


def _sort(req) -> list[tuple[str, str]]:
    pairs = []
    if req.query.get("sort"):
        if req.query.getlist("sort_key") or req.query.get("sort_dir"):
            raise errors.ImageInvalid("The sort parameter cannot be combined with sort_key or sort_dir.")
        for item in req.query["sort"].split(","):
            key, _, direction = item.strip().partition(":")
            pairs.append((key, direction or "desc"))
    else:
        keys = req.query.getlist("sort_key") or []
        directions = req.query.getlist("sort_dir") or []
        if len(directions) > 1 and len(directions) != len(keys):
            raise errors.ImageInvalid("Give one sort_dir, or one for each sort_key.")
        for index, key in enumerate(keys):
            direction = directions[index] if len(directions) > 1 else (directions[0] if directions else "desc")
            pairs.append((key, direction))
    for key, direction in pairs:
        if key not in SORT_KEYS:
            raise errors.ImageInvalid(f"Invalid sort key: {key}")
        if direction not in ("asc", "desc"):
            raise errors.ImageInvalid(f"Invalid sort direction: {direction}")
    if not pairs:
        return list(DEFAULT_SORT)
    if "id" not in [key for key, _ in pairs]:
        pairs.append(("id", pairs[-1][1]))  # ids break ties so marker paging is exact
    return pairs


FILTERS = ("name", "status", "owner", "disk_format", "container_format", "id", "visibility", "member_status")
NOT_PROPERTIES = set(FILTERS) | INT_COLUMN_FILTERS | TEXT_COLUMN_FILTERS | {
    "limit", "marker", "sort", "sort_key", "sort_dir", "tag", "size_min", "size_max", "created_at", "updated_at",
    "protected", "os_hidden", "changes-since",
}


def list_images(req):
    req.authorize({"project_id": req.context.project_id})
    query = req.query
    filters = {key: query.get(key) for key in FILTERS if query.get(key) is not None}
    filters.update(
        tags=query.getlist("tag"),
        size_min=_int(req, "size_min"),
        size_max=_int(req, "size_max"),
        protected=_bool(req, "protected"),
        os_hidden=_bool(req, "os_hidden"),
        created_at=query.get("created_at"),
        updated_at=query.get("updated_at"),
        properties={k: v for k, v in query.items() if k not in NOT_PROPERTIES},
        columns={
            **{key: _int(req, key) for key in INT_COLUMN_FILTERS if key in query},
            **{key: query[key] for key in TEXT_COLUMN_FILTERS if key in query},
        },
    )
    if "changes-since" in query:
        raise errors.ImageInvalid("The changes-since filter is not supported in v2; use updated_at.")
    if filters.get("member_status") not in (None, "pending", "accepted", "rejected", "all"):
        raise errors.ImageInvalid(f"Invalid member_status: {filters['member_status']}")
    limit = min(_int(req, "limit", DEFAULT_LIMIT), MAX_LIMIT)
    rows = req.state.image.images.list(req.context, filters, _sort(req), limit, query.get("marker")) if limit else []
    params = [(k, v) for k, v in query.multi_items() if k != "marker"]
    first = "/v2/images" + ("?" + urlencode(params) if params else "")
    body = {"images": [views.image(r) for r in rows], "first": first, "schema": "/v2/schemas/images"}
    if rows and len(rows) == limit:
        body["next"] = "/v2/images?" + urlencode(params + [("marker", rows[-1].id)])
    return reply(body)


def show(req):
    row = authorized_image(req)
    return reply(views.image(row))


def _operation(item, draft: bool) -> tuple[str, object]:
    """(op, path) of one patch item: RFC 6902 form, or the v2.0 draft's {"replace": "/x"}."""
    if not isinstance(item, dict):
        raise errors.ImageInvalid(f"Invalid operation: {item!r}")
    if draft:
        ops = [op for op in ("add", "replace", "remove") if op in item]
        if len(ops) != 1:
            raise errors.ImageInvalid(f"Invalid operation: {item!r}; give one of add, replace or remove")
        return ("add-new" if ops[0] == "add" else ops[0]), item[ops[0]]
    if item.get("op") not in ("add", "replace", "remove"):
        raise errors.ImageInvalid(f"Invalid operation: {item!r}; use add, replace or remove")
    return item["op"], item.get("path")


def _patch_changes(req) -> list[tuple[str, str, object]]:
    content_type = req.headers.get("content-type", "").split(";")[0].strip()
    if content_type not in PATCH_TYPES:
        error = errors.UnsupportedMediaType(f"Unsupported Content-Type {content_type or '(none)'}; "
                                            f"use {PATCH_TYPES[0]}")
        error.headers["Accept-Patch"] = ", ".join(PATCH_TYPES)
        raise error
    body = req.json()
    if not isinstance(body, list):
        raise errors.ImageInvalid("A JSON patch is a list of operations.")
    changes = []
    for item in body:
        op, path = _operation(item, draft=content_type == PATCH_TYPES[1])
        if not isinstance(path, str) or not path.startswith("/") or path.count("/") != 1:
            if isinstance(path, str) and path.startswith("/locations"):
                raise errors.ImageForbidden("Image locations are not exposed by this cloud.")
            raise errors.ImageInvalid(f"Invalid JSON pointer for this resource: '{path}'")
        name = path[1:].replace("~1", "/").replace("~0", "~")
        if op != "remove" and "value" not in item:
            raise errors.ImageInvalid(f"Operation {op} on {path} needs a value")
        changes.append((op, name, item.get("value")))
    return changes


def update(req):
    images = req.state.image.images
    row = authorized_image(req)
    changes = _patch_changes(req)
    for op, name, value in changes:
        if name == "visibility" and op != "remove":
            _check_visibility_change(req, value, row.owner)
    return reply(views.image(images.update(req.context, row.id, changes)))


def delete(req):
    service = req.state.image
    row = authorized_image(req)
    service.data.delete_data(*service.images.delete(req.context, row.id))
    return reply(None, status=204)


def add_tag(req):
    images = req.state.image.images
    row = authorized_image(req)
    images.add_tag(req.context, row.id, req.params["tag"])
    return reply(None, status=204)


def remove_tag(req):
    images = req.state.image.images
    row = authorized_image(req)
    images.remove_tag(req.context, row.id, req.params["tag"])
    return reply(None, status=204)


def deactivate(req):
    images = req.state.image.images
    row = authorized_image(req)
    images.set_status(req.context, row.id, ("active",), "deactivated")
    return reply(None, status=204)


def reactivate(req):
    images = req.state.image.images
    row = authorized_image(req)
    images.set_status(req.context, row.id, ("deactivated",), "active")
    return reply(None, status=204)


def list_tasks(req):
    """GET /v2/images/{id}/tasks (2.12): the import tasks of an image. Imports here run in
    the API process without task records, so the list is empty, as Glance's is for an
    image that was uploaded rather than imported."""
    authorized_image(req)
    return reply({"tasks": []})
