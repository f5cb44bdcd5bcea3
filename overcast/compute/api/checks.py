"""The request checks Nova's JSON schemas and id helpers make for the admin host APIs
(services, hypervisors, aggregates), with messages in the same spirit."""

from __future__ import annotations

import re
import uuid

from overcast.compute import errors

HOST = re.compile(r"^[a-zA-Z0-9-._]*$")  # parameter_types.fqdn
TRUE = ("True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes")  # parameter_types.boolean
FALSE = ("False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No", "no")
MAX_LIMIT = 1000  # Nova's [api] max_limit


def invalid(field: str, value, reason: str) -> errors.ComputeInvalid:
    return errors.ComputeInvalid(f"Invalid input for field/attribute {field}. Value: {value}. {reason}")


def obj(body, key: str | None = None) -> dict:
    """``body`` (or ``body[key]``) as a dict, else 400."""
    value = body.get(key) if isinstance(body, dict) and key else body
    if not isinstance(value, dict):
        if key and (not isinstance(body, dict) or key not in body):
            raise invalid(key, body, f"'{key}' is a required property")
        raise invalid(key or "body", value, f"{value!r} is not of type 'object'")
    return value


def only(values, allowed: tuple, field: str = "body") -> None:
    """400 for keys outside ``allowed`` (a schema's additionalProperties: false)."""
    extra = sorted(set(values) - set(allowed))
    if extra:
        names = ", ".join(repr(name) for name in extra)
        raise invalid(field, dict(values), f"Additional properties are not allowed ({names} "
                                           f"{'was' if len(extra) == 1 else 'were'} unexpected)")


def required(values: dict, names: tuple, field: str) -> None:
    for name in names:
        if name not in values:
            raise invalid(field, values, f"'{name}' is a required property")


def string(value, field: str, low: int = 1, high: int = 255, pattern: re.Pattern | None = None) -> str:
    if not isinstance(value, str):
        raise invalid(field, value, f"{value!r} is not of type 'string'")
    if len(value) < low:
        raise invalid(field, value, f"{value!r} is too short")
    if len(value) > high:
        raise invalid(field, value, f"{value!r} is too long")
    if pattern is not None and not pattern.match(value):
        raise invalid(field, value, f"{value!r} does not match '{pattern.pattern}'")
    return value


def host(value, field: str = "host") -> str:
    return string(value, field, pattern=HOST)


def boolean(value, field: str) -> bool:
    if isinstance(value, bool):
        return value
    if value in TRUE or value in FALSE:
        return value in TRUE
    raise invalid(field, value, f"{value!r} is not one of the accepted boolean values")


def is_uuid(value: str) -> bool:
    """oslo's is_uuid_like: any spelling uuid.UUID reads back to the same hex."""
    try:
        return uuid.UUID(value).hex == value.lower().replace("urn:", "").replace("uuid:", "").strip("{}") \
            .replace("-", "")
    except (TypeError, ValueError, AttributeError):
        return False


def uuid_id(value: str) -> str:
    if not is_uuid(value):
        raise errors.ComputeInvalid(f"Invalid uuid {value}")
    return value


def integer_id(value: str) -> int:
    """utils.validate_integer(id, 'id'): 400 unless the id is an integer."""
    try:
        return int(value)
    except (TypeError, ValueError):
        raise errors.ComputeInvalid("Invalid input received: id must be an integer") from None


def limit_marker(query) -> tuple[int, str | None]:
    """common.get_limit_and_marker: ``limit`` a non-negative integer, capped at MAX_LIMIT."""
    limit = MAX_LIMIT
    if "limit" in query:
        text = query["limit"]
        if not text.isdigit():
            raise errors.ComputeInvalid("limit param must be an integer" if not text.lstrip("-").isdigit()
                                        else "limit param must be positive")
        limit = min(MAX_LIMIT, int(text))
    return limit, query.get("marker")
