"""What the volume handlers share: list parameters, booleans and body checks as Cinder reads them."""

from __future__ import annotations

import ast
import json

from overcast.volume import errors

TRUE = ("true", "1", "yes", "y", "t", "on")
FALSE = ("false", "0", "no", "n", "f", "off")


def boolean(value, field: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise errors.InvalidInput(f"Invalid value '{value}' for {field}, it must be a boolean.")


def body_dict(req, key: str) -> dict:
    body = req.json()
    if not isinstance(body, dict) or not isinstance(body.get(key), dict):
        raise errors.InvalidInput(f"Missing required element '{key}' in request body.")
    return body[key]


def check_name(fields: dict, keys=("name", "description")) -> None:
    for key in keys:
        value = fields.get(key)
        if value is not None and not isinstance(value, str):
            raise errors.InvalidInput(f"Invalid input for field/attribute {key}. Value: {value}.")
        if key == "name" and isinstance(value, str) and len(value) > 255:
            raise errors.InvalidInput(f"Invalid input for field/attribute name. Value: {value}. is too long")


def check_metadata(metadata) -> dict:
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise errors.InvalidInput("Invalid input for field/attribute metadata. Value: "
                                  f"{metadata}. {metadata!r} is not of type 'object'")
    for key, value in metadata.items():
        if not isinstance(key, str) or not key or len(key) > 255:
            raise errors.InvalidInput(f"Invalid input for field/attribute metadata. Value: {metadata}.")
        if not isinstance(value, str) or len(value) > 255:
            raise errors.InvalidInput(f"Invalid input for field/attribute metadata. Value: {metadata}.")
    return metadata


def paging(req, sort_keys) -> dict:
    """limit, marker, offset and sort from the query (``sort=k1:asc,k2`` or sort_key/sort_dir)."""
    query = req.query
    limit = query.get("limit")
    if limit is not None:
        if not limit.lstrip("-").isdigit() or int(limit) < 0:
            raise errors.InvalidInput(f"limit param must be an integer")
        limit = int(limit)
    offset = query.get("offset", "0")
    if not offset.isdigit():
        raise errors.InvalidInput("offset param must be an integer")
    sort = []
    if query.get("sort"):
        for item in query["sort"].split(","):
            key, _, direction = item.strip().partition(":")
            sort.append((key, direction or "desc"))
    else:
        keys = query.get("sort_key", "created_at").split(",")
        dirs = query.get("sort_dir", "desc").split(",")
        sort = [(k.strip(), (dirs[i] if i < len(dirs) else dirs[-1]).strip()) for i, k in enumerate(keys)]
    for key, direction in sort:
        if key not in sort_keys:
            raise errors.InvalidInput(f"Invalid sort key {key}")
        if direction not in ("asc", "desc"):
            raise errors.InvalidInput(f"Unknown sort direction, must be 'desc' or 'asc'")
    return {"limit": limit, "marker": query.get("marker"), "offset": int(offset), "sort": sort}


def filters(req, allowed: tuple[str, ...]) -> dict:
    found = {}
    for key in allowed:
        if key in req.query:
            found[key] = req.query[key]
    if "metadata" in found:
        found["metadata"] = _mapping(found["metadata"])
    return found


def _mapping(text: str) -> dict:
    for parse in (json.loads, ast.literal_eval):
        try:
            value = parse(text)
            if isinstance(value, dict):
                return {str(k): str(v) for k, v in value.items()}
        except (ValueError, SyntaxError):
            continue
    raise errors.InvalidInput(f"Invalid metadata filter {text}")


def all_projects(req) -> bool:
    value = req.query.get("all_tenants") or req.query.get("all_projects")
    return value is not None and (value == "" or boolean(value, "all_tenants"))


def next_link(req, kind: str, rows: list, limit: int | None) -> list | None:
    if not limit or len(rows) < limit or not rows:
        return None
    params = [(k, v) for k, v in req.query.items() if k != "marker"] + [("marker", rows[-1].id)]
    from urllib.parse import urlencode

    project = req.params.get("project_id")
    return [{"rel": "next", "href": f"{req.base_url}/v3/{project}/{kind}?{urlencode(params)}"}]


def gate(req, version: str) -> None:
    """404 below ``version``, as Cinder answers a path its microversion does not serve."""
    if not req.version.at_least(version):
        req.authorized = True
        from overcast.common.errors import NotFound

        raise NotFound("The resource could not be found.")

