"""What account, container and object handlers share: Swift's limits, metadata headers,
listing parameters and formats, timestamps."""

from __future__ import annotations

import datetime
import email.utils
import json
from xml.sax.saxutils import escape

from starlette.responses import Response

from overcast.objectstore import errors
from overcast.objectstore.service import MAX_LISTING, Listing

MAX_META_NAME, MAX_META_VALUE, MAX_META_COUNT, MAX_META_SIZE = 128, 256, 90, 4096
MAX_CONTAINER_NAME, MAX_OBJECT_NAME = 256, 1024


def check_name(name: str, kind: str) -> str:
    """A container or object name from the (already percent-decoded) path, or from a header
    the caller unquoted; 400 / 412 as Swift answers."""
    limit = MAX_CONTAINER_NAME if kind == "container" else MAX_OBJECT_NAME
    if len(name.encode("utf-8", "surrogateescape")) > limit:
        raise errors.SwiftBadRequest(f"{kind.capitalize()} name length of {len(name)} longer than {limit}")
    if kind == "container" and "/" in name:
        raise errors.SwiftBadRequest("Invalid container name")
    if "\x00" in name:
        raise errors.PreconditionFailed("Invalid UTF8 or contains NULL")
    return name


def meta_from(headers, kind: str, remove: bool = True) -> dict[str, str | None]:
    """``X-<kind>-Meta-*`` (and ``X-Remove-<kind>-Meta-*`` as None) from the request, lower case."""
    prefix, removal = f"x-{kind}-meta-", f"x-remove-{kind}-meta-"
    found: dict[str, str | None] = {}
    for key, value in headers.items():
        key = key.lower()
        if key.startswith(prefix):
            found[key] = value
        elif remove and key.startswith(removal):
            found[prefix + key[len(removal):]] = None
    check_meta(found)
    return found


def check_meta(meta: dict) -> None:
    size = 0
    for key, value in meta.items():
        name = key.split("-meta-", 1)[-1]
        if not name:
            raise errors.SwiftBadRequest("Metadata name cannot be empty")
        if len(name) > MAX_META_NAME:
            raise errors.SwiftBadRequest(f"Metadata name too long: {key}")
        if value and len(value) > MAX_META_VALUE:
            raise errors.SwiftBadRequest(f"Metadata value longer than {MAX_META_VALUE}: {key}")
        size += len(name) + len(value or "")
    if len(meta) > MAX_META_COUNT:
        raise errors.SwiftBadRequest(f"Too many metadata items; max {MAX_META_COUNT}")
    if size > MAX_META_SIZE:
        raise errors.SwiftBadRequest(f"Total metadata too large; max {MAX_META_SIZE}")


def listing_from(query) -> Listing:
    limit = query.get("limit")
    if limit is not None:
        if not limit.isdigit():
            raise errors.PreconditionFailed("Value of limit must be a positive integer")
        if int(limit) > MAX_LISTING:
            raise errors.PreconditionFailed(f"Maximum limit is {MAX_LISTING}")
    prefix, delimiter = query.get("prefix", ""), query.get("delimiter", "")
    if "path" in query:  # path=p is prefix p/ with delimiter /
        path = query["path"]
        prefix, delimiter = (path.rstrip("/") + "/" if path else ""), "/"
    return Listing(limit=int(limit) if limit is not None else MAX_LISTING, marker=query.get("marker", ""),
                   end_marker=query.get("end_marker", ""), prefix=prefix, delimiter=delimiter,
                   reverse=query.get("reverse", "").lower() in ("1", "true", "yes", "on", "t", "y"))


def wanted_format(req) -> str:
    fmt = req.query.get("format", "").lower()
    if fmt in ("json", "xml", "plain"):
        return fmt
    accept = req.headers.get("accept", "")
    if "application/json" in accept:
        return "json"
    if "application/xml" in accept or "text/xml" in accept:
        return "xml"
    return "plain"


def iso(stamp: float) -> str:
    return datetime.datetime.fromtimestamp(stamp, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def http_date(stamp: float) -> str:
    return email.utils.formatdate(int(stamp) + (1 if stamp % 1 else 0), usegmt=True)


def render_listing(fmt: str, root: str, name: str, items: list[dict], headers: dict, status_empty: int = 204
                   ) -> Response:
    """A listing in plain text, JSON or XML, as Swift writes each; empty plain -> 204."""
    if fmt == "json":
        return Response(json.dumps(items), 200, headers, media_type="application/json; charset=utf-8")
    if fmt == "xml":
        parts = [f'<?xml version="1.0" encoding="UTF-8"?>\n<{root} name="{escape(name)}">']
        for item in items:
            if "subdir" in item:
                parts.append(f'<subdir name="{escape(item["subdir"])}"><name>{escape(item["subdir"])}</name></subdir>')
                continue
            kind = "container" if root == "account" else "object"
            fields = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in item.items())
            parts.append(f"<{kind}>{fields}</{kind}>")
        parts.append(f"</{root}>")
        return Response("".join(parts), 200, headers, media_type="application/xml; charset=utf-8")
    if not items:
        return empty(status_empty, headers)
    text = "".join((item.get("subdir") or item["name"]) + "\n" for item in items)
    return Response(text, 200, headers, media_type="text/plain; charset=utf-8")


def empty(status: int, headers: dict | None = None) -> Response:
    """A response without a body, typed as Swift types every response."""
    return Response(b"", status, {"Content-Type": "text/html; charset=UTF-8", **(headers or {})})


def meta_headers(meta: dict) -> dict[str, str]:
    return {key.title(): value for key, value in (meta or {}).items()}
