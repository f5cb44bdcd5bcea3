"""Resource attributes as Neutron declares them, and the body reader built on them.

Each resource names its attributes with an :class:`Attr`: how the value converts (and
so validates), whether POST and PUT may set it, its default, and whether a policy rule
of its own guards it (``create_network:shared``, ``get_network:provider:network_type``).
:func:`read_body` turns a request into converted dicts, refusing what Neutron refuses:
unknown attributes, read-only ones, wrong types and missing required ones, each a 400.
"""

from __future__ import annotations

import ipaddress
import uuid
from dataclasses import dataclass
from typing import Any, Callable

from overcast.network.errors import HTTPBadRequest

REQUIRED = object()  # no default: POST must give it
UNSET = object()  # optional with no default: absent from the converted dict


@dataclass(frozen=True)
class Attr:
    convert: Callable[[str, Any], Any] | None = None  # (name, value) -> value; raises HTTPBadRequest
    post: bool = True
    put: bool = True
    default: Any = UNSET
    policy: bool = False  # guarded by "<action>_<resource>:<name>" and hidden on GET without it


def invalid(name: str, reason: str) -> HTTPBadRequest:
    return HTTPBadRequest(f"Invalid input for {name}. Reason: {reason}.")


def boolean(name, value):
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
        return value.lower() in ("true", "1")
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise invalid(name, f"'{value}' cannot be converted to boolean")


def string(limit: int = 255, nullable: bool = False):
    def convert(name, value):
        if value is None and nullable:
            return None
        if not isinstance(value, str):
            raise invalid(name, f"'{value}' is not a valid string")
        if len(value) > limit:
            raise invalid(name, f"'{value}' exceeds maximum length of {limit}")
        return value
    return convert


def integer(low: int | None = None, high: int | None = None, nullable: bool = False):
    def convert(name, value):
        if value is None and nullable:
            return None
        try:
            if isinstance(value, bool) or isinstance(value, float):
                raise ValueError
            number = int(value)
        except (TypeError, ValueError):
            raise invalid(name, f"'{value}' is not an integer") from None
        if low is not None and number < low:
            raise invalid(name, f"'{number}' should be greater than or equal to {low}")
        if high is not None and number > high:
            raise invalid(name, f"'{number}' should be less than or equal to {high}")
        return number
    return convert


def uuid_value(nullable: bool = False):
    def convert(name, value):
        if value is None and nullable:
            return None
        try:
            return str(uuid.UUID(str(value))) if isinstance(value, str) else _raise()
        except ValueError:
            raise invalid(name, f"'{value}' is not a valid UUID") from None
    return convert


def _raise():
    raise ValueError


def ip_address(nullable: bool = False):
    def convert(name, value):
        if value is None and nullable:
            return None
        try:
            if not isinstance(value, str):
                raise ValueError
            return str(ipaddress.ip_address(value))
        except ValueError:
            raise invalid(name, f"'{value}' is not a valid IP address") from None
    return convert


def cidr(nullable: bool = False):
    def convert(name, value):
        if value is None and nullable:
            return None
        try:
            if not isinstance(value, str) or "/" not in value:
                raise ValueError
            return str(ipaddress.ip_network(value, strict=False))
        except ValueError:
            raise invalid(name, f"'{value}' is not a valid IP subnet") from None
    return convert


def one_of(*choices, nullable: bool = False):
    def convert(name, value):
        if value is None and nullable:
            return None
        if value not in choices:
            raise invalid(name, f"'{value}' is not in {list(choices)}")
        return value
    return convert


def list_of(item: Callable | None = None):
    def convert(name, value):
        if not isinstance(value, list):
            raise invalid(name, f"'{value}' is not a list")
        return [item(name, one) for one in value] if item else list(value)
    return convert


def dict_value(name, value):
    if not isinstance(value, dict):
        raise invalid(name, f"'{value}' is not a dictionary")
    return value


def anything(name, value):
    return value


PROJECT = {"project_id": Attr(string(255), put=False), "tenant_id": Attr(string(255), put=False)}
STANDARD = {"name": Attr(string(255), default=""), "description": Attr(string(255), default="")}


def read_body(req, resource: str, attrs: dict[str, Attr], update: bool = False,
              bulk: str | None = None) -> list[dict]:
    """The converted attributes of each resource in the body (one, or a bulk list).

    ``bulk`` is the plural key (``networks``) when POST may carry a list. The caller's
    project fills ``project_id`` on create unless the body names one.
    """
    body = req.json()
    if not isinstance(body, dict):
        raise HTTPBadRequest("Body contains invalid data")
    if bulk and bulk in body and resource not in body:
        items = body[bulk]
        if not isinstance(items, list) or not items:
            raise HTTPBadRequest("Resources required")
    elif resource in body:
        items = [body[resource]]
    else:
        raise HTTPBadRequest(f"Unable to find '{resource}' in request body")
    return [_read_one(req, item, attrs, update) for item in items]


def _read_one(req, item, attrs: dict[str, Attr], update: bool) -> dict:
    if not isinstance(item, dict):
        raise HTTPBadRequest("Body contains invalid data")
    unknown = sorted(set(item) - set(attrs) - set(PROJECT))
    if unknown:
        raise HTTPBadRequest(f"Unrecognized attribute(s) '{', '.join(unknown)}'")
    result: dict = {}
    for name, value in item.items():
        attr = attrs.get(name) or PROJECT[name]
        if update and not attr.put:
            raise HTTPBadRequest(f"Cannot update read-only attribute {name}")
        if not update and not attr.post:
            raise HTTPBadRequest(f"Attribute '{name}' not allowed in POST")
        result[name] = attr.convert(name, value) if attr.convert else value
    if update:
        return result
    for name, attr in attrs.items():
        if name in result:
            continue
        if attr.default is REQUIRED:
            raise HTTPBadRequest(f"Failed to parse request. Required attribute '{name}' not specified")
        if attr.default is not UNSET:
            result[name] = attr.default
    project = result.pop("project_id", None)
    tenant = result.pop("tenant_id", None)
    if project and tenant and project != tenant:
        raise HTTPBadRequest("'project_id' and 'tenant_id' do not match")
    result["project_id"] = project or tenant or req.context.project_id or ""
    return result


def explicitly_set(name: str, attrs: dict[str, Attr], values: dict, update: bool) -> bool:
    """Whether a policy-guarded attribute was really asked for (Neutron ignores defaults)."""
    if name not in values:
        return False
    attr = attrs[name]
    return update or attr.default is UNSET or attr.default is REQUIRED or values[name] != attr.default
