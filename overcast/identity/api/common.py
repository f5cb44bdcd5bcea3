"""Small pieces the identity handlers share: query flags and body checks."""

from __future__ import annotations

from overcast.common.api.validation import body_object, check
from overcast.identity import errors


def flag(value: str | None) -> bool | None:
    """A boolean query filter (?enabled=false); None when absent."""
    if value is None:
        return None
    lowered = value.lower()
    if lowered in ("", "1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise errors.ValidationError(f"Expected a boolean, got {value!r}.")


def resource(req, key: str, fields: dict, required: tuple = ()) -> dict:
    """The ``key`` object of the JSON body, type-checked; a copy the service may change."""
    return dict(check(body_object(req.json(), key), fields, required))


def no_id(obj: dict, kind: str, same: str | None = None) -> dict:
    """Drop an ``id`` in a body; only one equal to ``same`` (the URL's id) is allowed."""
    if "id" in obj:
        if same is None or obj["id"] != same:
            raise errors.ValidationError(f"Invalid input for field 'id': a {kind} id cannot be set or changed.")
        obj = {k: v for k, v in obj.items() if k != "id"}
    return obj
