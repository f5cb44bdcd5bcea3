"""/v2.1/servers: create, list, show, update, delete."""

from __future__ import annotations

import asyncio
import base64
import binascii
import ipaddress
import re
import secrets

from overcast.common.api import reply
from overcast.common.api.validation import body_object, check
from overcast.compute import errors, views_servers
from overcast.compute.service.server_list import ADMIN_SORT_KEYS, SORT_KEYS, ListQuery, parse_time
from overcast.compute.service.servers import BootRequest

P = "os_compute_api:servers:"
TRUE = ("1", "t", "true", "on", "y", "yes")
FALSE = ("0", "f", "false", "off", "n", "no")
CREATE = {"name": ("string", 1, 255), "imageRef": "string", "flavorRef": "string|integer", "key_name": "string|null",
          "networks": "array|string", "security_groups": "array", "user_data": "string|null", "metadata": "object",
          "availability_zone": "string|null", "min_count": "integer|string", "max_count": "integer|string",
          "config_drive": "boolean|string|null", "tags": "array", "block_device_mapping_v2": "array",
          "description": "string|null", "accessIPv4": "string", "accessIPv6": "string",
          "return_reservation_id": "boolean|string", "hostname": ("string", 1, 255), "adminPass": "string"}
UPDATE = {"name": ("string", 1, 255), "description": "string|null", "accessIPv4": "string", "accessIPv6": "string",
          "hostname": ("string", 1, 255)}
TAG = re.compile(r"^[^,/]{1,60}$")
ADMIN_FILTERS = ("host", "node", "project_id", "tenant_id", "user_id", "vm_state", "task_state", "power_state",
                 "launch_index", "hostname", "access_ip_v4", "access_ip_v6", "launched_at", "terminated_at",
                 "uuid", "key_name", "config_drive", "reservation_id", "deleted")


def invalid(name: str, value) -> errors.ComputeInvalid:
    return errors.ComputeInvalid(f"Invalid input for field/attribute {name}. Value: {value}.")


def _count(value, name: str) -> int:
    if isinstance(value, bool) or not str(value).isdigit() or int(value) < 1:
        raise invalid(name, value)
    return int(value)


def _bool(value, name: str) -> bool:
    if isinstance(value, bool) or value is None:
        return bool(value)
    if str(value).lower() in TRUE + FALSE:
        return str(value).lower() in TRUE
    raise invalid(name, value)


def check_metadata(meta) -> dict:
    if not isinstance(meta, dict):
        raise invalid("metadata", meta)
    for key, value in meta.items():
        if not isinstance(key, str) or not 1 <= len(key) <= 255:
            raise errors.ComputeInvalid(f"Invalid input for field/attribute metadata. Value: {meta}.")
        if not isinstance(value, str) or len(value) > 255:
            raise errors.ComputeInvalid(f"Invalid input for field/attribute metadata. Value: {meta}.")
    return meta


def check_tags(tags) -> list[str]:
    if not isinstance(tags, list) or len(tags) > 50 or not all(isinstance(t, str) and TAG.match(t) for t in tags):
        raise invalid("tags", tags)
    return tags


def _uuid_list(value, name: str) -> list[str]:
    """A same_host/different_host hint: one instance uuid or a list of them."""
    if value is None:
        return []
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not all(isinstance(v, str) and UUID.fullmatch(v.lower()) for v in values):
        raise invalid(name, value)
    return [v.lower() for v in values]


UUID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}")


def _ip(value, version: int, name: str) -> str:
    try:
        address = ipaddress.ip_address(value)
        if address.version == version:
            return str(address)
    except ValueError:
        pass
    raise invalid(name, value)


