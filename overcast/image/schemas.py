"""The JSON Schema documents the image API serves under ``GET /v2/schemas/...``.

Glance v2 publishes a schema for every resource it returns. Clients read them:
python-glanceclient builds its models and CLI options from ``/v2/schemas/image``,
openstacksdk exposes them (``get_image_schema`` and friends), and Tempest checks each
document's ``name``. This module builds the documents as plain Python data, with a
fresh copy on every call, so callers can change what they get back.

The shapes match Glance (2024.x-2026.x):

* ``image``: all base properties. ``additionalProperties`` is ``{"type": "string"}``,
  which is why custom properties must be strings (a non-string is a 400). The links
  are ``self``, ``enclosure`` and ``describedby``. Stock deployments also ship
  ``schema-image.json`` with a few "common" properties (kernel_id, ramdisk_id,
  os_distro, ...), which appear with ``"is_base": false``. They are included by default.
* ``images``: the collection. ``images`` is an array of the full image document,
  alongside ``first``, ``next`` and ``schema`` strings.
* ``member``, ``members``, ``task``, ``tasks``: Glance serves these in their "minimal"
  form. It has no ``additionalProperties`` key, and for the collections only a
  ``describedby`` link.
* ``metadefs/*``: the ten metadata-definition documents, built in
  :mod:`overcast.image.metadefs.schemas`.

The name sets at the bottom are the rules the API layer enforces on create and PATCH:
:data:`READ_ONLY`, :data:`RESERVED` (see also :func:`is_reserved`), :data:`CORE`,
:data:`ALWAYS_PRESENT`, :data:`DISK_FORMATS`, :data:`CONTAINER_FORMATS`, and others.

Use :data:`SCHEMAS` to serve a document: it maps ``<name>`` in
``/v2/schemas/<name>`` to the function that builds it. An unknown name is a 404.
"""

from __future__ import annotations

from typing import Callable

from overcast.image.collection_schema import collection_schema
from overcast.image.metadefs import schemas as metadef_schemas

# --------------------------------------------------------------------------- values

#: Glance's default ``[image_format] disk_formats``, in its order.
DISK_FORMATS: tuple[str, ...] = (
    "ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop",
)
#: Glance's default ``[image_format] container_formats``, in its order.
CONTAINER_FORMATS: tuple[str, ...] = (
    "ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed",
)
#: Every status an image can have. ``killed`` is legacy (v2 never sets it), and
#: ``deleted``/``pending_delete`` are never listed.
IMAGE_STATUSES: tuple[str, ...] = (
    "queued", "saving", "active", "killed", "deleted", "uploading", "importing",
    "pending_delete", "deactivated",
)
VISIBILITIES: tuple[str, ...] = ("community", "public", "private", "shared")
#: Values accepted by the ``visibility`` list filter (adds ``all``).
VISIBILITY_FILTERS: tuple[str, ...] = VISIBILITIES + ("all",)
MEMBER_STATUSES: tuple[str, ...] = ("pending", "accepted", "rejected")
#: Values accepted by the ``member_status`` list filter (adds ``all``).
MEMBER_STATUS_FILTERS: tuple[str, ...] = MEMBER_STATUSES + ("all",)
TASK_TYPES: tuple[str, ...] = ("import", "api_image_import", "location_import")
TASK_STATUSES: tuple[str, ...] = ("pending", "processing", "success", "failure")
#: Hash algorithms accepted in ``validation_data`` when adding a location.
HASH_ALGORITHMS: tuple[str, ...] = ("sha1", "sha256", "sha512", "md5")
#: ``sort_key`` values the image list accepts (anything else is a 400).
SORT_KEYS: tuple[str, ...] = (
    "name", "status", "container_format", "disk_format", "size", "id", "created_at",
    "updated_at",
)

#: Image ids are UUIDs in the 8-4-4-4-12 hex form, of either case.
UUID_PATTERN = (
    "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$"
)


def _nullable(kind: str) -> list[str]:
    return ["null", kind]


# --------------------------------------------------------------------------- image

