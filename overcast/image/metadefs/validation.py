"""Body checks for metadata definitions, as Glance's JSON schemas apply them.

The documents served at ``/v2/schemas/metadefs/*`` (``overcast.image.schemas``) are what
these functions enforce; each returns a clean copy of the body. Errors read like Glance's
(``Provided object does not match schema 'namespace': ...``). Read-only attributes
(``self``, ``schema``, timestamps) are refused with 403, as Glance does.
"""

from __future__ import annotations

import re

from overcast.image.metadefs import errors

JSON_TYPES = ("array", "boolean", "integer", "number", "object", "string", None)
VISIBILITIES = ("public", "private")
READ_ONLY = ("self", "schema", "created_at", "updated_at")
MAX_NAME = 80


class _Check:
    """Checks one document against one named schema."""

    def __init__(self, schema: str, body, read_only=READ_ONLY):
        self.schema = schema
        if not isinstance(body, dict):
            self.fail(f"{body!r} is not of type 'object'")
        for key in read_only:
            if key in body:
                raise errors.ReadOnlyAttribute(key)
        self.body = body

    def fail(self, detail: str):
        raise errors.MetadefInvalid(f"Provided object does not match schema '{self.schema}': {detail}")

    def only(self, allowed) -> None:
        extra = sorted(set(self.body) - set(allowed))
        if extra:
            self.fail(f"Additional properties are not allowed ({', '.join(repr(k) for k in extra)} was unexpected)")

    def require(self, *names: str) -> None:
        for name in names:
            if name not in self.body:
                self.fail(f"'{name}' is a required property")

    def string(self, name: str, max_length: int | None = None) -> None:
        value = self.body.get(name)
        if name not in self.body:
            return
        if not isinstance(value, str):
            self.fail(f"{value!r} is not of type 'string'")
        if max_length is not None and len(value) > max_length:
            self.fail(f"{value!r} is too long")

    def kind(self, name: str, python, label: str) -> None:
        value = self.body.get(name)
        if name in self.body and (not isinstance(value, python) or (python is not bool and isinstance(value, bool))):
            self.fail(f"{value!r} is not of type '{label}'")

    def count(self, name: str) -> None:
        self.kind(name, int, "integer")
        if name in self.body and self.body[name] < 0:
            self.fail(f"{self.body[name]} is less than the minimum of 0")

    def string_array(self, name: str, min_items: int = 0) -> None:
        self.kind(name, list, "array")
        value = self.body.get(name)
        if value is None:
            return
        if any(not isinstance(item, str) for item in value):
            self.fail(f"{value!r} has items that are not of type 'string'")
        if len(set(value)) != len(value):
            self.fail(f"{value!r} has non-unique elements")
        if len(value) < min_items:
            self.fail(f"{value!r} is too short")

    def one_of(self, name: str, choices) -> None:
        if name in self.body and self.body[name] not in choices:
            self.fail(f"{self.body[name]!r} is not one of {list(choices)!r}")


PROPERTY_FIELDS = ("name", "title", "description", "operators", "type", "required", "minimum", "maximum",
                   "maxLength", "minLength", "pattern", "enum", "readonly", "default", "items", "maxItems",
                   "minItems", "uniqueItems", "additionalItems")


def property_spec(body, require_name: bool = True) -> dict:
    """A property definition (``POST .../properties``, or one value of a ``properties`` map)."""
    check = _Check("property", body, read_only=("created_at", "updated_at"))
    check.only(PROPERTY_FIELDS)
    check.require(*(("name",) if require_name else ()), "title", "type")
    check.string("name", MAX_NAME)
    check.string("title")
    check.string("description")
    check.one_of("type", JSON_TYPES)
    check.string_array("operators")
    check.string_array("required", min_items=1)
    for name in ("minimum", "maximum"):
        check.kind(name, (int, float), "number")
    for name in ("maxLength", "minLength", "maxItems", "minItems"):
        check.count(name)
    check.string("pattern")
    if "pattern" in body:
        try:
            re.compile(body["pattern"])
        except re.error:
            check.fail(f"{body['pattern']!r} is not a 'regex'")
    check.kind("enum", list, "array")
    for name in ("readonly", "uniqueItems", "additionalItems"):
        check.kind(name, bool, "boolean")
    check.kind("items", dict, "object")
    if "items" in body:
        items = _Check("property", body["items"])
        items.one_of("type", JSON_TYPES)
        items.kind("enum", list, "array")
    return dict(body)


