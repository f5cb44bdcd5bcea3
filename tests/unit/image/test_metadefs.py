"""Metadefs (Glance's metadata definitions) on SQLite: visibility, conflicts, protection, paging."""

from __future__ import annotations

import uuid

import pytest

from overcast.common.api.context import RequestContext
from overcast.common.db import Base, Database
from overcast.image.metadefs import errors
from overcast.image.metadefs import models  # noqa: F401  (registers the tables)
from overcast.image.metadefs.service import SEEDED_RESOURCE_TYPES, Metadefs


@pytest.fixture
def metadefs(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'metadefs.db'}")
    Base.metadata.create_all(db.engine)
    yield Metadefs(db)
    db.close()


def ctx(project: str | None = None, admin: bool = False) -> RequestContext:
    roles = ["admin", "member", "reader"] if admin else ["member", "reader"]
    return RequestContext(user_id=uuid.uuid4().hex, project_id=project or uuid.uuid4().hex, roles=roles)


@pytest.fixture
def admin():
    return ctx(admin=True)


def name(prefix: str = "ns") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_create_namespace_defaults_owner_private_unprotected(metadefs, admin):
    row = metadefs.create_namespace(admin, {"namespace": "OS::Test::Defaults"})
    assert (row.owner, row.visibility, row.protected) == (admin.project_id, "private", False)
    assert (row.objects, row.properties, row.tags, row.associations) == ([], {}, [], [])


def test_create_namespace_with_contents_then_show_inlines_them(metadefs, admin):
    body = {
        "namespace": "OS::Compute::Quota", "visibility": "public", "protected": True,
        "resource_type_associations": [{"name": "OS::Nova::Flavor", "prefix": "quota:"}],
        "properties": {"cpu_shares": {"title": "CPU shares", "type": "integer", "minimum": 0}},
        "objects": [{"name": "CPU Limits", "required": ["cpu_period"],
                     "properties": {"cpu_period": {"title": "Period", "type": "integer"}}}],
        "tags": [{"name": "fast"}, {"name": "ssd"}],
    }
    metadefs.create_namespace(admin, body)
    row = metadefs.get_namespace(admin, "OS::Compute::Quota", contents=True)
    assert [a.name for a in row.associations] == ["OS::Nova::Flavor"]
    assert row.associations[0].prefix == "quota:"
    assert row.properties == {"cpu_shares": {"title": "CPU shares", "type": "integer", "minimum": 0}}
    assert row.objects[0].required == ["cpu_period"]
    assert row.objects[0].properties["cpu_period"]["type"] == "integer"
    assert sorted(t.name for t in row.tags) == ["fast", "ssd"]


def test_create_namespace_duplicate_conflicts(metadefs, admin):
    metadefs.create_namespace(admin, {"namespace": "dup"})
    with pytest.raises(errors.DuplicateNamespace):
        metadefs.create_namespace(admin, {"namespace": "dup"})


def test_create_namespace_with_bad_nested_object_leaves_nothing(metadefs, admin):
    body = {"namespace": "atomic", "objects": [{"name": "a"}, {"name": "a"}]}
    with pytest.raises(errors.DuplicateObject):
        metadefs.create_namespace(admin, body)
    with pytest.raises(errors.NamespaceNotFound):
        metadefs.get_namespace(admin, "atomic")


@pytest.mark.parametrize("body, error", [
    ({}, errors.MetadefInvalid),
    ({"namespace": "x", "visibility": "shared"}, errors.MetadefInvalid),
    ({"namespace": "x", "protected": "yes"}, errors.MetadefInvalid),
    ({"namespace": "x" * 81}, errors.MetadefInvalid),
    ({"namespace": "x", "colour": "red"}, errors.MetadefInvalid),
    ({"namespace": "x", "self": "/v2/x"}, errors.ReadOnlyAttribute),
    ({"namespace": "x", "properties": {"p": {"title": "P"}}}, errors.MetadefInvalid),
])
def test_create_namespace_invalid_body_rejected(metadefs, admin, body, error):
    with pytest.raises(error):
        metadefs.create_namespace(admin, body)