def _location_item() -> dict:
    """One entry of ``locations``. It is only shown with show_multiple_locations."""
    return {
        "type": "object",
        "properties": {
            "url": {"type": "string", "maxLength": 255},
            "metadata": {"type": "object"},
            "validation_data": {
                "description": "Hash values to set on the image together with this "
                               "location; on a non-queued image they must equal the "
                               "image's current values. Never echoed back.",
                "type": "object",
                "writeOnly": True,
                "additionalProperties": False,
                "properties": {
                    "checksum": {"type": "string", "minLength": 32, "maxLength": 32},
                    "os_hash_algo": {"type": "string", "maxLength": 64},
                    "os_hash_value": {"type": "string", "maxLength": 128},
                },
                "required": ["os_hash_algo", "os_hash_value"],
            },
        },
        "required": ["url", "metadata"],
    }


def image_base_properties() -> dict:
    """The built-in image attributes, as JSON Schema property definitions."""
    return {
        "id": {
            "type": "string",
            "description": "Identifier of the image (a UUID).",
            "pattern": UUID_PATTERN,
        },
        "name": {
            "type": _nullable("string"),
            "description": "Human-readable name of the image.",
            "maxLength": 255,
        },
        "status": {
            "type": "string",
            "readOnly": True,
            "description": "Where the image is in its lifecycle.",
            "enum": list(IMAGE_STATUSES),
        },
        "visibility": {
            "type": "string",
            "description": "Who may see the image.",
            "enum": list(VISIBILITIES),
        },
        "protected": {
            "type": "boolean",
            "description": "When true the image cannot be deleted.",
        },
        "os_hidden": {
            "type": "boolean",
            "description": "When true the image is left out of default image lists.",
        },
        "checksum": {
            "type": _nullable("string"),
            "readOnly": True,
            "description": "MD5 hex digest of the image data.",
            "maxLength": 32,
        },
        "os_hash_algo": {
            "type": _nullable("string"),
            "readOnly": True,
            "description": "Name of the algorithm that produced os_hash_value.",
            "maxLength": 64,
        },
        "os_hash_value": {
            "type": _nullable("string"),
            "readOnly": True,
            "description": "Hex digest of the image data, computed with os_hash_algo.",
            "maxLength": 128,
        },
        "owner": {
            "type": _nullable("string"),
            "description": "Project that owns the image.",
            "maxLength": 255,
        },
        "size": {
            "type": _nullable("integer"),
            "readOnly": True,
            "description": "Size of the image data in bytes.",
        },
        "virtual_size": {
            "type": _nullable("integer"),
            "readOnly": True,
            "description": "Size of the disk the image expands to, in bytes.",
        },
        "container_format": {
            "type": _nullable("string"),
            "description": "Container format of the image data.",
            "enum": [None, *CONTAINER_FORMATS],
        },
        "disk_format": {
            "type": _nullable("string"),
            "description": "Disk format of the image data.",
            "enum": [None, *DISK_FORMATS],
        },
        "created_at": {
            "type": "string",
            "readOnly": True,
            "description": "When the image record was created.",
        },
        "updated_at": {
            "type": "string",
            "readOnly": True,
            "description": "When the image record last changed.",
        },
        "tags": {
            "type": "array",
            "description": "Free-form strings attached to the image.",
            "items": {"type": "string", "maxLength": 255},
        },
        "direct_url": {
            "type": "string",
            "readOnly": True,
            "description": "Backend URL of the image data (only if the operator "
                           "exposes it).",
        },
        "min_ram": {
            "type": "integer",
            "description": "RAM (MiB) a server needs to boot this image.",
        },
        "min_disk": {
            "type": "integer",
            "description": "Disk (GiB) a server needs to boot this image.",
        },
        "self": {
            "type": "string",
            "readOnly": True,
            "description": "Path of this image resource.",
        },
        "file": {
            "type": "string",
            "readOnly": True,
            "description": "Path of this image's data.",
        },
        "stores": {
            "type": "string",
            "readOnly": True,
            "description": "Comma-separated ids of the stores that hold the data "
                           "(multi-store deployments only).",
        },
        "schema": {
            "type": "string",
            "readOnly": True,
            "description": "Path of the schema describing this document.",
        },
        "locations": {
            "type": "array",
            "description": "Where the image data lives (only if the operator "
                           "exposes it).",
            "items": _location_item(),
        },
    }