def _boot_request(req, body: dict, hints: dict) -> BootRequest:
    version = req.version
    check(body, CREATE, ("name", "flavorRef"))
    name = body["name"]
    if name.strip() != name:
        raise invalid("name", name)
    user_data = body.get("user_data")
    if user_data is not None:
        try:
            base64.b64decode(user_data, validate=True)
        except (binascii.Error, ValueError):
            raise errors.ComputeInvalid("User data needs to be valid base 64.") from None
        if len(user_data) > 65535:
            raise invalid("user_data", "too long")
    min_count = _count(body.get("min_count", 1), "min_count")
    max_count = _count(body.get("max_count", min_count), "max_count")
    if min_count > max_count:
        raise errors.ComputeInvalid("min_count must be <= max_count")
    networks = body.get("networks")
    if isinstance(networks, str) and (networks not in ("auto", "none") or not version.at_least("2.37")):
        raise invalid("networks", networks)
    groups = body.get("security_groups", [{"name": "default"}])
    if not all(isinstance(g, dict) and isinstance(g.get("name"), str) for g in groups):
        raise invalid("security_groups", groups)
    group_hint = hints.get("group")
    if group_hint is not None and not isinstance(group_hint, str):
        raise invalid("group", group_hint)
    near = {name: _uuid_list(hints.get(name), name) for name in ("same_host", "different_host")}
    return BootRequest(
        name=name, flavor_ref=str(body["flavorRef"]).rsplit("/", 1)[-1],
        image_ref=str(body.get("imageRef") or "").rsplit("/", 1)[-1], key_name=body.get("key_name"),
        networks=networks, security_groups=list(dict.fromkeys(g["name"] for g in groups)), user_data=user_data,
        metadata=check_metadata(body.get("metadata", {})), availability_zone=body.get("availability_zone"),
        min_count=min_count, max_count=max_count, config_drive=_bool(body.get("config_drive"), "config_drive"),
        tags=check_tags(body.get("tags", [])) if version.at_least("2.52") else [],
        block_devices=body.get("block_device_mapping_v2", []),
        description=body.get("description") if version.at_least("2.19") else None,
        access_ip_v4=_ip(body["accessIPv4"], 4, "accessIPv4") if body.get("accessIPv4") else None,
        access_ip_v6=_ip(body["accessIPv6"], 6, "accessIPv6") if body.get("accessIPv6") else None,
        hostname=body.get("hostname") if version.at_least("2.90") else None, group=group_hint, **near,
    )


async def create(req):
    raw = req.json()
    body = body_object(raw, "server")
    hints = raw.get("os:scheduler_hints") or raw.get("OS-SCH-HNT:scheduler_hints") or {}
    if not isinstance(hints, dict):
        raise invalid("os:scheduler_hints", hints)
    boot = _boot_request(req, body, hints)
    req.authorize({"project_id": req.context.project_id})
    if boot.availability_zone and ":" in boot.availability_zone:
        req.authorize({"project_id": req.context.project_id}, rule=P + "create:forced_host")
    rows, reservation = await req.state.compute.lifecycle.create(req.context, boot)
    if _bool(body.get("return_reservation_id", False), "return_reservation_id"):
        return reply({"reservation_id": reservation}, status=202)
    base = req.base_url + "/v2.1"
    first = rows[0]
    server = {"id": first.uuid, "links": views_servers.links(base, "servers", first.uuid),
              "OS-DCF:diskConfig": "MANUAL",
              "security_groups": [{"name": name} for name in boot.security_groups]}
    server["adminPass"] = body.get("adminPass") or secrets.token_urlsafe(9)
    return reply({"server": server}, status=202, headers={"Location": server["links"][0]["href"]})


def _list_query(req) -> ListQuery:
    q, ctx, is_admin = req.query, req.context, req.context.is_admin
    all_tenants = "all_tenants" in q and q.get("all_tenants", "").lower() not in FALSE
    filters = {}
    for key in ("name", "status", "image", "flavor", "reservation_id", "availability_zone", "ip", "ip6",
                "changes-since", "changes-before", "tags", "tags-any", "not-tags", "not-tags-any", "locked"):
        if key in q:
            filters[key] = q[key]
    if is_admin:
        filters.update({k: q[k] for k in ADMIN_FILTERS if k in q})
    for key in ("image", "flavor"):
        if key in filters:
            filters[key] = filters[key].rsplit("/", 1)[-1]
    for key in ("changes-since", "changes-before"):
        if key in filters:
            filters[key] = parse_time(filters[key], key)
    if "changes-before" in filters and "changes-since" in filters and filters["changes-before"] < filters["changes-since"]:
        raise errors.ComputeInvalid("The value of changes-since must be less than or equal to changes-before.")
    for key in ("tags", "tags-any", "not-tags", "not-tags-any"):
        if key in filters:
            filters[key] = [t for t in filters[key].split(",") if t]
    if "locked" in filters:
        if not req.version.at_least("2.73"):
            filters.pop("locked")
        else:
            filters["locked"] = _bool(filters["locked"], "locked")
    if "config_drive" in filters:
        filters["config_drive"] = _bool(filters["config_drive"], "config_drive")
    project = ctx.project_id
    if is_admin and all_tenants:
        project = q.get("project_id") or q.get("tenant_id")
    deleted = is_admin and str(q.get("deleted", "")).lower() in TRUE
    sort = _sort(req)
    limit = None
    if "limit" in q:
        if not q["limit"].isdigit():
            raise errors.ComputeInvalid(f"Invalid input for query parameters limit. Value: {q['limit']}.")
        limit = min(int(q["limit"]), 1000)
    return ListQuery(project, filters, sort, limit, q.get("marker"), deleted)