def test_private_namespace_hidden_from_other_projects(metadefs):
    owner, other = ctx(), ctx()
    metadefs.create_namespace(owner, {"namespace": "mine"})
    metadefs.create_namespace(owner, {"namespace": "shown", "visibility": "public"})
    assert metadefs.get_namespace(owner, "mine").namespace == "mine"
    with pytest.raises(errors.NamespaceNotFound):
        metadefs.get_namespace(other, "mine")
    with pytest.raises(errors.NamespaceNotFound):
        metadefs.create_tag(other, "mine", "sneaky")
    assert [r.namespace for r in metadefs.list_namespaces(other)] == ["shown"]
    assert {r.namespace for r in metadefs.list_namespaces(ctx(admin=True))} == {"mine", "shown"}


def test_update_namespace_renames_and_applies_glance_defaults(metadefs, admin):
    metadefs.create_namespace(admin, {"namespace": "old", "visibility": "public", "protected": True,
                                      "description": "d", "tags": [{"name": "t"}]})
    row = metadefs.update_namespace(admin, "old", {"namespace": "new"})
    assert (row.namespace, row.visibility, row.protected, row.description) == ("new", "private", False, None)
    assert [t.name for t in metadefs.list_tags(admin, "new")] == ["t"]  # contents follow the rename
    with pytest.raises(errors.NamespaceNotFound):
        metadefs.get_namespace(admin, "old")


def test_update_namespace_onto_existing_name_conflicts(metadefs, admin):
    metadefs.create_namespace(admin, {"namespace": "a"})
    metadefs.create_namespace(admin, {"namespace": "b"})
    with pytest.raises(errors.DuplicateNamespace):
        metadefs.update_namespace(admin, "a", {"namespace": "b"})


def test_protected_namespace_and_its_contents_cannot_be_deleted(metadefs, admin):
    metadefs.create_namespace(admin, {
        "namespace": "locked", "protected": True, "objects": [{"name": "o"}], "tags": [{"name": "t"}],
        "properties": {"p": {"title": "P", "type": "string"}},
        "resource_type_associations": [{"name": "OS::Glance::Image"}]})
    attempts = [
        lambda: metadefs.delete_namespace(admin, "locked"),
        lambda: metadefs.delete_object(admin, "locked", "o"),
        lambda: metadefs.delete_property(admin, "locked", "p"),
        lambda: metadefs.delete_tag(admin, "locked", "t"),
        lambda: metadefs.delete_association(admin, "locked", "OS::Glance::Image"),
        lambda: metadefs.delete_contents(admin, "locked", "tags"),
    ]
    for attempt in attempts:
        with pytest.raises(errors.Protected):
            attempt()
    metadefs.update_namespace(admin, "locked", {"namespace": "locked", "protected": False})
    metadefs.delete_namespace(admin, "locked")
    with pytest.raises(errors.NamespaceNotFound):
        metadefs.get_namespace(admin, "locked")


def test_delete_namespace_removes_contents(metadefs, admin):
    metadefs.create_namespace(admin, {"namespace": "gone", "objects": [{"name": "o"}], "tags": [{"name": "t"}],
                                      "resource_type_associations": [{"name": "OS::Glance::Image"}]})
    metadefs.delete_namespace(admin, "gone")
    metadefs.create_namespace(admin, {"namespace": "gone"})
    row = metadefs.get_namespace(admin, "gone", contents=True)
    assert (row.objects, row.tags, row.associations) == ([], [], [])


def test_list_namespaces_pages_with_marker(metadefs, admin):
    names = sorted(name() for _ in range(5))
    for each in names:
        metadefs.create_namespace(admin, {"namespace": each})
    first = metadefs.list_namespaces(admin, sort_key="namespace", sort_dir="asc", limit=2)
    second = metadefs.list_namespaces(admin, sort_key="namespace", sort_dir="asc", limit=2,
                                      marker=first[-1].namespace)
    rest = metadefs.list_namespaces(admin, sort_key="namespace", sort_dir="asc", marker=second[-1].namespace)
    assert [r.namespace for r in first + second + rest] == names
    backwards = metadefs.list_namespaces(admin, sort_key="namespace", sort_dir="desc")
    assert [r.namespace for r in backwards] == names[::-1]


def test_list_namespaces_pages_through_equal_sort_values(metadefs, admin):
    names = [name() for _ in range(4)]
    for each in names:
        metadefs.create_namespace(admin, {"namespace": each})  # display_name all NULL
    seen, marker = [], None
    while page := metadefs.list_namespaces(admin, sort_key="display_name", limit=1, marker=marker):
        seen.append(page[0].namespace)
        marker = page[0].namespace
    assert sorted(seen) == sorted(names)