def image_common_properties() -> dict:
    """The optional properties a stock ``schema-image.json`` adds (``is_base`` false).

    They are not stored separately: they are ordinary custom properties with a
    published type. The two UUID-valued ones are nullable and pattern-checked.
    """
    def uuid_ref(what: str) -> dict:
        return {
            "type": _nullable("string"),
            "pattern": UUID_PATTERN,
            "description": f"Id of the image to boot as the {what} of an AMI-style image.",
            "is_base": False,
        }

    def text(description: str) -> dict:
        return {"type": "string", "description": description, "is_base": False}

    return {
        "kernel_id": uuid_ref("kernel"),
        "ramdisk_id": uuid_ref("ramdisk"),
        "instance_uuid": text("Server this image was taken from (informational)."),
        "architecture": text("CPU architecture the image needs, e.g. x86_64."),
        "os_distro": text("Operating system distribution, lower case, e.g. ubuntu."),
        "os_version": text("Distribution version as its vendor writes it."),
        "description": text("Free-text description of the image."),
        "cinder_encryption_key_id": text(
            "Key-manager id of the key the block storage service uses for volumes "
            "made from this image."),
        "cinder_encryption_key_deletion_policy": {
            "type": "string",
            "description": "Whether that key is deleted together with the image.",
            "enum": ["on_image_deletion", "do_not_delete"],
            "is_base": False,
        },
    }


def image_links() -> list[dict]:
    return [
        {"rel": "self", "href": "{self}"},
        {"rel": "enclosure", "href": "{file}"},
        {"rel": "describedby", "href": "{schema}"},
    ]


def image_schema(common_properties: bool = True) -> dict:
    """``GET /v2/schemas/image``."""
    properties = image_base_properties()
    if common_properties:
        properties.update(image_common_properties())
    return {
        "name": "image",
        "properties": properties,
        "additionalProperties": {"type": "string"},
        "links": image_links(),
    }


def images_schema(common_properties: bool = True) -> dict:
    """``GET /v2/schemas/images``."""
    return collection_schema("images", image_schema(common_properties))


# --------------------------------------------------------------------------- members

def member_properties() -> dict:
    return {
        "member_id": {
            "type": "string",
            "description": "Project the image is shared with.",
        },
        "image_id": {
            "type": "string",
            "description": "Image being shared.",
            "pattern": UUID_PATTERN,
        },
        "created_at": {
            "type": "string",
            "description": "When the membership was created.",
        },
        "updated_at": {
            "type": "string",
            "description": "When the membership last changed.",
        },
        "status": {
            "type": "string",
            "description": "The member's answer to the share.",
            "enum": list(MEMBER_STATUSES),
        },
        "schema": {"type": "string", "readOnly": True},
    }


def member_schema() -> dict:
    """``GET /v2/schemas/member`` (minimal form: no additionalProperties key)."""
    return {"name": "member", "properties": member_properties()}


def members_schema() -> dict:
    """``GET /v2/schemas/members``."""
    return collection_schema("members", member_schema(), minimal=True)


# --------------------------------------------------------------------------- tasks

def task_properties(partial: bool = False) -> dict:
    """Task fields. ``partial`` drops input/result/message, as task lists do."""
    properties = {
        "id": {"type": "string", "description": "Identifier of the task.",
               "pattern": UUID_PATTERN},
        "type": {"type": "string", "description": "Kind of work the task does.",
                 "enum": list(TASK_TYPES)},
        "status": {"type": "string", "description": "Progress of the task.",
                   "enum": list(TASK_STATUSES)},
        "input": {"type": _nullable("object"),
                  "description": "Parameters the task was started with."},
        "result": {"type": _nullable("object"),
                   "description": "What the task produced."},
        "owner": {"type": "string", "description": "Project that owns the task."},
        "message": {"type": "string",
                    "description": "Human-readable detail, usually set on failure."},
        "image_id": {"type": "string", "description": "Image the task works on."},
        "request_id": {"type": "string",
                       "description": "Request id of the call that started the task."},
        "user_id": {"type": "string", "description": "User who started the task."},
        "expires_at": {"type": _nullable("string"),
                       "description": "When the finished task may be purged."},
        "created_at": {"type": "string", "description": "When the task was created."},
        "updated_at": {"type": "string", "description": "When the task last changed."},
        "self": {"type": "string", "readOnly": True},
        "schema": {"type": "string", "readOnly": True},
    }
    if partial:
        for key in ("input", "result", "message"):
            del properties[key]
    return properties


