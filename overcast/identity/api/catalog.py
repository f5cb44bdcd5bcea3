"""/v3/regions, /v3/services, /v3/endpoints"""

from __future__ import annotations

from overcast.common.api import reply
from overcast.identity import errors, views
from overcast.identity.api.common import flag, no_id, resource

REGION = {"description": "string|null", "parent_region_id": "string|null", "id": "string"}
SERVICE = {"type": ("string", 1, 255), "name": "string|null", "description": "string|null", "enabled": "boolean"}
ENDPOINT = {
    "service_id": "string",
    "interface": "string",
    "region_id": "string|null",
    "region": "string|null",
    "url": ("string", 1, None),
    "enabled": "boolean",
}


def list_regions(req):
    req.authorize()
    rows = req.state.identity.catalog.list_regions(req.query.get("parent_region_id"))
    base = req.base_url
    return reply(views.collection(base, "regions", "regions", [views.region(base, r) for r in rows]))


def get_region(req):
    req.authorize()
    return reply({"region": views.region(req.base_url, req.state.identity.catalog.get_region(req.params["region_id"]))})


def create_region(req):
    req.authorize()
    fields = resource(req, "region", REGION)
    row = req.state.identity.catalog.create_region(fields, fields.pop("id", None))
    return reply({"region": views.region(req.base_url, row)}, status=201)


def put_region(req):
    req.authorize(rule="identity:create_region")
    fields = resource(req, "region", REGION)
    if fields.get("id", req.params["region_id"]) != req.params["region_id"]:
        raise errors.ValidationError("The region id in the body must match the URL.")
    fields.pop("id", None)
    row = req.state.identity.catalog.create_region(fields, req.params["region_id"])
    return reply({"region": views.region(req.base_url, row)}, status=201)


def update_region(req):
    req.authorize()
    fields = no_id(resource(req, "region", REGION), "region", req.params["region_id"])
    row = req.state.identity.catalog.update_region(req.params["region_id"], fields)
    return reply({"region": views.region(req.base_url, row)})


def delete_region(req):
    req.authorize()
    req.state.identity.catalog.delete_region(req.params["region_id"])
    return reply(None, status=204)


def list_services(req):
    req.authorize()
    rows = req.state.identity.catalog.list_services(req.query.get("type"), req.query.get("name"))
    base = req.base_url
    return reply(views.collection(base, "services", "services", [views.service(base, r) for r in rows]))


def get_service(req):
    req.authorize()
    row = req.state.identity.catalog.get_service(req.params["service_id"])
    return reply({"service": views.service(req.base_url, row)})


def create_service(req):
    req.authorize()
    fields = no_id(resource(req, "service", SERVICE, ("type",)), "service")
    row = req.state.identity.catalog.create_service(fields)
    return reply({"service": views.service(req.base_url, row)}, status=201)


def update_service(req):
    req.authorize()
    fields = no_id(resource(req, "service", SERVICE), "service", req.params["service_id"])
    row = req.state.identity.catalog.update_service(req.params["service_id"], fields)
    return reply({"service": views.service(req.base_url, row)})


def delete_service(req):
    req.authorize()
    req.state.identity.catalog.delete_service(req.params["service_id"])
    return reply(None, status=204)


def list_endpoints(req):
    req.authorize()
    filters = {k: req.query.get(k) for k in ("interface", "service_id", "region_id")}
    rows = req.state.identity.catalog.list_endpoints(filters)
    enabled = flag(req.query.get("enabled"))
    if enabled is not None:
        rows = [r for r in rows if r.enabled == enabled]
    base = req.base_url
    return reply(views.collection(base, "endpoints", "endpoints", [views.endpoint(base, r) for r in rows]))


def get_endpoint(req):
    req.authorize()
    row = req.state.identity.catalog.get_endpoint(req.params["endpoint_id"])
    return reply({"endpoint": views.endpoint(req.base_url, row)})


def create_endpoint(req):
    req.authorize()
    fields = no_id(resource(req, "endpoint", ENDPOINT, ("service_id", "interface", "url")), "endpoint")
    row = req.state.identity.catalog.create_endpoint(fields)
    return reply({"endpoint": views.endpoint(req.base_url, row)}, status=201)


def update_endpoint(req):
    req.authorize()
    fields = no_id(resource(req, "endpoint", ENDPOINT), "endpoint", req.params["endpoint_id"])
    row = req.state.identity.catalog.update_endpoint(req.params["endpoint_id"], fields)
    return reply({"endpoint": views.endpoint(req.base_url, row)})


def delete_endpoint(req):
    req.authorize()
    req.state.identity.catalog.delete_endpoint(req.params["endpoint_id"])
    return reply(None, status=204)