def test_list_namespaces_filters(metadefs, admin):
    metadefs.create_namespace(admin, {"namespace": "img", "visibility": "public",
                                      "resource_type_associations": [{"name": "OS::Glance::Image"}]})
    metadefs.create_namespace(admin, {"namespace": "vol",
                                      "resource_type_associations": [{"name": "OS::Cinder::Volume"}]})
    assert [r.namespace for r in metadefs.list_namespaces(admin, resource_types=["OS::Glance::Image"])] == ["img"]
    both = metadefs.list_namespaces(admin, resource_types=["OS::Glance::Image", "OS::Cinder::Volume"])
    assert {r.namespace for r in both} == {"img", "vol"}
    assert [r.namespace for r in metadefs.list_namespaces(admin, visibility="private")] == ["vol"]
    assert [a.name for a in metadefs.list_namespaces(admin, visibility="public")[0].associations] == [
        "OS::Glance::Image"]


@pytest.mark.parametrize("kwargs", [{"visibility": "shared"}, {"sort_key": "colour"}, {"sort_dir": "up"}])
def test_list_namespaces_bad_arguments_rejected(metadefs, admin, kwargs):
    with pytest.raises(errors.MetadefInvalid):
        metadefs.list_namespaces(admin, **kwargs)


def test_list_namespaces_unknown_marker_not_found(metadefs, admin):
    with pytest.raises(errors.NamespaceNotFound):
        metadefs.list_namespaces(admin, marker="nope")


def test_object_crud_and_rename(metadefs, admin):
    metadefs.create_namespace(admin, {"namespace": "objs"})
    created = metadefs.create_object(admin, "objs", {"name": "o1", "description": "first"})
    assert (created.name, created.description, created.required, created.properties) == ("o1", "first", None, {})
    with pytest.raises(errors.DuplicateObject):
        metadefs.create_object(admin, "objs", {"name": "o1"})
    metadefs.create_object(admin, "objs", {"name": "o2"})
    with pytest.raises(errors.DuplicateObject):
        metadefs.update_object(admin, "objs", "o1", {"name": "o2"})
    updated = metadefs.update_object(admin, "objs", "o1", {"name": "renamed", "required": ["x"]})
    assert (updated.name, updated.description, updated.required) == ("renamed", None, ["x"])
    assert metadefs.get_object(admin, "objs", "renamed").required == ["x"]
    metadefs.delete_object(admin, "objs", "renamed")
    assert [o.name for o in metadefs.list_objects(admin, "objs")] == ["o2"]
    with pytest.raises(errors.ObjectNotFound):
        metadefs.get_object(admin, "objs", "renamed")


def test_property_crud_keeps_the_spec_as_json(metadefs, admin):
    metadefs.create_namespace(admin, {"namespace": "props"})
    enum = ["kvm", "qemu"]
    created = metadefs.create_property(admin, "props", {"name": "OS::Glance::Image", "title": "T",
                                                        "type": "string", "enum": enum})
    assert created == {"name": "OS::Glance::Image", "title": "T", "type": "string", "enum": enum}
    assert metadefs.get_property(admin, "props", "OS::Glance::Image") == created
    with pytest.raises(errors.DuplicateProperty):
        metadefs.create_property(admin, "props", {"name": "OS::Glance::Image", "title": "T", "type": "string"})
    updated = metadefs.update_property(admin, "props", "OS::Glance::Image",
                                       {"name": "OS::Glance::Image", "title": "U", "type": "string"})
    assert updated == {"name": "OS::Glance::Image", "title": "U", "type": "string"}
    assert metadefs.list_properties(admin, "props") == {"OS::Glance::Image": {"title": "U", "type": "string"}}
    metadefs.delete_property(admin, "props", "OS::Glance::Image")
    assert metadefs.list_properties(admin, "props") == {}
    with pytest.raises(errors.PropertyNotFound):
        metadefs.delete_property(admin, "props", "OS::Glance::Image")


@pytest.mark.parametrize("body", [
    {"title": "T", "type": "string"},  # no name
    {"name": "p", "type": "string"},  # no title
    {"name": "p", "title": "T", "type": "text"},
    {"name": "p", "title": "T", "type": "integer", "minimum": "0"},
    {"name": "p", "title": "T", "type": "string", "maxLength": -1},
    {"name": "p", "title": "T", "type": "string", "pattern": "("},
    {"name": "p", "title": "T", "type": "string", "confidential": True},
])
def test_create_property_invalid_rejected(metadefs, admin, body):
    metadefs.create_namespace(admin, {"namespace": "bad-props"})
    with pytest.raises(errors.MetadefInvalid):
        metadefs.create_property(admin, "bad-props", body)