def task_schema() -> dict:
    """``GET /v2/schemas/task``."""
    return {"name": "task", "properties": task_properties()}


def tasks_schema() -> dict:
    """``GET /v2/schemas/tasks`` (items are the partial task)."""
    return collection_schema("tasks", {"name": "task", "properties": task_properties(partial=True)},
                             minimal=True)


#: ``/v2/schemas/<key>`` -> builder. Anything else under /v2/schemas/ is a 404.
#: Only GET is routed; Glance answers other methods on these paths with 405.
SCHEMAS: dict[str, Callable[[], dict]] = {
    "image": image_schema,
    "images": images_schema,
    "member": member_schema,
    "members": members_schema,
    "task": task_schema,
    "tasks": tasks_schema,
    "metadefs/namespace": metadef_schemas.metadef_namespace_schema,
    "metadefs/namespaces": metadef_schemas.metadef_namespaces_schema,
    "metadefs/resource_type": metadef_schemas.metadef_resource_type_schema,
    "metadefs/resource_types": metadef_schemas.metadef_resource_types_schema,
    "metadefs/property": metadef_schemas.metadef_property_schema,
    "metadefs/properties": metadef_schemas.metadef_properties_schema,
    "metadefs/object": metadef_schemas.metadef_object_schema,
    "metadefs/objects": metadef_schemas.metadef_objects_schema,
    "metadefs/tag": metadef_schemas.metadef_tag_schema,
    "metadefs/tags": metadef_schemas.metadef_tags_schema,
}


# --------------------------------------------------------------------------- name rules

#: Every built-in image attribute, i.e. everything in the base schema. Anything else
#: on an image is a custom property, stored and returned as a top-level string.
CORE: frozenset[str] = frozenset(image_base_properties())

#: Keys that appear in every image body, whatever the configuration. ``locations``
#: appears only with show_multiple_locations, ``direct_url`` only with
#: show_image_direct_url (and when there is data), ``stores`` only in multi-store
#: deployments.
ALWAYS_PRESENT: frozenset[str] = CORE - {"locations", "direct_url", "stores"}

#: A JSON-patch path naming one of these gets 403 "Attribute '<name>' is read-only.".
#: Glance's own list doesn't include ``stores``. We add it: Glance would store a patched
#: ``stores`` as a custom property, which makes no sense.
READ_ONLY: frozenset[str] = frozenset({
    "id", "status", "created_at", "updated_at", "checksum", "os_hash_algo",
    "os_hash_value", "size", "virtual_size", "direct_url", "self", "file", "schema",
    "stores",
})

#: ``POST /v2/images`` with one of these keys gets 403. ``id`` is allowed on create.
#: ``locations`` is refused on create; set it by PATCH, and only where that is enabled.
CREATE_FORBIDDEN: frozenset[str] = (READ_ONLY - {"id"}) | {"locations"}

#: Names nobody may use as a custom property, on create or PATCH (403
#: "Attribute '<name>' is reserved."). The whole ``os_glance`` prefix is reserved too;
#: see :func:`is_reserved`. The server sets ``os_glance_*`` keys itself (import state),
#: and they are shown in image bodies.
RESERVED: frozenset[str] = frozenset({"location", "deleted", "deleted_at"})
RESERVED_PREFIX = "os_glance"

#: Core attributes an ordinary JSON patch may change. ``owner`` needs admin (403
#: otherwise). ``disk_format`` and ``container_format`` only change while the image is
#: ``queued`` (or ``importing``); at any other status the patch is a 403. Other core
#: attributes can't be removed (403); custom properties can.
MUTABLE_CORE: frozenset[str] = frozenset({
    "name", "visibility", "protected", "os_hidden", "owner", "container_format",
    "disk_format", "min_ram", "min_disk", "tags",
})

#: The request keys ``POST /v2/images`` maps onto core attributes. Everything else in
#: the body (apart from the forbidden and reserved names) becomes a custom property.
CREATE_CORE: frozenset[str] = MUTABLE_CORE | {"id"}

#: Longest custom property name; a longer one is a 400.
MAX_PROPERTY_NAME = 255


def is_reserved(name: str) -> bool:
    """True if ``name`` can't be set by a user (``RESERVED`` or the ``os_glance`` prefix)."""
    return name in RESERVED or name.startswith(RESERVED_PREFIX)
