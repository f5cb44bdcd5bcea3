"""The ten ``/v2/schemas/metadefs/*`` documents: namespaces, resource types, properties, objects, tags.

Tempest's ``test_images_metadefs_schema`` only checks their ``name``, but the bodies follow
Glance's structure: the single-resource documents are Glance's full ("raw") form, with
``additionalProperties`` false, and the ``definitions`` (``property``, ``stringArray``, ...)
they refer to. Like :mod:`overcast.image.schemas`, each call builds a fresh copy;
:data:`overcast.image.schemas.SCHEMAS` maps the URL names to these builders.
"""

from __future__ import annotations

from overcast.image.collection_schema import collection_schema

_JSON_TYPES_OR_NULL = ["array", "boolean", "integer", "number", "object", "string", None]


def _metadef_property_fields() -> dict:
    """The fields of one metadata-definition property (a JSON-Schema-like spec)."""
    return {
        "name": {"type": "string", "maxLength": 80},
        "title": {"type": "string"},
        "description": {"type": "string"},
        "operators": {"type": "array", "items": {"type": "string"}},
        "type": {"type": "string", "enum": list(_JSON_TYPES_OR_NULL)},
        "required": {"$ref": "#/definitions/stringArray"},
        "minimum": {"type": "number"},
        "maximum": {"type": "number"},
        "maxLength": {"$ref": "#/definitions/positiveInteger"},
        "minLength": {"$ref": "#/definitions/positiveIntegerDefault0"},
        "pattern": {"type": "string", "format": "regex"},
        "enum": {"type": "array"},
        "readonly": {"type": "boolean"},
        "default": {},
        "items": {
            "type": "object",
            "properties": {
                "type": {"type": "string", "enum": list(_JSON_TYPES_OR_NULL)},
                "enum": {"type": "array"},
            },
        },
        "maxItems": {"$ref": "#/definitions/positiveInteger"},
        "minItems": {"$ref": "#/definitions/positiveIntegerDefault0"},
        "uniqueItems": {"type": "boolean", "default": False},
        "additionalItems": {"type": "boolean"},
    }


def _metadef_definitions(with_property_map: bool = True, string_array_min: int | None = None) -> dict:
    string_array: dict = {"type": "array", "items": {"type": "string"}, "uniqueItems": True}
    if string_array_min is not None:
        string_array["minItems"] = string_array_min
    definitions = {
        "positiveInteger": {"type": "integer", "minimum": 0},
        "positiveIntegerDefault0": {
            "allOf": [{"$ref": "#/definitions/positiveInteger"}, {"default": 0}],
        },
        "stringArray": string_array,
    }
    if with_property_map:
        definitions["property"] = {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["title", "type"],
                "properties": _metadef_property_fields(),
            },
        }
    return definitions


def _timestamps(what: str) -> dict:
    return {
        "created_at": {"type": "string", "readOnly": True, "format": "date-time",
                       "description": f"When the {what} was created."},
        "updated_at": {"type": "string", "readOnly": True, "format": "date-time",
                       "description": f"When the {what} last changed."},
    }


def _strict(name: str, properties: dict, required: list[str] | None = None,
            definitions: dict | None = None) -> dict:
    """Glance's full ("raw") form for a non-permissive schema."""
    doc: dict = {"name": name, "properties": properties, "additionalProperties": False}
    if definitions:
        doc["definitions"] = definitions
    if required:
        doc["required"] = required
    return doc


