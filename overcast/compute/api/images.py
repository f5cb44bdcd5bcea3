"""/v2.1/images and /v2.1/images/{image_id}/metadata: Nova's image proxy.

The image calls answer up to microversion 2.35 and the metadata calls up to 2.38; later
versions get a 404, as in Nova. Nova sent these on to Glance with the caller's token, so
besides the compute rule a write must pass the image service's own rule
(``delete_image`` or ``modify_image``) on the image's owner.
"""

from __future__ import annotations

import re

from overcast.common.api import reply
from overcast.compute import errors, views_images
from overcast.image import SPEC as IMAGE_SPEC

KEY = re.compile(r"^[a-zA-Z0-9-_:. ]{1,255}$")  # Nova's metadata key pattern


def _served_until(req, newest: str) -> None:
    major, minor = newest.split(".")
    if req.version.at_least(f"{major}.{int(minor) + 1}"):
        raise errors.ComputeNotFound("The resource could not be found.")


def _urls(req) -> tuple[str, str]:
    """The compute base (with /v2.1) and the image service's root URL, for links."""
    root = req.base_url.removesuffix(req.prefix)
    return f"{req.base_url}/v2.1", root + IMAGE_SPEC.prefix


def _int(req, name: str) -> int | None:
    """A non-negative integer query parameter (Nova's get_pagination_params), or None."""
    if name not in req.query:
        return None
    text = req.query[name]
    if not text.isdigit():
        raise errors.ComputeInvalid(f"Invalid input for query parameters {name}. Value: {text}.")
    return int(text)


def _may_write(req, row, rule: str, message: str) -> None:
    """The image service's rule for this write, on the image's owner (what Glance checked)."""
    if not req.allowed({"project_id": row.owner, "owner": row.owner, "visibility": row.visibility}, rule=rule):
        raise errors.ComputeForbidden(message)


# -- images -------------------------------------------------------------------------------

def _list(req, view, collection: str):
    _served_until(req, "2.35")
    limit = _int(req, "limit")
    for name in ("page_size", "offset"):
        _int(req, name)  # checked as Nova checks them, then unused
    req.authorize({"project_id": req.context.project_id})
    rows = req.state.compute.image_proxy.list(req.context, dict(req.query), limit, req.query.get("marker"))
    base, glance = _urls(req)
    body = {"images": [view(base, glance, row) for row in rows]}
    page_limit = min(limit if limit is not None else 1000, 1000)
    links = views_images.next_links(base, collection, req.query, rows, page_limit)
    if links:
        body["images_links"] = links
    return reply(body)


def list_images(req):
    return _list(req, views_images.basic, "images")


def list_detail(req):
    return _list(req, views_images.detail, "images/detail")


def show(req):
    _served_until(req, "2.35")
    req.authorize({"project_id": req.context.project_id})
    row = req.state.compute.image_proxy.get(req.context, req.params["image_id"])
    base, glance = _urls(req)
    return reply({"image": views_images.detail(base, glance, row)})


def delete(req):
    _served_until(req, "2.35")
    req.authorize({"project_id": req.context.project_id})
    proxy = req.state.compute.image_proxy
    row = proxy.get(req.context, req.params["image_id"])
    _may_write(req, row, "delete_image", "You are not allowed to delete the image.")
    proxy.delete(req.context, row.id)
    return reply(None, status=204)


# -- metadata -----------------------------------------------------------------------------

def _metadata(value, field: str, single: bool = False) -> dict:
    """Nova's metadata schema: string keys matching KEY, string values up to 255 characters."""
    if not isinstance(value, dict) or (single and len(value) != 1) or not all(
            isinstance(key, str) and KEY.match(key) and isinstance(item, str) and len(item) <= 255
            for key, item in value.items()):
        raise errors.ComputeInvalid(f"Invalid input for field/attribute {field}. Value: {value}.")
    return value


def _body(req, key: str, single: bool = False) -> dict:
    body = req.json()
    if not isinstance(body, dict) or key not in body:
        raise errors.ComputeInvalid(f"Invalid input for field/attribute {key}. '{key}' is a required property")
    extra = sorted(set(body) - {key})
    if extra:
        raise errors.ComputeInvalid(f"Additional properties are not allowed ({', '.join(map(repr, extra))} "
                                    f"{'was' if len(extra) == 1 else 'were'} unexpected)")
    return _metadata(body[key], key, single)


def _image(req, write: bool = False):
    _served_until(req, "2.38")
    req.authorize({"project_id": req.context.project_id})
    row = req.state.compute.image_proxy.get(req.context, req.params["image_id"])
    if write:
        _may_write(req, row, "modify_image", f"Not authorized for image {row.id}.")
    return row


def list_metadata(req):
    return reply({"metadata": dict(_image(req).properties)})


def show_item(req):
    properties = _image(req).properties
    key = req.params["key"]
    if key not in properties:
        raise errors.ComputeNotFound("The resource could not be found.")
    return reply({"meta": {key: properties[key]}})


def update_metadata(req):
    """POST: merge into the image's metadata."""
    _served_until(req, "2.38")
    items = _body(req, "metadata")
    row = _image(req, write=True)
    return reply({"metadata": req.state.compute.image_proxy.set_metadata(req.context, row, items, replace=False)})


def replace_metadata(req):
    _served_until(req, "2.38")
    items = _body(req, "metadata")
    row = _image(req, write=True)
    req.state.compute.image_proxy.set_metadata(req.context, row, items, replace=True)
    return reply({"metadata": items})


def set_item(req):
    _served_until(req, "2.38")
    meta = _body(req, "meta", single=True)
    key = req.params["key"]
    if key not in meta:
        raise errors.ComputeInvalid("Request body and URI mismatch")
    row = _image(req, write=True)
    req.state.compute.image_proxy.set_metadata(req.context, row, meta, replace=False)
    return reply({"meta": meta})


def delete_item(req):
    row = _image(req, write=True)
    req.state.compute.image_proxy.delete_metadata(req.context, row, req.params["key"])
    return reply(None, status=204)
