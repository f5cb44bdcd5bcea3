"""/v2/metadefs: namespaces, their objects, properties, tags and resource type associations.

Policy targets are the namespace's ``project_id`` (its owner) and ``visibility``; calls
without a namespace use the caller's project. A caller who may not even read the
namespace in the path gets 404 rather than 403, as from Glance.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from overcast.common.api import Route, reply
from overcast.common.policy import Rule
from overcast.image.metadefs import errors, views

DEFAULT_LIMIT = 25  # Glance's limit_param_default
MAX_LIMIT = 1000  # Glance's api_limit_max
NAMESPACES = "/v2/metadefs/namespaces"
NAMESPACE = NAMESPACES + "/{namespace}"


def _metadefs(req):
    return req.state.image.metadefs


def _target(row) -> dict:
    return {"project_id": row.owner, "visibility": row.visibility}


def _namespace(req, *also: str, contents: bool = False):
    """The path's namespace, once the route's rule (and each of ``also``) allows the caller."""
    row = _metadefs(req).get_namespace(req.context, req.params["namespace"], contents=contents)
    target = _target(row)
    if not req.allowed(target, "get_metadef_namespace"):
        raise errors.NamespaceNotFound(row.namespace)
    req.authorize(target)
    for rule in also:
        req.authorize(target, rule=rule)
    return row


def _int(req, name: str):
    value = req.query.get(name)
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        raise errors.MetadefInvalid(f"{name} param must be an integer") from None
    if number < 0:
        raise errors.MetadefInvalid(f"{name} param must be positive")
    return number


def _sort(req) -> dict:
    return {"sort_key": req.query.get("sort_key", "created_at"), "sort_dir": req.query.get("sort_dir", "desc")}


def _prefix(req, namespace: str) -> str | None:
    """The prefix of the ``?resource_type=`` association (404 when there is none)."""
    name = req.query.get("resource_type")
    if not name:
        return None
    for link in _metadefs(req).list_associations(req.context, namespace):
        if link.name == name:
            return link.prefix
    raise errors.AssociationNotFound(name)


# namespaces

def list_namespaces(req):
    caller = {"project_id": req.context.project_id}
    req.authorize(caller)
    req.authorize(caller, rule="list_metadef_resource_types")
    limit = _int(req, "limit")
    limit = DEFAULT_LIMIT if limit is None else min(limit, MAX_LIMIT)
    types = [t for t in req.query.get("resource_types", "").split(",") if t]
    rows = _metadefs(req).list_namespaces(
        req.context, resource_types=types, visibility=req.query.get("visibility"), limit=limit,
        marker=req.query.get("marker"), **_sort(req))
    shown = [row for row in rows if req.allowed(_target(row), "get_metadef_namespace")]
    params = [(k, v) for k, v in req.query.multi_items() if k != "marker"]
    body = {"namespaces": [views.namespace(row) for row in shown],
            "first": NAMESPACES + ("?" + urlencode(params) if params else ""),
            "schema": "/v2/schemas/metadefs/namespaces"}
    if rows and len(rows) == limit:
        body["next"] = NAMESPACES + "?" + urlencode(params + [("marker", rows[-1].namespace)])
    return reply(body)


def create_namespace(req):
    body = req.json()
    caller = {"project_id": req.context.project_id}
    req.authorize(caller)
    nested = {"resource_type_associations": "add_metadef_resource_type_association",
              "objects": "add_metadef_object", "properties": "add_metadef_property", "tags": "add_metadef_tag"}
    for key, rule in nested.items():
        if isinstance(body, dict) and body.get(key):
            req.authorize(caller, rule=rule)
    row = _metadefs(req).create_namespace(req.context, body)
    location = f"{req.base_url}{NAMESPACES}/{quote(row.namespace, safe=':')}"
    return reply(views.namespace(row), status=201, headers={"Location": location})


def show_namespace(req):
    row = _namespace(req, "list_metadef_resource_types", "get_metadef_objects", "get_metadef_properties",
                     "get_metadef_tags", contents=True)
    prefix = None
    if req.query.get("resource_type"):
        prefix = next((a.prefix for a in row.associations if a.name == req.query["resource_type"]), None)
    return reply(views.namespace(row, prefix=prefix))


def update_namespace(req):
    row = _namespace(req)
    return reply(views.namespace(_metadefs(req).update_namespace(req.context, row.namespace, req.json())))


def delete_namespace(req):
    row = _namespace(req)
    _metadefs(req).delete_namespace(req.context, row.namespace)
    return reply(None, status=204)


def _delete_all(kind: str, *also: str):
    def handler(req):
        row = _namespace(req, *also)
        _metadefs(req).delete_contents(req.context, row.namespace, kind)
        return reply(None, status=204)

    handler.__qualname__ = f"delete_{kind}"
    return handler


# objects

def list_objects(req):
    row = _namespace(req)
    return reply(views.objects(row.namespace, _metadefs(req).list_objects(req.context, row.namespace)))


def create_object(req):
    row = _namespace(req)
    item = _metadefs(req).create_object(req.context, row.namespace, req.json())
    return reply(views.metadef_object(row.namespace, item), status=201)


def show_object(req):
    row = _namespace(req)
    item = _metadefs(req).get_object(req.context, row.namespace, req.params["object_name"])
    return reply(views.metadef_object(row.namespace, item))


def update_object(req):
    row = _namespace(req)
    item = _metadefs(req).update_object(req.context, row.namespace, req.params["object_name"], req.json())
    return reply(views.metadef_object(row.namespace, item))


def delete_object(req):
    row = _namespace(req)
    _metadefs(req).delete_object(req.context, row.namespace, req.params["object_name"])
    return reply(None, status=204)


# properties

def list_properties(req):
    row = _namespace(req)
    return reply(views.properties(_metadefs(req).list_properties(req.context, row.namespace)))


def create_property(req):
    row = _namespace(req)
    return reply(_metadefs(req).create_property(req.context, row.namespace, req.json()), status=201)


def show_property(req):
    """``?resource_type=`` takes the name with that association's prefix (``hw_cpu_cores``)."""
    row = _namespace(req)
    name = req.params["property_name"]
    if req.query.get("resource_type"):
        req.authorize(_target(row), rule="get_metadef_resource_type")
        prefix = _prefix(req, row.namespace)
        if not prefix or not name.startswith(prefix):
            raise errors.PropertyNotFound(name, row.namespace)
        name = name[len(prefix):]
    return reply(_metadefs(req).get_property(req.context, row.namespace, name))


