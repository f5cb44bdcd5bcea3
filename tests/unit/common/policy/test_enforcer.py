"""Tests for overcast.common.policy.enforcer: defaults, overrides, reloads."""

import json
import os

import pytest
import yaml

from overcast.common.policy import (
    Enforcer, PolicyError, PolicyFileError, PolicyNotRegistered, Rule,
)

DEFAULTS = [
    Rule("admin_required", "role:admin"),
    Rule("system_admin_api", "role:admin and system_scope:all",
         description="Admin on the system scope."),
    Rule("identity:get_user",
         "(role:reader and system_scope:all) or "
         "(role:reader and domain_id:%(target.user.domain_id)s)",
         description="Show user details.",
         operations=[("GET", "/v3/users/{user_id}"), ("HEAD", "/v3/users/{user_id}")],
         scope_types=["system", "domain"]),
    Rule("os_compute_api:servers:show",
         "rule:system_admin_api or (role:member and project_id:%(project_id)s)",
         description="Show a server.\nSecond line.",
         operations=[{"method": "GET", "path": "/servers/{server_id}"}]),
]

MEMBER = {"user_id": "u1", "project_id": "p1", "roles": ["member", "reader"],
          "system_scope": None, "domain_id": None, "is_admin": False}
SYSTEM_ADMIN = {"user_id": "u2", "project_id": None, "roles": ["admin", "reader"],
                "system_scope": "all", "domain_id": None, "is_admin": True}


def write(path, data):
    """Write a policy file and give it a new mtime so reloads notice."""
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))


def test_authorize_defaults_without_file():
    enforcer = Enforcer(DEFAULTS)
    assert enforcer.authorize("os_compute_api:servers:show", {"project_id": "p1"}, MEMBER)
    assert not enforcer.authorize("os_compute_api:servers:show", {"project_id": "p2"}, MEMBER)
    assert enforcer.authorize("os_compute_api:servers:show", {"project_id": "p2"}, SYSTEM_ADMIN)


def test_authorize_keystone_rule_with_domain_target():
    enforcer = Enforcer(DEFAULTS)
    target = {"target": {"user": {"domain_id": "d1"}}}
    domain_reader = {"roles": ["reader"], "domain_id": "d1", "system_scope": None}
    assert enforcer.authorize("identity:get_user", target, domain_reader)
    assert enforcer.authorize("identity:get_user", target, SYSTEM_ADMIN)
    assert not enforcer.authorize("identity:get_user", target, MEMBER)


def test_authorize_missing_file_uses_defaults(tmp_path):
    enforcer = Enforcer(DEFAULTS, tmp_path / "policy.yaml")
    assert enforcer.authorize("admin_required", {}, SYSTEM_ADMIN)
    assert not enforcer.authorize("admin_required", {}, MEMBER)


def test_authorize_unregistered_rule_raises():
    enforcer = Enforcer(DEFAULTS)
    with pytest.raises(PolicyNotRegistered) as info:
        enforcer.authorize("identity:nope", {}, MEMBER)
    assert isinstance(info.value, KeyError)
    assert "identity:nope" in str(info.value)


def test_authorize_file_only_rule_is_not_registered(tmp_path):
    path = tmp_path / "policy.yaml"
    write(path, {"extra": "@"})
    with pytest.raises(PolicyNotRegistered):
        Enforcer(DEFAULTS, path).authorize("extra", {}, MEMBER)


def test_authorize_none_target_is_empty():
    enforcer = Enforcer(DEFAULTS)
    assert not enforcer.authorize("os_compute_api:servers:show", None, MEMBER)


def test_yaml_override_replaces_default_and_adds_rule(tmp_path):
    path = tmp_path / "policy.yaml"
    write(path, {"owner": "project_id:%(project_id)s",
                 "os_compute_api:servers:show": "rule:owner or role:auditor"})
    enforcer = Enforcer(DEFAULTS, path)
    auditor = {"roles": ["auditor"], "project_id": "p9"}
    assert enforcer.authorize("os_compute_api:servers:show", {"project_id": "p2"}, auditor)
    assert enforcer.authorize("os_compute_api:servers:show",
                              {"project_id": "p1"}, {"project_id": "p1", "roles": []})
    assert not enforcer.authorize("os_compute_api:servers:show", {"project_id": "p2"}, MEMBER)


def test_json_override_file(tmp_path):
    path = tmp_path / "policy.json"
    write(path, json.dumps({"admin_required": "role:member"}))
    assert Enforcer(DEFAULTS, path).authorize("admin_required", {}, MEMBER)


def test_override_referenced_by_default_rule(tmp_path):
    path = tmp_path / "policy.yaml"
    write(path, {"system_admin_api": "role:operator"})
    enforcer = Enforcer(DEFAULTS, path)
    assert enforcer.authorize("os_compute_api:servers:show", {"project_id": "x"},
                              {"roles": ["operator"]})


def test_empty_override_file_uses_defaults(tmp_path):
    path = tmp_path / "policy.yaml"
    write(path, "# nothing here\n")
    assert Enforcer(DEFAULTS, path).authorize("admin_required", {}, SYSTEM_ADMIN)


