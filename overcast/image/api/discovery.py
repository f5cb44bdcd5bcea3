"""Version documents, JSON schemas, /v2/info/import and /v2/info/stores."""

from __future__ import annotations

from overcast.common.api import reply
from overcast.common.errors import NotFound
from overcast.image import errors, schemas

# what a single-store Glance lists, less 2.12 (image tasks) and 2.17 (the location API)
CURRENT = "2.15"
SUPPORTED = ("2.9", "2.7", "2.6", "2.5", "2.4", "2.3", "2.2", "2.1", "2.0")


def _versions(base: str) -> list[dict]:
    link = [{"rel": "self", "href": f"{base}/v2/"}]
    return [{"id": f"v{CURRENT}", "status": "CURRENT", "links": link}] + [
        {"id": f"v{version}", "status": "SUPPORTED", "links": link} for version in SUPPORTED
    ]


async def versions(req):
    return reply({"versions": _versions(req.base_url)}, status=300)


async def versions_200(req):
    return reply({"versions": _versions(req.base_url)})


async def schema(req):
    name = req.params["name"]
    if name not in schemas.SCHEMAS:
        raise errors.SchemaNotFound(name)
    return reply(schemas.SCHEMAS[name]())


def info_import(req):
    req.authorized = True
    methods = {"description": "Import methods available.", "type": "array",
               "value": ["glance-direct", "web-download"]}
    return reply({"import-methods": methods})


def info_stores(req):
    """Single-store Glance answers 404 here; so does overcast until it has several stores."""
    req.authorized = True
    raise NotFound("Multiple stores are not enabled: this cloud has one image store.")


def create_task(req):
    """The deprecated tasks API: refused, as a Glance with import tasks disabled does."""
    req.authorized = True
    raise errors.ImageInvalid("Tasks are not served; use the interoperable image import.")