def metadef_namespace_schema() -> dict:
    """``GET /v2/schemas/metadefs/namespace``."""
    properties = {
        "namespace": {"type": "string", "maxLength": 80,
                      "description": "Unique name of the namespace."},
        "display_name": {"type": "string", "maxLength": 80,
                         "description": "Name shown by user interfaces."},
        "description": {"type": "string", "maxLength": 500,
                        "description": "What the namespace is for."},
        "visibility": {"type": "string", "enum": ["public", "private"],
                       "description": "Who may see the namespace."},
        "protected": {"type": "boolean",
                      "description": "When true the namespace cannot be deleted."},
        "owner": {"type": "string", "maxLength": 255,
                  "description": "Project that owns the namespace."},
        **_timestamps("namespace"),
        "schema": {"type": "string", "readOnly": True},
        "self": {"type": "string", "readOnly": True},
        "resource_type_associations": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "prefix": {"type": "string"},
                    "properties_target": {"type": "string"},
                },
            },
        },
        "properties": {"$ref": "#/definitions/property"},
        "objects": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "description": {"type": "string"},
                    "required": {"$ref": "#/definitions/stringArray"},
                    "properties": {"$ref": "#/definitions/property"},
                },
            },
        },
        "tags": {
            "type": "array",
            "items": {"type": "object", "properties": {"name": {"type": "string"}}},
        },
    }
    return _strict("namespace", properties, ["namespace"], _metadef_definitions())


def metadef_namespaces_schema() -> dict:
    """``GET /v2/schemas/metadefs/namespaces``."""
    return collection_schema("namespaces", metadef_namespace_schema())


def metadef_resource_type_schema() -> dict:
    """``GET /v2/schemas/metadefs/resource_type``."""
    properties = {
        "name": {"type": "string", "maxLength": 80,
                 "description": "Resource type, named like Heat's (e.g. OS::Glance::Image)."},
        "prefix": {"type": "string", "maxLength": 80,
                   "description": "Prefix (with its separator, e.g. 'hw:') to put in front "
                                  "of the namespace's property names for this type."},
        "properties_target": {"type": "string", "maxLength": 80,
                              "description": "Which metadata of the resource the "
                                             "properties apply to, when it has several."},
        **_timestamps("association"),
    }
    return _strict("resource_type_association", properties, ["name"])


def metadef_resource_types_schema() -> dict:
    """``GET /v2/schemas/metadefs/resource_types``."""
    return collection_schema("resource_type_associations", metadef_resource_type_schema())


def metadef_property_schema() -> dict:
    """``GET /v2/schemas/metadefs/property``."""
    return _strict("property", _metadef_property_fields(), ["type", "title", "name"],
                   _metadef_definitions(with_property_map=False, string_array_min=1))


def metadef_properties_schema() -> dict:
    """``GET /v2/schemas/metadefs/properties``: a map from property name to property."""
    item = metadef_property_schema()
    definitions = item.pop("definitions")
    item["required"] = [key for key in item["required"] if key != "name"]
    return {
        "name": "properties",
        "properties": {
            "properties": {"type": "object", "additionalProperties": item},
            "first": {"type": "string"},
            "next": {"type": "string"},
            "schema": {"type": "string"},
        },
        "links": [
            {"rel": "first", "href": "{first}"},
            {"rel": "next", "href": "{next}"},
            {"rel": "describedby", "href": "{schema}"},
        ],
        "definitions": definitions,
    }


def metadef_object_schema() -> dict:
    """``GET /v2/schemas/metadefs/object``."""
    properties = {
        "name": {"type": "string", "maxLength": 80},
        "description": {"type": "string"},
        "required": {"$ref": "#/definitions/stringArray"},
        "properties": {"$ref": "#/definitions/property"},
        "schema": {"type": "string", "readOnly": True},
        "self": {"type": "string", "readOnly": True},
        **_timestamps("object"),
    }
    return _strict("object", properties, ["name"], _metadef_definitions())


def metadef_objects_schema() -> dict:
    """``GET /v2/schemas/metadefs/objects``."""
    return collection_schema("objects", metadef_object_schema())


def metadef_tag_schema() -> dict:
    """``GET /v2/schemas/metadefs/tag``."""
    properties = {"name": {"type": "string", "maxLength": 80}, **_timestamps("tag")}
    return _strict("tag", properties, ["name"])


def metadef_tags_schema() -> dict:
    """``GET /v2/schemas/metadefs/tags``."""
    return collection_schema("tags", metadef_tag_schema())