@pytest.mark.parametrize("content, rule, words", [
    ("a: [unclosed\n", None, "not valid YAML"),
    ("- role:admin\n", None, "mapping"),
    ('"admin_required": "role:admin and"\n', "admin_required", "unexpected end"),
    ('"admin_required": 3\n', "admin_required", "must be a string"),
    ('"admin_required": [["role:admin"]]\n', "admin_required", "list-of-lists"),
    ('1: "@"\n', "1", "rule names"),
])
def test_malformed_file_names_file_and_rule(tmp_path, content, rule, words):
    path = tmp_path / "policy.yaml"
    write(path, content)
    with pytest.raises(PolicyFileError) as info:
        Enforcer(DEFAULTS, path)
    message = str(info.value)
    assert str(path) in message and words in message
    if rule is not None:
        assert repr(rule) in message and info.value.rule in (rule, repr(1))


def test_malformed_json_file(tmp_path):
    path = tmp_path / "policy.json"
    write(path, '{"admin_required": ')
    with pytest.raises(PolicyFileError, match="not valid JSON"):
        Enforcer(DEFAULTS, path)


def test_reference_cycle_in_file_rejected(tmp_path):
    path = tmp_path / "policy.yaml"
    write(path, {"a": "rule:b", "b": "role:x or rule:a",
                 "admin_required": "rule:a"})
    with pytest.raises(PolicyFileError, match="cycle") as info:
        Enforcer(DEFAULTS, path)
    assert str(path) in str(info.value)


def test_self_reference_in_file_rejected(tmp_path):
    path = tmp_path / "policy.yaml"
    write(path, {"admin_required": "role:admin or rule:admin_required"})
    with pytest.raises(PolicyFileError, match="admin_required -> admin_required"):
        Enforcer(DEFAULTS, path)


def test_reference_cycle_in_defaults_rejected():
    with pytest.raises(PolicyError, match="cycle"):
        Enforcer([Rule("a", "rule:b"), Rule("b", "not rule:a")])


def test_unknown_reference_is_not_a_cycle():
    enforcer = Enforcer([Rule("a", "rule:missing or role:x")])
    assert enforcer.authorize("a", {}, {"roles": ["x"]})
    assert not enforcer.authorize("a", {}, {"roles": ["y"]})


def test_bad_default_check_string_names_rule():
    with pytest.raises(PolicyError, match="'broken'"):
        Enforcer([Rule("broken", "role:a or")])


def test_duplicate_default_rejected():
    with pytest.raises(PolicyError, match="twice"):
        Enforcer([Rule("a", "@"), Rule("a", "!")])


def test_reload_when_file_changes(tmp_path):
    path = tmp_path / "policy.yaml"
    enforcer = Enforcer(DEFAULTS, path, check_interval=0)
    assert not enforcer.authorize("admin_required", {}, MEMBER)
    write(path, {"admin_required": "role:member"})
    assert enforcer.authorize("admin_required", {}, MEMBER)
    path.unlink()
    assert not enforcer.authorize("admin_required", {}, MEMBER)


def test_reload_checked_at_most_once_per_interval(tmp_path):
    path = tmp_path / "policy.yaml"
    enforcer = Enforcer(DEFAULTS, path, check_interval=3600)
    write(path, {"admin_required": "role:member"})
    assert not enforcer.authorize("admin_required", {}, MEMBER)
    enforcer.reload()
    assert enforcer.authorize("admin_required", {}, MEMBER)


def test_broken_reload_fails_closed_until_fixed(tmp_path):
    path = tmp_path / "policy.yaml"
    write(path, {"admin_required": "role:member"})
    enforcer = Enforcer(DEFAULTS, path, check_interval=0)
    write(path, '"admin_required": "role:member and"\n')
    for _ in range(2):
        with pytest.raises(PolicyFileError, match="admin_required"):
            enforcer.authorize("admin_required", {}, MEMBER)
    write(path, {"admin_required": "role:member or role:x"})
    assert enforcer.authorize("admin_required", {}, MEMBER)


def test_rules_as_yaml_lists_defaults_with_comments():
    text = Enforcer(DEFAULTS).rules_as_yaml()
    assert yaml.safe_load(text) == {r.name: r.check_str for r in DEFAULTS}
    assert "# Show user details.\n# GET  /v3/users/{user_id}\n# HEAD  /v3/users/{user_id}\n" in text
    assert "# Intended scope(s): system, domain\n" in text
    assert "# Show a server.\n# Second line.\n# GET  /servers/{server_id}\n" in text
    assert "# (no description)\n" in text


def test_rules_as_yaml_commented_is_a_no_op_file():
    text = Enforcer(DEFAULTS).rules_as_yaml(commented=True)
    assert yaml.safe_load(text) is None
    assert '#"admin_required": "role:admin"' in text


def test_rule_normalises_operations_and_scope_types():
    rule = Rule("r", "@", operations=[["GET", "/x"]], scope_types=["project"])
    assert rule.operations == (("GET", "/x"),)
    assert rule.scope_types == ("project",)
