import pytest

from overcast.common.api.validation import body_object, check
from overcast.common.errors import BadRequest


def test_types_lengths_and_required():
    fields = {"name": ("string", 1, 4), "enabled": "boolean", "parent": "string|null", "count": "integer"}
    assert check({"name": "ab", "enabled": True, "parent": None, "count": 3}, fields, ("name",))
    for bad in ({"enabled": True}, {"name": ""}, {"name": "abcde"}, {"name": "a", "enabled": "yes"},
                {"name": "a", "count": True}, {"name": "a", "parent": 1}):
        with pytest.raises(BadRequest):
            check(bad, fields, ("name",))


def test_message_names_the_field():
    with pytest.raises(BadRequest, match="Invalid input for field 'enabled'"):
        check({"enabled": 1}, {"enabled": "boolean"})
    with pytest.raises(BadRequest, match="'project' is a required property"):
        body_object({"user": {}}, "project")
