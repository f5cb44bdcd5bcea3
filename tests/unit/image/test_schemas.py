import copy
import json

import jsonschema
import pytest

from overcast.image import schemas
from overcast.image.metadefs import schemas as metadef_schemas

IMAGE_ID = "6645516a-8cbe-4a03-8732-fd00bc07634c"


def typical_image(**overrides) -> dict:
    """An image body as the API returns it after an upload (custom properties at top level)."""
    body = {
        "id": IMAGE_ID,
        "name": "cirros",
        "status": "active",
        "visibility": "private",
        "protected": False,
        "os_hidden": False,
        "checksum": "443b7623e27ecf03dc9e01ee93f67afe",
        "os_hash_algo": "sha512",
        "os_hash_value": "6513f21e44aa3da349f248188a44bc304a3653a04122d8fb4535423c8e1d14cd"
                         "6a153f735bb0982e2161b5b5186106570c17a9e58b64dd39390617cd5a350f78",
        "owner": "d1c9d4dc1d4b4b8e9b1e2b4f0bd6a0a1",
        "size": 1024,
        "virtual_size": 1024,
        "container_format": "bare",
        "disk_format": "raw",
        "created_at": "2026-11-22T02:30:03Z",
        "updated_at": "2026-11-22T02:30:04Z",
        "tags": ["a", "b"],
        "min_ram": 0,
        "min_disk": 0,
        "self": f"/v2/images/{IMAGE_ID}",
        "file": f"/v2/images/{IMAGE_ID}/file",
        "schema": "/v2/schemas/image",
        "ramdisk_id": "00000000-1111-2222-3333-444455556666",
        "hw_cpu_cores": "5",
        "owner_specified.openstack.md5": "",
        "os_glance_importing_to_stores": "",
    }
    body.update(overrides)
    return body


def queued_image() -> dict:
    return typical_image(status="queued", checksum=None, os_hash_algo=None, os_hash_value=None,
                         size=None, virtual_size=None, name=None, container_format=None,
                         disk_format=None, tags=[])


def errors(schema: dict, instance) -> list[str]:
    validator = jsonschema.validators.validator_for(schema)(schema)
    return [e.message for e in validator.iter_errors(instance)]


@pytest.mark.parametrize("path", sorted(schemas.SCHEMAS))
def test_every_document_is_valid_json_schema_and_json(path):
    doc = schemas.SCHEMAS[path]()
    json.loads(json.dumps(doc))  # plain JSON data (None -> null, no tuples or sets)
    jsonschema.Draft4Validator.check_schema(doc)
    jsonschema.Draft202012Validator.check_schema(doc)


def test_document_names_are_what_tempest_checks():
    expected = {
        "image": "image", "images": "images", "member": "member", "members": "members",
        "task": "task", "tasks": "tasks",
        "metadefs/namespace": "namespace", "metadefs/namespaces": "namespaces",
        "metadefs/resource_type": "resource_type_association",
        "metadefs/resource_types": "resource_type_associations",
        "metadefs/object": "object", "metadefs/objects": "objects",
        "metadefs/property": "property", "metadefs/properties": "properties",
        "metadefs/tag": "tag", "metadefs/tags": "tags",
    }
    assert {path: build()["name"] for path, build in schemas.SCHEMAS.items()} == expected


def test_builders_return_fresh_copies():
    first = schemas.image_schema()
    first["properties"]["name"]["maxLength"] = 1
    first["properties"]["disk_format"]["enum"].append("bogus")
    assert schemas.image_schema()["properties"]["name"]["maxLength"] == 255
    assert "bogus" not in schemas.image_schema()["properties"]["disk_format"]["enum"]


def test_image_schema_shape():
    doc = schemas.image_schema()
    assert doc["additionalProperties"] == {"type": "string"}
    assert doc["links"] == [{"rel": "self", "href": "{self}"},
                            {"rel": "enclosure", "href": "{file}"},
                            {"rel": "describedby", "href": "{schema}"}]
    props = doc["properties"]
    assert schemas.CORE <= set(props)
    assert props["disk_format"]["enum"] == [None, "ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw",
                                            "qcow2", "vdi", "iso", "ploop"]
    assert props["container_format"]["enum"] == [None, "ami", "ari", "aki", "bare", "ovf", "ova",
                                                 "docker", "compressed"]
    assert props["visibility"]["enum"] == ["community", "public", "private", "shared"]
    assert props["min_ram"]["type"] == "integer" and props["size"]["type"] == ["null", "integer"]
    # the readOnly flags are the patch-read-only names, except id (settable on create)
    read_only = {name for name, spec in props.items() if spec.get("readOnly")}
    assert read_only == schemas.READ_ONLY - {"id"}
    # common properties are flagged as non-base, base ones carry no flag
    assert {n for n, s in props.items() if s.get("is_base") is False} == set(props) - schemas.CORE
    assert all("is_base" not in props[n] for n in schemas.CORE)
    assert set(schemas.image_schema(common_properties=False)["properties"]) == schemas.CORE


def test_typical_bodies_validate():
    image_doc = schemas.image_schema()
    assert errors(image_doc, typical_image()) == []
    assert errors(image_doc, queued_image()) == []
    listing = {"images": [typical_image(), queued_image()], "first": "/v2/images?limit=2",
               "next": f"/v2/images?limit=2&marker={IMAGE_ID}", "schema": "/v2/schemas/images"}
    assert errors(schemas.images_schema(), listing) == []
    member = {"member_id": "a" * 32, "image_id": IMAGE_ID, "status": "pending",
              "created_at": "2026-11-22T02:30:03Z", "updated_at": "2026-11-22T02:30:03Z",
              "schema": "/v2/schemas/member"}
    assert errors(schemas.member_schema(), member) == []
    assert errors(schemas.members_schema(), {"members": [member], "schema": "/v2/schemas/members"}) == []


