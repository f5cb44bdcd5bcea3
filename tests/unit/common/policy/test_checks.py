"""Tests for overcast.common.policy.checks: evaluating each check kind."""

import pytest

from overcast.common.policy import parse


def allowed(check_str, target=None, creds=None, rules=None):
    """Parse and evaluate one check string."""
    return parse(check_str).evaluate(target or {}, creds or {}, rules or {})


PROJECT_MEMBER = {
    "user_id": "u1", "user_domain_id": "default", "project_id": "p1",
    "project_domain_id": "default", "domain_id": None, "system_scope": None,
    "roles": ["member", "reader"], "is_admin": False,
}


def test_true_and_false_checks():
    assert allowed("@") is True
    assert allowed("") is True
    assert allowed("!") is False


def test_role_check_matches_held_role():
    assert allowed("role:member", creds=PROJECT_MEMBER)
    assert not allowed("role:admin", creds=PROJECT_MEMBER)


def test_role_check_is_case_insensitive():
    assert allowed("role:Member", creds=PROJECT_MEMBER)
    assert allowed("role:reader", creds={"roles": ["READER"]})


def test_role_check_without_roles_fails():
    assert not allowed("role:member", creds={})
    assert not allowed("role:member", creds={"roles": None})


def test_role_check_substitutes_from_target():
    assert allowed("role:%(want)s", {"want": "MEMBER"}, PROJECT_MEMBER)
    assert not allowed("role:%(want)s", {}, PROJECT_MEMBER)


def test_rule_check_evaluates_named_rule():
    rules = {"member": parse("role:member")}
    assert allowed("rule:member", creds=PROJECT_MEMBER, rules=rules)
    assert not allowed("rule:member", creds={"roles": []}, rules=rules)


def test_rule_check_unknown_name_fails():
    assert not allowed("rule:nope", creds=PROJECT_MEMBER)
    assert allowed("not rule:nope", creds=PROJECT_MEMBER)


def test_generic_check_literal_values():
    creds = dict(PROJECT_MEMBER, system_scope="all", is_admin=True)
    assert allowed("system_scope:all", creds=creds)
    assert allowed("is_admin:True", creds=creds)
    assert not allowed("is_admin:True", creds=PROJECT_MEMBER)
    assert allowed("is_admin:False", creds=PROJECT_MEMBER)
    assert allowed("domain_id:None", creds=PROJECT_MEMBER)
    assert allowed("user_domain_id:'default'", creds=PROJECT_MEMBER)


def test_generic_check_missing_creds_key_fails():
    assert not allowed("system_scope:all", creds={})


def test_generic_check_list_in_creds_matches_any_element():
    assert allowed("roles:reader", creds=PROJECT_MEMBER)
    assert allowed("groups.id:g2", creds={"groups": [{"id": "g1"}, {"id": "g2"}]})


def test_generic_check_dotted_creds_path():
    creds = {"token": {"user": {"domain": {"id": "d1"}}}}
    assert allowed("token.user.domain.id:d1", creds=creds)
    assert not allowed("token.user.domain.id:d2", creds=creds)
    assert not allowed("token.user.nope.id:d1", creds=creds)
    assert not allowed("token.user.domain.id.x:d1", creds=creds)


def test_generic_check_flat_dotted_creds_key():
    assert allowed("a.b:1", creds={"a.b": 1})


def test_substitution_from_flat_target_key():
    target = {"target.user.domain_id": "d1"}
    assert allowed("domain_id:%(target.user.domain_id)s", target, {"domain_id": "d1"})


def test_substitution_from_nested_target():
    target = {"target": {"user": {"domain_id": "d1"}}}
    assert allowed("domain_id:%(target.user.domain_id)s", target, {"domain_id": "d1"})
    assert not allowed("domain_id:%(target.user.domain_id)s", target, {"domain_id": "d2"})


def test_substitution_flat_key_wins_over_nested():
    target = {"a.b": "flat", "a": {"b": "nested"}}
    assert allowed("x:%(a.b)s", target, {"x": "flat"})


