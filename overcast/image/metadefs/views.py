"""Metadata definitions as Glance v2 JSON.

Like Glance's WSME models, attributes without a value are left out of the documents.
Names go into ``self`` links as they are (``/v2/metadefs/namespaces/OS::Compute::Quota``).
"""

from __future__ import annotations

from overcast.common.times import iso_seconds as _time

NAMESPACE_SCHEMA = "/v2/schemas/metadefs/namespace"
OBJECT_SCHEMA = "/v2/schemas/metadefs/object"


def _present(body: dict) -> dict:
    return {key: value for key, value in body.items() if value is not None}


def association(link) -> dict:
    return _present({
        "name": link.name,
        "prefix": link.prefix,
        "properties_target": link.properties_target,
        "created_at": _time(link.created_at),
        "updated_at": _time(link.updated_at),
    })


def associations(links) -> dict:
    return {"resource_type_associations": [association(link) for link in links]}


def metadef_object(namespace: str, item) -> dict:
    return _present({
        "name": item.name,
        "description": item.description,
        "required": item.required,
        "properties": item.properties,
        "created_at": _time(item.created_at),
        "updated_at": _time(item.updated_at),
        "self": f"/v2/metadefs/namespaces/{namespace}/objects/{item.name}",
        "schema": OBJECT_SCHEMA,
    })


def objects(namespace: str, items) -> dict:
    return {"objects": [metadef_object(namespace, item) for item in items], "schema": "/v2/schemas/metadefs/objects"}


def tag(row) -> dict:
    return {"name": row.name, "created_at": _time(row.created_at), "updated_at": _time(row.updated_at)}


def tags(rows) -> dict:
    """Tag lists carry names only, as in Glance."""
    return {"tags": [{"name": row.name} for row in rows]}


def properties(specs: dict) -> dict:
    return {"properties": specs}


def _prefixed(specs: dict, prefix: str | None) -> dict:
    return {f"{prefix or ''}{name}": spec for name, spec in specs.items()}


def namespace(row, prefix: str | None = None) -> dict:
    """A namespace; its contents too when the service attached them (the detail view).

    ``prefix`` (a resource type association's, e.g. ``hw_``) goes in front of property names.
    """
    body = _present({
        "namespace": row.namespace,
        "display_name": row.display_name,
        "description": row.description,
        "visibility": row.visibility,
        "protected": row.protected,
        "owner": row.owner,
        "created_at": _time(row.created_at),
        "updated_at": _time(row.updated_at),
        "self": f"/v2/metadefs/namespaces/{row.namespace}",
        "schema": NAMESPACE_SCHEMA,
    })
    if getattr(row, "associations", None):
        body["resource_type_associations"] = [association(link) for link in row.associations]
    if getattr(row, "objects", None):
        body["objects"] = [metadef_object(row.namespace, item) for item in row.objects]
        for item in body["objects"]:
            item["properties"] = _prefixed(item.get("properties", {}), prefix)
            if prefix and item.get("required"):
                item["required"] = [prefix + name for name in item["required"]]
    if getattr(row, "properties", None):
        body["properties"] = _prefixed(row.properties, prefix)
    if getattr(row, "tags", None):
        body["tags"] = [{"name": item.name} for item in row.tags]
    return body


def resource_types(rows) -> dict:
    return {"resource_types": [
        {"name": row.name, "created_at": _time(row.created_at), "updated_at": _time(row.updated_at)}
        for row in rows
    ]}