def test_tags_bulk_replace_append_and_case_insensitive_duplicates(metadefs, admin):
    metadefs.create_namespace(admin, {"namespace": "tags"})
    metadefs.create_tag(admin, "tags", "old")
    created = metadefs.create_tags(admin, "tags", {"tags": [{"name": "a"}, {"name": "b"}]})
    assert [t.name for t in created] == ["a", "b"]
    assert sorted(t.name for t in metadefs.list_tags(admin, "tags")) == ["a", "b"]  # replaced "old"
    metadefs.create_tags(admin, "tags", {"tags": [{"name": "c"}]}, append=True)
    assert sorted(t.name for t in metadefs.list_tags(admin, "tags")) == ["a", "b", "c"]
    with pytest.raises(errors.DuplicateTag):
        metadefs.create_tag(admin, "tags", "A")
    with pytest.raises(errors.DuplicateTag):
        metadefs.create_tags(admin, "tags", {"tags": [{"name": "x"}, {"name": "X"}]})
    assert sorted(t.name for t in metadefs.list_tags(admin, "tags")) == ["a", "b", "c"]  # rolled back


def test_tag_update_show_delete(metadefs, admin):
    metadefs.create_namespace(admin, {"namespace": "tag-ops"})
    metadefs.create_tags(admin, "tag-ops", {"tags": [{"name": "one"}, {"name": "two"}]})
    assert metadefs.update_tag(admin, "tag-ops", "one", {"name": "ONE"}).name == "ONE"  # own case change is fine
    with pytest.raises(errors.DuplicateTag):
        metadefs.update_tag(admin, "tag-ops", "ONE", {"name": "Two"})
    assert metadefs.get_tag(admin, "tag-ops", "ONE").name == "ONE"
    metadefs.delete_tag(admin, "tag-ops", "ONE")
    with pytest.raises(errors.TagNotFound):
        metadefs.get_tag(admin, "tag-ops", "ONE")
    metadefs.delete_contents(admin, "tag-ops", "tags")
    assert metadefs.list_tags(admin, "tag-ops") == []


def test_list_tags_pages_by_name(metadefs, admin):
    metadefs.create_namespace(admin, {"namespace": "paged"})
    metadefs.create_tags(admin, "paged", {"tags": [{"name": n} for n in "dbeac"]})
    first = metadefs.list_tags(admin, "paged", sort_key="name", sort_dir="asc", limit=2)
    rest = metadefs.list_tags(admin, "paged", sort_key="name", sort_dir="asc", marker=first[-1].name)
    assert [t.name for t in first + rest] == list("abcde")


def test_resource_types_seeded_once(metadefs):
    names = [row.name for row in metadefs.list_resource_types()]
    assert names == list(SEEDED_RESOURCE_TYPES)
    assert [row.name for row in Metadefs(metadefs.db).list_resource_types()] == names  # a second service instance


def test_association_creates_unknown_resource_type(metadefs, admin):
    metadefs.create_namespace(admin, {"namespace": "assoc"})
    link = metadefs.create_association(admin, "assoc", {"name": "OS::Custom::Thing", "prefix": "c_"})
    assert (link.name, link.prefix, link.properties_target) == ("OS::Custom::Thing", "c_", None)
    assert "OS::Custom::Thing" in [row.name for row in metadefs.list_resource_types()]
    with pytest.raises(errors.DuplicateAssociation):
        metadefs.create_association(admin, "assoc", {"name": "OS::Custom::Thing"})
    metadefs.create_association(admin, "assoc", {"name": "OS::Glance::Image"})
    assert [a.name for a in metadefs.list_associations(admin, "assoc")] == ["OS::Custom::Thing", "OS::Glance::Image"]
    metadefs.delete_association(admin, "assoc", "OS::Custom::Thing")
    assert [a.name for a in metadefs.list_associations(admin, "assoc")] == ["OS::Glance::Image"]
    with pytest.raises(errors.AssociationNotFound):
        metadefs.delete_association(admin, "assoc", "OS::Custom::Thing")


def test_association_read_only_attribute_forbidden(metadefs, admin):
    metadefs.create_namespace(admin, {"namespace": "ro"})
    with pytest.raises(errors.ReadOnlyAttribute):
        metadefs.create_association(admin, "ro", {"name": "OS::Glance::Image", "created_at": "now"})
