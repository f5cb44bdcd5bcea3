"""Request body checks with the error messages OpenStack's jsonschema validation gives.

A field spec is ``{"name": ("string", min, max), "enabled": "boolean", ...}``; the type
names are JSON Schema's, with ``|null`` allowed (``"string|null"``). Unknown fields pass
(the OpenStack APIs this serves allow additional properties unless they say otherwise).
"""

from __future__ import annotations

from overcast.common.errors import BadRequest

TYPES = {
    "string": str,
    "boolean": bool,
    "object": dict,
    "array": list,
    "integer": int,
    "number": (int, float),
    "null": type(None),
}


def _json_repr(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "None"
    return repr(value)


def check_type(field: str, value, kind: str) -> None:
    """Raise BadRequest unless ``value`` is of JSON type ``kind`` (``a|b`` means either)."""
    for name in kind.split("|"):
        python = TYPES[name]
        if isinstance(value, python) and not (name in ("integer", "number") and isinstance(value, bool)):
            return
    shown = kind.replace("|", "', '")
    raise BadRequest(f"Invalid input for field '{field}': {_json_repr(value)} is not of type '{shown}'")


def body_object(body, key: str) -> dict:
    """``body[key]`` as a dict, or BadRequest naming what is missing."""
    if not isinstance(body, dict) or key not in body:
        raise BadRequest(f"Invalid input for field '{key}': '{key}' is a required property")
    value = body[key]
    if not isinstance(value, dict):
        raise BadRequest(f"Invalid input for field '{key}': {_json_repr(value)} is not of type 'object'")
    return value


def check(obj: dict, fields: dict, required: tuple = ()) -> dict:
    """Check ``obj`` against ``fields``; returns ``obj``. Raises BadRequest."""
    for name in required:
        if name not in obj:
            raise BadRequest(f"Invalid input for field '{name}': '{name}' is a required property")
    for name, spec in fields.items():
        if name not in obj:
            continue
        kind, low, high = (spec, None, None) if isinstance(spec, str) else spec
        value = obj[name]
        check_type(name, value, kind)
        if isinstance(value, str):
            if low is not None and len(value) < low:
                raise BadRequest(f"Invalid input for field '{name}': {value!r} is too short")
            if high is not None and len(value) > high:
                raise BadRequest(f"Invalid input for field '{name}': {value!r} is too long")
    return obj
