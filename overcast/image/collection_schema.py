"""Glance's JSON Schema for a list document, shared by the image and metadef schemas.

Its own module so that :mod:`overcast.image.schemas` (which maps every ``/v2/schemas``
name to its builder) and :mod:`overcast.image.metadefs.schemas` can both use it without
importing each other.
"""

from __future__ import annotations


def collection_schema(name: str, item: dict, *, minimal: bool = False) -> dict:
    """Glance's list document: ``{<name>: [item...], first, next, schema}``.

    The item's ``definitions`` are moved to the top level of the collection document.
    """
    item = dict(item)
    definitions = item.pop("definitions", None)
    if minimal:
        doc = {
            "name": name,
            "properties": {
                name: {"type": "array", "items": item},
                "schema": {"type": "string"},
            },
            "links": [{"rel": "describedby", "href": "{schema}"}],
        }
    else:
        doc = {
            "name": name,
            "properties": {
                name: {"type": "array", "items": item},
                "first": {"type": "string"},
                "next": {"type": "string"},
                "schema": {"type": "string"},
            },
            "links": [
                {"rel": "first", "href": "{first}"},
                {"rel": "next", "href": "{next}"},
                {"rel": "describedby", "href": "{schema}"},
            ],
        }
    if definitions:
        doc["definitions"] = definitions
    return doc