def update_property(req):
    row = _namespace(req)
    return reply(_metadefs(req).update_property(req.context, row.namespace, req.params["property_name"], req.json()))


def delete_property(req):
    row = _namespace(req)
    _metadefs(req).delete_property(req.context, row.namespace, req.params["property_name"])
    return reply(None, status=204)


# tags

def list_tags(req):
    row = _namespace(req)
    rows = _metadefs(req).list_tags(req.context, row.namespace, limit=_int(req, "limit") or None,
                                    marker=req.query.get("marker"), **_sort(req))
    return reply(views.tags(rows))


def create_tags(req):
    row = _namespace(req)
    append = req.headers.get("x-openstack-append", "").strip().lower() in ("1", "true", "yes", "on", "y", "t")
    rows = _metadefs(req).create_tags(req.context, row.namespace, req.json(), append=append)
    return reply(views.tags(rows), status=201)


def show_tag(req):
    row = _namespace(req)
    return reply(views.tag(_metadefs(req).get_tag(req.context, row.namespace, req.params["tag_name"])))


def create_tag(req):
    row = _namespace(req)
    return reply(views.tag(_metadefs(req).create_tag(req.context, row.namespace, req.params["tag_name"])),
                 status=201)


def update_tag(req):
    row = _namespace(req)
    tag = _metadefs(req).update_tag(req.context, row.namespace, req.params["tag_name"], req.json())
    return reply(views.tag(tag))


def delete_tag(req):
    row = _namespace(req)
    _metadefs(req).delete_tag(req.context, row.namespace, req.params["tag_name"])
    return reply(None, status=204)