def _sort(req) -> list[tuple[str, str]]:
    keys, dirs = req.query.getlist("sort_key"), req.query.getlist("sort_dir")
    if not keys:
        return [("created_at", dirs[0] if dirs else "desc")]
    sort = []
    for index, key in enumerate(keys):
        direction = dirs[index] if index < len(dirs) else (dirs[-1] if dirs else "desc")
        if key not in SORT_KEYS or direction not in ("asc", "desc"):
            raise errors.ComputeInvalid(f"Invalid input for query parameters sort_key. Value: {key}.")
        if key in ADMIN_SORT_KEYS and not req.context.is_admin:
            raise errors.ComputeForbidden(f"Only administrators can sort servers by {key}")
        sort.append((key, direction))
    return sort


def _listing(req, detail: bool):
    req.authorize({"project_id": req.context.project_id})
    if "all_tenants" in req.query and req.query.get("all_tenants", "").lower() not in FALSE:
        if not req.allowed({"project_id": req.context.project_id}, rule=P + "index:get_all_tenants"):
            raise errors.ComputeForbidden("Policy doesn't allow os_compute_api:servers:index:get_all_tenants to "
                                          "be performed.")
    query = _list_query(req)
    rows = req.state.compute.servers.list(query)
    base, version, is_admin = req.base_url + "/v2.1", req.version, req.context.is_admin
    specs = detail and req.allowed(rule="os_compute_api:os-flavor-extra-specs:index")
    items = [views_servers.server(base, r, version, is_admin, specs, listing=True) if detail
             else views_servers.summary(base, r) for r in rows]
    body = {"servers": items}
    if query.limit is not None and len(rows) == query.limit and rows:
        suffix = "/detail" if detail else ""
        params = "&".join(f"{k}={v}" for k, v in req.query.items() if k not in ("marker",))
        body["servers_links"] = [{"rel": "next", "href": f"{base}/servers{suffix}?{params}&marker={rows[-1].uuid}"}]
    return reply(body)


def list_servers(req):
    return _listing(req, detail=False)


def list_detail(req):
    return _listing(req, detail=True)


def render(req, row, slim: bool = False) -> dict:
    """The server as show gives it; ``slim``: as update and rebuild give it (2.75 made them equal)."""
    compute = req.state.compute
    groups = compute.servers.groups_of(row.uuid) if req.version.at_least("2.71") else None
    specs = req.allowed(rule="os_compute_api:os-flavor-extra-specs:index")
    body = views_servers.server(req.base_url + "/v2.1", row, req.version, req.context.is_admin, specs, groups)
    return views_servers.slim(body, req.version) if slim else body


def show(req):
    row = req.state.compute.servers.show(req.context, req.params["server_id"])
    req.authorize({"project_id": row.project_id})
    return reply({"server": render(req, row)})


def update(req):
    body = check(body_object(req.json(), "server"), UPDATE)
    version = req.version
    values = {}
    if "name" in body:
        values["display_name"] = body["name"]
    if "description" in body:
        if not version.at_least("2.19"):
            raise errors.ComputeInvalid("Additional properties are not allowed ('description' was unexpected)")
        values["display_description"] = body["description"]
    if "accessIPv4" in body:
        values["access_ip_v4"] = _ip(body["accessIPv4"], 4, "accessIPv4") if body["accessIPv4"] else None
    if "accessIPv6" in body:
        values["access_ip_v6"] = _ip(body["accessIPv6"], 6, "accessIPv6") if body["accessIPv6"] else None
    if "hostname" in body and version.at_least("2.90"):
        values["hostname"] = body["hostname"]
    compute = req.state.compute
    current = compute.servers.get(req.context, req.params["server_id"])
    req.authorize({"project_id": current.project_id})
    row = compute.servers.update(req.context, current.uuid, values)
    return reply({"server": render(req, row, slim=True)})


async def delete(req):
    compute = req.state.compute
    row = await asyncio.to_thread(compute.servers.get, req.context, req.params["server_id"])
    req.authorize({"project_id": row.project_id})
    await compute.lifecycle.delete(req.context, row.uuid)
    return reply(None, status=204)