def property_map(value, schema: str) -> dict:
    """``{name: spec}``: the ``properties`` of a namespace or an object."""
    if not isinstance(value, dict):
        raise errors.MetadefInvalid(f"Provided object does not match schema '{schema}': "
                                    f"{value!r} is not of type 'object'")
    specs = {}
    for name, spec in value.items():
        if len(name) > MAX_NAME:
            raise errors.MetadefInvalid(f"Provided object does not match schema '{schema}': {name!r} is too long")
        specs[name] = {k: v for k, v in property_spec(spec, require_name=False).items() if k != "name"}
    return specs


def object_body(body) -> dict:
    """An object (``POST``/``PUT .../objects``, or one item of a namespace's ``objects``)."""
    check = _Check("object", body)
    check.only(("name", "description", "required", "properties"))
    check.require("name")
    check.string("name", MAX_NAME)
    check.string("description")
    check.string_array("required")
    clean = dict(body)
    if "properties" in body:
        clean["properties"] = property_map(body["properties"], "object")
    return clean


def tag_body(body) -> dict:
    """A tag (``PUT .../tags/{name}``, or one item of a tag list)."""
    check = _Check("tag", body, read_only=("created_at", "updated_at"))
    check.only(("name",))
    check.require("name")
    check.string("name", MAX_NAME)
    return {"name": body["name"]}


def tags_body(body) -> list[str]:
    """``{"tags": [{"name": ...}, ...]}`` (``POST .../tags``): the names, in order."""
    check = _Check("tags", body)
    check.only(("tags",))
    check.kind("tags", list, "array")
    return [tag_body(item)["name"] for item in body.get("tags", [])]


def association_body(body) -> dict:
    """A resource type association (``POST .../resource_types``, or a namespace's list item)."""
    check = _Check("resource_type_association", body, read_only=("created_at", "updated_at"))
    check.only(("name", "prefix", "properties_target"))
    check.require("name")
    for name in ("name", "prefix", "properties_target"):
        check.string(name, MAX_NAME)
    return {"name": body["name"], "prefix": body.get("prefix"), "properties_target": body.get("properties_target")}


NAMESPACE_FIELDS = ("namespace", "display_name", "description", "visibility", "protected", "owner",
                    "resource_type_associations", "properties", "objects", "tags")


def namespace_body(body) -> dict:
    """A namespace (``POST``/``PUT /v2/metadefs/namespaces``), its nested contents checked too."""
    check = _Check("namespace", body)
    check.only(NAMESPACE_FIELDS)
    check.require("namespace")
    check.string("namespace", MAX_NAME)
    if body["namespace"] == "":
        check.fail("'' is too short")
    check.string("display_name", MAX_NAME)
    check.string("description", 500)
    check.one_of("visibility", VISIBILITIES)
    check.kind("protected", bool, "boolean")
    check.string("owner", 255)
    for name in ("resource_type_associations", "objects", "tags"):
        check.kind(name, list, "array")
    clean = dict(body)
    clean["resource_type_associations"] = [association_body(a) for a in body.get("resource_type_associations", [])]
    clean["objects"] = [object_body(o) for o in body.get("objects", [])]
    clean["tags"] = [tag_body(t)["name"] for t in body.get("tags", [])]
    clean["properties"] = property_map(body.get("properties", {}), "namespace")
    return clean
