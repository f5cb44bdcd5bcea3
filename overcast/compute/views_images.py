"""Images as Nova's image proxy showed them: Glance's record in the old v1.1 shape."""

from __future__ import annotations

from urllib.parse import urlencode

from overcast.common.times import iso_seconds
from overcast.compute.views_servers import links

STATUS = {"active": "ACTIVE", "queued": "SAVING", "saving": "SAVING", "deleted": "DELETED",
          "pending_delete": "DELETED", "killed": "ERROR"}  # anything else is UNKNOWN
PROGRESS = {"queued": 25, "saving": 50, "active": 100}  # anything else is 0
TRUE = ("1", "t", "true", "on", "y", "yes")  # oslo's bool_from_string


def image_links(base: str, glance: str, image_id: str) -> list[dict]:
    """self and bookmark in compute, alternate in the image service (``glance``: its root URL)."""
    return [*links(base, "images", image_id),
            {"rel": "alternate", "type": "application/vnd.openstack.image", "href": f"{glance}/images/{image_id}"}]


def basic(base: str, glance: str, row) -> dict:
    return {"id": row.id, "name": row.name, "links": image_links(base, glance, row.id)}


def detail(base: str, glance: str, row) -> dict:
    properties = dict(row.properties)
    body = {
        "id": row.id, "name": row.name, "minRam": row.min_ram or 0, "minDisk": row.min_disk or 0,
        "metadata": properties, "created": iso_seconds(row.created_at), "updated": iso_seconds(row.updated_at),
        "status": STATUS.get(row.status, "UNKNOWN"), "progress": PROGRESS.get(row.status, 0),
        "OS-EXT-IMG-SIZE:size": row.size or 0, "links": image_links(base, glance, row.id),
    }
    server = properties.get("instance_uuid")
    if server is not None:
        body["server"] = {"id": server, "links": links(base, "servers", server)}
    disk_config = properties.get("auto_disk_config")
    if disk_config is not None:
        body["OS-DCF:diskConfig"] = "AUTO" if disk_config.strip().lower() in TRUE else "MANUAL"
    return body


def next_links(base: str, collection: str, query, rows: list, page_limit: int) -> list[dict]:
    """Nova's collection link: a ``next`` href when the page is exactly as long as the limit."""
    if not page_limit or page_limit != len(rows):
        return []
    params = dict(sorted(query.multi_items()))
    params["marker"] = rows[-1].id
    return [{"rel": "next", "href": f"{base}/{collection}?{urlencode(params)}"}]