# resource types

def list_resource_types(req):
    req.authorize({"project_id": req.context.project_id})
    return reply(views.resource_types(_metadefs(req).list_resource_types()))


def list_associations(req):
    row = _namespace(req)
    links = _metadefs(req).list_associations(req.context, row.namespace)
    shown = [link for link in links if req.allowed(_target(row), "get_metadef_resource_type")]
    return reply(views.associations(shown))


def create_association(req):
    row = _namespace(req)
    return reply(views.association(_metadefs(req).create_association(req.context, row.namespace, req.json())),
                 status=201)


def delete_association(req):
    row = _namespace(req)
    _metadefs(req).delete_association(req.context, row.namespace, req.params["resource_type"])
    return reply(None, status=204)


ROUTES = [
    Route("GET", NAMESPACES, list_namespaces, "get_metadef_namespaces"),
    Route("POST", NAMESPACES, create_namespace, "add_metadef_namespace"),
    Route("GET", NAMESPACE, show_namespace, "get_metadef_namespace"),
    Route("PUT", NAMESPACE, update_namespace, "modify_metadef_namespace"),
    Route("DELETE", NAMESPACE, delete_namespace, "delete_metadef_namespace"),
    Route("GET", NAMESPACE + "/objects", list_objects, "get_metadef_objects"),
    Route("POST", NAMESPACE + "/objects", create_object, "add_metadef_object"),
    Route("DELETE", NAMESPACE + "/objects", _delete_all("objects"), "delete_metadef_namespace"),
    Route("GET", NAMESPACE + "/objects/{object_name}", show_object, "get_metadef_object"),
    Route("PUT", NAMESPACE + "/objects/{object_name}", update_object, "modify_metadef_object"),
    Route("DELETE", NAMESPACE + "/objects/{object_name}", delete_object, "delete_metadef_object"),
    Route("GET", NAMESPACE + "/properties", list_properties, "get_metadef_properties"),
    Route("POST", NAMESPACE + "/properties", create_property, "add_metadef_property"),
    Route("DELETE", NAMESPACE + "/properties", _delete_all("properties"), "delete_metadef_namespace"),
    Route("GET", NAMESPACE + "/properties/{property_name}", show_property, "get_metadef_property"),
    Route("PUT", NAMESPACE + "/properties/{property_name}", update_property, "modify_metadef_property"),
    Route("DELETE", NAMESPACE + "/properties/{property_name}", delete_property, "remove_metadef_property"),
    Route("GET", NAMESPACE + "/tags", list_tags, "get_metadef_tags"),
    Route("POST", NAMESPACE + "/tags", create_tags, "add_metadef_tags"),
    Route("DELETE", NAMESPACE + "/tags", _delete_all("tags", "delete_metadef_namespace"), "delete_metadef_tags"),
    Route("GET", NAMESPACE + "/tags/{tag_name}", show_tag, "get_metadef_tag"),
    Route("POST", NAMESPACE + "/tags/{tag_name}", create_tag, "add_metadef_tag"),
    Route("PUT", NAMESPACE + "/tags/{tag_name}", update_tag, "modify_metadef_tag"),
    Route("DELETE", NAMESPACE + "/tags/{tag_name}", delete_tag, "delete_metadef_tag"),
    Route("GET", "/v2/metadefs/resource_types", list_resource_types, "list_metadef_resource_types"),
    Route("GET", NAMESPACE + "/resource_types", list_associations, "list_metadef_resource_types"),
    Route("POST", NAMESPACE + "/resource_types", create_association, "add_metadef_resource_type_association"),
    Route("DELETE", NAMESPACE + "/resource_types/{resource_type}", delete_association,
          "remove_metadef_resource_type_association"),
]

ADMIN = "rule:metadef_admin"
READER = "rule:context_is_admin or (role:reader and project_id:%(project_id)s)"
READER_OR_PUBLIC = "rule:context_is_admin or (role:reader and (project_id:%(project_id)s or 'public':%(visibility)s))"