def test_substitution_plain_key():
    assert allowed("project_id:%(project_id)s", {"project_id": "p1"}, PROJECT_MEMBER)
    assert not allowed("project_id:%(project_id)s", {"project_id": "p2"}, PROJECT_MEMBER)


@pytest.mark.parametrize("target", [
    {}, {"target": {}}, {"target": {"user": "not-a-dict"}},
    {"target": {"user": {"domain_id": None}}},
])
def test_substitution_missing_or_none_target_value_fails(target):
    creds = {"domain_id": None}
    assert not allowed("domain_id:%(target.user.domain_id)s", target, creds)


def test_substitution_compares_as_strings():
    assert allowed("count:%(n)s", {"n": 3}, {"count": "3"})
    assert allowed("enabled:%(flag)s", {"flag": True}, {"enabled": True})


def test_substitution_template_with_literal_parts():
    assert allowed("name:user-%(id)s", {"id": 7}, {"name": "user-7"})
    assert not allowed("name:user-%(id)s", {}, {"name": "user-"})


def test_literal_check_quoted_string_against_target():
    assert allowed("'member':%(role.name)s", {"role.name": "member"})
    assert allowed("'member':%(role.name)s", {"role": {"name": "member"}})
    assert not allowed("'member':%(role.name)s", {"role": {"name": "admin"}})
    assert not allowed("'member':%(role.name)s", {})


def test_literal_check_booleans_against_target():
    assert allowed("True:%(enforce_new_defaults)s", {"enforce_new_defaults": True})
    assert not allowed("True:%(enforce_new_defaults)s", {"enforce_new_defaults": False})
    assert allowed("'False':%(target.c.read)s", {"target.c.read": False})


def test_http_checks_fail_without_calling_out():
    assert not allowed("http://127.0.0.1:1/check")
    assert allowed("not https://127.0.0.1:1/check")


def test_not_and_or_evaluation():
    creds = PROJECT_MEMBER
    assert allowed("role:member and role:reader", creds=creds)
    assert not allowed("role:member and role:admin", creds=creds)
    assert allowed("role:admin or role:member", creds=creds)
    assert allowed("not role:admin", creds=creds)
    assert not allowed("not (role:admin or role:member)", creds=creds)


def test_evaluate_returns_bool():
    assert parse("roles:member").evaluate({}, PROJECT_MEMBER, {}) is True
    assert parse("!").evaluate({}, {}, {}) is False


def test_keystone_reader_rule():
    rule = ("(role:reader and system_scope:all) or "
            "(role:reader and domain_id:%(target.user.domain_id)s)")
    target = {"target": {"user": {"domain_id": "d1"}}}
    system_reader = {"roles": ["reader"], "system_scope": "all"}
    domain_reader = {"roles": ["reader"], "domain_id": "d1", "system_scope": None}
    other_domain = {"roles": ["reader"], "domain_id": "d2", "system_scope": None}
    domain_member_no_reader = {"roles": ["member"], "domain_id": "d1"}
    assert allowed(rule, target, system_reader)
    assert allowed(rule, target, domain_reader)
    assert not allowed(rule, target, other_domain)
    assert not allowed(rule, target, domain_member_no_reader)
    assert not allowed(rule, {}, domain_reader)


def test_nova_owner_rule():
    rules = {"system_admin_api": parse("role:admin and system_scope:all")}
    rule = "rule:system_admin_api or (role:member and project_id:%(project_id)s)"
    system_admin = {"roles": ["admin"], "system_scope": "all", "project_id": None}
    assert allowed(rule, {"project_id": "p1"}, PROJECT_MEMBER, rules)
    assert not allowed(rule, {"project_id": "p2"}, PROJECT_MEMBER, rules)
    assert allowed(rule, {"project_id": "p2"}, system_admin, rules)
    assert not allowed(rule, {"project_id": None}, {"roles": ["member"],
                                                    "project_id": None}, rules)
