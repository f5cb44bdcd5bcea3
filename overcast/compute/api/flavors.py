"""/v2.1/flavors, extra specs and flavor access."""

from __future__ import annotations

import uuid

from overcast.common.api import reply
from overcast.common.api.validation import body_object, check
from overcast.compute import errors, views
from overcast.compute.service.flavors import SORT_KEYS

TRUE = ("1", "t", "true", "on", "y", "yes")  # the spellings Nova's bool_from_string knows
FALSE = ("0", "f", "false", "off", "n", "no")
CREATE = {
    "name": ("string", 1, 255),
    "ram": "integer|string",
    "vcpus": "integer|string",
    "disk": "integer|string",
    "id": "string|integer|null",
    "swap": "integer|string",
    "OS-FLV-EXT-DATA:ephemeral": "integer|string",
    "rxtx_factor": "number|integer|string",
    "os-flavor-access:is_public": "boolean|string",
    "description": "string|null",
}


def _int(value, name: str, low: int = 0) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise errors.ComputeInvalid(f"Invalid input for field/attribute {name}. Value: {value}.") from None
    if number < low or (isinstance(value, str) and not value.strip().lstrip("-").isdigit()):
        raise errors.ComputeInvalid(f"Invalid input for field/attribute {name}. Value: {value}.")
    return number


def _is_public(value) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE + FALSE:
        return value.strip().lower() in TRUE
    raise errors.ComputeInvalid(f"Invalid input for field/attribute os-flavor-access:is_public. Value: {value}.")


def _query_public(req) -> bool | None:
    value = req.query.get("is_public")
    if value is None:
        return True
    if value.lower() == "none":
        return None if req.context.is_admin else True
    return _is_public(value)


def _listing(req, detail: bool):
    req.authorize()
    query = req.query
    sort_key, sort_dir = query.get("sort_key", "flavorid"), query.get("sort_dir", "asc")
    if sort_key not in SORT_KEYS or sort_dir not in ("asc", "desc"):
        raise errors.ComputeInvalid(f"Invalid sort key or direction: {sort_key} {sort_dir}")
    limit = _int(query["limit"], "limit") if "limit" in query else None
    rows = req.state.compute.flavors.list(
        req.context, _query_public(req), _int(query.get("minRam", 0), "minRam"),
        _int(query.get("minDisk", 0), "minDisk"), sort_key, sort_dir, limit, query.get("marker"),
    )
    base, version = req.base_url + "/v2.1", req.version
    specs = req.allowed(rule="os_compute_api:os-flavor-extra-specs:index")
    items = [views.flavor(base, r, version, specs) if detail else views.flavor_summary(base, r, version) for r in rows]
    body = {"flavors": items}
    if limit is not None and len(rows) == limit:
        suffix = "/detail" if detail else ""
        body["flavors_links"] = [{"rel": "next", "href": f"{base}/flavors{suffix}?limit={limit}&marker={rows[-1].flavorid}"}]
    return reply(body)


def list_flavors(req):
    return _listing(req, detail=False)


def list_detail(req):
    return _listing(req, detail=True)


def show(req):
    req.authorize()
    row = req.state.compute.flavors.get(req.context, req.params["flavor_id"])
    specs = req.allowed(rule="os_compute_api:os-flavor-extra-specs:index")
    return reply({"flavor": views.flavor(req.base_url + "/v2.1", row, req.version, specs)})


def create(req):
    req.authorize()
    body = check(body_object(req.json(), "flavor"), CREATE, ("name", "ram", "vcpus", "disk"))
    if "description" in body and not req.version.at_least("2.55"):
        raise errors.ComputeInvalid("Invalid input for field/attribute flavor. Additional properties are not allowed "
                                    "('description' was unexpected)")
    flavorid = body.get("id")
    flavorid = str(uuid.uuid4()) if flavorid in (None, "", "auto") else str(flavorid)
    fields = {
        "flavorid": flavorid,
        "name": body["name"].strip(),
        "memory_mb": _int(body["ram"], "ram", 1),
        "vcpus": _int(body["vcpus"], "vcpus", 1),
        "root_gb": _int(body["disk"], "disk"),
        "swap": _int(body.get("swap") or 0, "swap"),
        "ephemeral_gb": _int(body.get("OS-FLV-EXT-DATA:ephemeral", 0), "OS-FLV-EXT-DATA:ephemeral"),
        "rxtx_factor": float(body.get("rxtx_factor", 1.0)),
        "is_public": _is_public(body.get("os-flavor-access:is_public", True)),
        "description": body.get("description"),
    }
    if not fields["name"]:
        raise errors.ComputeInvalid("Flavor names can not be blank.")
    if fields["rxtx_factor"] <= 0:
        raise errors.ComputeInvalid("Invalid input for field/attribute rxtx_factor.")
    row = req.state.compute.flavors.create(fields)
    return reply({"flavor": views.flavor(req.base_url + "/v2.1", row, req.version, True)})