@pytest.mark.parametrize("change, fragment", [
    ({"hw_cpu_cores": 5}, "is not of type 'string'"),
    ({"disk_format": "floppy"}, "is not one of"),
    ({"container_format": "zip"}, "is not one of"),
    ({"visibility": "everyone"}, "is not one of"),
    ({"min_ram": "512"}, "is not of type 'integer'"),
    ({"protected": "true"}, "is not of type 'boolean'"),
    ({"name": "x" * 256}, "is too long"),
    ({"tags": ["t" * 256]}, "is too long"),
    ({"tags": "a,b"}, "is not of type 'array'"),
    ({"ramdisk_id": "not-a-uuid"}, "does not match"),
    ({"id": "1234"}, "does not match"),
])
def test_bad_values_are_rejected(change, fragment):
    found = errors(schemas.image_schema(), typical_image(**change))
    assert found and any(fragment in message for message in found), found


def test_partial_documents_validate_like_a_patch_does():
    # A PATCH value is validated as {path_root: value} against the image schema.
    doc = schemas.image_schema()
    assert errors(doc, {"name": "new"}) == []
    assert errors(doc, {"tags": ["x"]}) == []
    assert errors(doc, {"os_hidden": True}) == []
    assert errors(doc, {"foo": "bar"}) == []
    assert errors(doc, {"foo": ["bar"]})


def test_member_and_task_schemas():
    member = schemas.member_schema()
    assert "additionalProperties" not in member
    assert member["properties"]["status"]["enum"] == ["pending", "accepted", "rejected"]
    assert errors(member, {"member_id": "p", "image_id": IMAGE_ID, "status": "maybe"})
    members = schemas.members_schema()
    assert members["links"] == [{"rel": "describedby", "href": "{schema}"}]
    assert set(members["properties"]) == {"members", "schema"}
    tasks = schemas.tasks_schema()
    assert not {"input", "result", "message"} & set(tasks["properties"]["tasks"]["items"]["properties"])
    assert {"input", "result", "message"} <= set(schemas.task_schema()["properties"])


def test_metadef_documents_resolve_their_refs():
    namespace = {
        "namespace": "OS::Compute::Demo", "display_name": "Demo", "visibility": "public",
        "protected": False,
        "properties": {"hw_demo": {"title": "Demo", "type": "string", "enum": ["a", "b"]}},
        "objects": [{"name": "o", "required": ["x"],
                     "properties": {"x": {"title": "X", "type": "integer", "minimum": 0}}}],
        "resource_type_associations": [{"name": "OS::Glance::Image", "prefix": "hw_"}],
        "tags": [{"name": "t"}],
    }
    assert errors(metadef_schemas.metadef_namespace_schema(), namespace) == []
    assert errors(metadef_schemas.metadef_namespaces_schema(),
                  {"namespaces": [namespace], "first": "/v2/metadefs/namespaces",
                   "schema": "/v2/schemas/metadefs/namespaces"}) == []
    bad = copy.deepcopy(namespace)
    bad["properties"]["hw_demo"]["maxLength"] = -1
    assert errors(metadef_schemas.metadef_namespace_schema(), bad)
    assert errors(metadef_schemas.metadef_namespace_schema(), {"display_name": "no namespace"})
    prop = {"name": "p", "title": "P", "type": "string", "minLength": 1}
    assert errors(metadef_schemas.metadef_property_schema(), prop) == []
    assert errors(metadef_schemas.metadef_properties_schema(),
                  {"properties": {"p": {"title": "P", "type": "boolean"}}}) == []
    assert errors(metadef_schemas.metadef_object_schema(), {"name": "o", "required": ["a"]}) == []
    assert errors(metadef_schemas.metadef_object_schema(), {"name": "o", "bogus": 1})
    assert errors(metadef_schemas.metadef_tags_schema(), {"tags": [{"name": "a"}, {"name": "b"}]}) == []
    assert errors(metadef_schemas.metadef_resource_type_schema(), {"name": "OS::Nova::Server", "prefix": "hw:"}) == []


def test_name_rules():
    assert schemas.READ_ONLY <= schemas.CORE
    assert schemas.MUTABLE_CORE <= schemas.CORE
    assert not schemas.MUTABLE_CORE & schemas.READ_ONLY
    assert schemas.ALWAYS_PRESENT == schemas.CORE - {"locations", "direct_url", "stores"}
    assert len(schemas.ALWAYS_PRESENT) == 22
    assert "id" not in schemas.CREATE_FORBIDDEN and {"locations", "self", "status"} <= schemas.CREATE_FORBIDDEN
    assert schemas.is_reserved("os_glance_foo") and schemas.is_reserved("deleted_at")
    assert not schemas.is_reserved("os_distro") and not schemas.is_reserved("hw_cpu_cores")
    assert set(schemas.DISK_FORMATS) == {"ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi",
                                         "iso", "ploop"}
    assert set(schemas.CONTAINER_FORMATS) == {"bare", "ovf", "aki", "ari", "ami", "ova", "docker",
                                              "compressed"}