def _rule(name: str, check: str, description: str, method: str, path: str) -> Rule:
    return Rule(name, check, description, [(method, path)], ["project"])


RULES = [
    Rule("metadef_default", "", "Glance's old default for metadef reads (kept so policy files can use it)."),
    Rule("metadef_admin", "rule:context_is_admin", "Who may change metadata definitions."),
    _rule("get_metadef_namespace", READER_OR_PUBLIC, "Get a specific namespace.", "GET", NAMESPACE),
    _rule("get_metadef_namespaces", READER, "List namespaces.", "GET", NAMESPACES),
    _rule("modify_metadef_namespace", ADMIN, "Modify an existing namespace.", "PUT", NAMESPACE),
    _rule("add_metadef_namespace", ADMIN, "Create a namespace.", "POST", NAMESPACES),
    _rule("delete_metadef_namespace", ADMIN, "Delete a namespace (or all its objects, properties or tags).",
          "DELETE", NAMESPACE),
    _rule("get_metadef_object", READER_OR_PUBLIC, "Get a specific object from a namespace.",
          "GET", NAMESPACE + "/objects/{object_name}"),
    _rule("get_metadef_objects", READER_OR_PUBLIC, "Get objects from a namespace.", "GET", NAMESPACE + "/objects"),
    _rule("modify_metadef_object", ADMIN, "Update an object within a namespace.",
          "PUT", NAMESPACE + "/objects/{object_name}"),
    _rule("add_metadef_object", ADMIN, "Create an object within a namespace.", "POST", NAMESPACE + "/objects"),
    _rule("delete_metadef_object", ADMIN, "Delete an object within a namespace.",
          "DELETE", NAMESPACE + "/objects/{object_name}"),
    _rule("list_metadef_resource_types", READER_OR_PUBLIC, "List meta definition resource types.",
          "GET", "/v2/metadefs/resource_types"),
    _rule("get_metadef_resource_type", READER_OR_PUBLIC, "Get meta definition resource types associations.",
          "GET", NAMESPACE + "/resource_types"),
    _rule("add_metadef_resource_type_association", ADMIN, "Create meta definition resource types association.",
          "POST", NAMESPACE + "/resource_types"),
    _rule("remove_metadef_resource_type_association", ADMIN, "Delete meta definition resource types association.",
          "DELETE", NAMESPACE + "/resource_types/{name}"),
    _rule("get_metadef_property", READER_OR_PUBLIC, "Get a specific meta definition property.",
          "GET", NAMESPACE + "/properties/{property_name}"),
    _rule("get_metadef_properties", READER_OR_PUBLIC, "List meta definition properties.",
          "GET", NAMESPACE + "/properties"),
    _rule("modify_metadef_property", ADMIN, "Update meta definition property.",
          "PUT", NAMESPACE + "/properties/{property_name}"),
    _rule("add_metadef_property", ADMIN, "Create meta definition property.", "POST", NAMESPACE + "/properties"),
    _rule("remove_metadef_property", ADMIN, "Delete meta definition property.",
          "DELETE", NAMESPACE + "/properties/{property_name}"),
    _rule("get_metadef_tag", READER_OR_PUBLIC, "Get tag definition.", "GET", NAMESPACE + "/tags/{tag_name}"),
    _rule("get_metadef_tags", READER_OR_PUBLIC, "List tag definitions.", "GET", NAMESPACE + "/tags"),
    _rule("modify_metadef_tag", ADMIN, "Update tag definition.", "PUT", NAMESPACE + "/tags/{tag_name}"),
    _rule("add_metadef_tag", ADMIN, "Add tag definition.", "POST", NAMESPACE + "/tags/{tag_name}"),
    _rule("add_metadef_tags", ADMIN, "Create tag definitions.", "POST", NAMESPACE + "/tags"),
    _rule("delete_metadef_tag", ADMIN, "Delete tag definition.", "DELETE", NAMESPACE + "/tags/{tag_name}"),
    _rule("delete_metadef_tags", ADMIN, "Delete tag definitions.", "DELETE", NAMESPACE + "/tags"),
]