def update(req):
    req.authorize()
    if not req.version.at_least("2.55"):
        raise errors.ComputeMethodNotAllowed("Updating a flavor needs microversion 2.55 or later.")
    body = check(body_object(req.json(), "flavor"), {"description": "string|null"}, ("description",))
    row = req.state.compute.flavors.update_description(req.context, req.params["flavor_id"], body["description"])
    return reply({"flavor": views.flavor(req.base_url + "/v2.1", row, req.version, True)})


def delete(req):
    req.authorize()
    req.state.compute.flavors.delete(req.params["flavor_id"])
    return reply(None, status=202)


# extra specs

def list_specs(req):
    req.authorize()
    return reply({"extra_specs": req.state.compute.flavors.extra_specs(req.context, req.params["flavor_id"])})


def _specs_body(req, key: str = "extra_specs") -> dict:
    body = req.json()
    specs = body.get(key) if isinstance(body, dict) and key == "extra_specs" else body
    if not isinstance(specs, dict) or not specs:
        raise errors.ComputeInvalid("Malformed extra specs: an object of key/value strings is required")
    for name, value in specs.items():
        if not isinstance(name, str) or not 1 <= len(name) <= 255:
            raise errors.ComputeInvalid(f"Invalid extra spec key: {name!r}")
        if not isinstance(value, (str, int, float)) or isinstance(value, bool) or len(str(value)) > 255:
            raise errors.ComputeInvalid(f"Invalid extra spec value for {name}")
    return {name: str(value) for name, value in specs.items()}


def create_specs(req):
    req.authorize()
    specs = req.state.compute.flavors.set_extra_specs(req.context, req.params["flavor_id"], _specs_body(req))
    return reply({"extra_specs": specs})


def show_spec(req):
    req.authorize()
    specs = req.state.compute.flavors.extra_specs(req.context, req.params["flavor_id"])
    key = req.params["key"]
    if key not in specs:
        raise errors.FlavorExtraSpecNotFound(req.params["flavor_id"], key)
    return reply({key: specs[key]})


def update_spec(req):
    req.authorize()
    specs = _specs_body(req, key="one")
    key = req.params["key"]
    if list(specs) != [key]:
        raise errors.ComputeInvalid("Request body and URI mismatch")
    return reply(req.state.compute.flavors.set_extra_specs(req.context, req.params["flavor_id"], specs))


def delete_spec(req):
    req.authorize()
    req.state.compute.flavors.delete_extra_spec(req.context, req.params["flavor_id"], req.params["key"])
    return reply(None, status=200)


# access

def _access(flavorid: str, projects: list[str]) -> dict:
    return {"flavor_access": [{"flavor_id": flavorid, "tenant_id": project} for project in projects]}


def list_access(req):
    req.authorize()
    flavorid = req.params["flavor_id"]
    return reply(_access(flavorid, req.state.compute.flavors.access(flavorid)))


def action(req):
    body = req.json()
    flavorid = req.params["flavor_id"]
    flavors = req.state.compute.flavors
    if isinstance(body, dict) and "addTenantAccess" in body:
        req.authorize(rule="os_compute_api:os-flavor-access:add_tenant_access")
        tenant = check(body_object(body, "addTenantAccess"), {"tenant": "string"}, ("tenant",))["tenant"]
        return reply(_access(flavorid, flavors.add_access(flavorid, tenant)))
    if isinstance(body, dict) and "removeTenantAccess" in body:
        req.authorize(rule="os_compute_api:os-flavor-access:remove_tenant_access")
        tenant = check(body_object(body, "removeTenantAccess"), {"tenant": "string"}, ("tenant",))["tenant"]
        return reply(_access(flavorid, flavors.remove_access(flavorid, tenant)))
    req.authorized = True
    raise errors.ComputeInvalid("Unknown flavor action: use addTenantAccess or removeTenantAccess")
