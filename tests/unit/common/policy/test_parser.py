"""Tests for overcast.common.policy.parser: tokens, grammar, check kinds."""

import pytest

from overcast.common.policy import PolicyParseError, parse
from overcast.common.policy.checks import (
    AndCheck, FalseCheck, GenericCheck, HttpCheck, LiteralCheck, NotCheck,
    OrCheck, RoleCheck, RuleCheck, Substitution, TrueCheck,
)
from overcast.common.policy.parser import parse_match, tokenize


def test_tokenize_splits_parentheses_from_words():
    kinds = [kind for kind, _, _ in tokenize("(role:a and(b:c))")]
    assert kinds == ["(", "check", "and", "(", "check", ")", ")"]


def test_tokenize_keeps_substitution_parentheses_in_word():
    tokens = tokenize("(project_id:%(project_id)s)")
    assert [t[1] for t in tokens] == ["(", "project_id:%(project_id)s", ")"]


def test_tokenize_keeps_quoted_spaces_in_word():
    tokens = tokenize("name:'a (b) c' or x:y")
    assert [t[1] for t in tokens] == ["name:'a (b) c'", "or", "x:y"]


@pytest.mark.parametrize("text", ["", "   ", "@"])
def test_parse_always_pass_forms(text):
    assert isinstance(parse(text), TrueCheck)


def test_parse_bang_never_passes():
    assert isinstance(parse("!"), FalseCheck)


def test_parse_check_kinds():
    assert isinstance(parse("rule:admin_api"), RuleCheck)
    assert isinstance(parse("role:admin"), RoleCheck)
    assert isinstance(parse("project_id:%(project_id)s"), GenericCheck)
    assert isinstance(parse("'member':%(role.name)s"), LiteralCheck)
    assert isinstance(parse("True:%(enforce_new_defaults)s"), LiteralCheck)
    assert isinstance(parse("http://example.com/check"), HttpCheck)
    assert isinstance(parse("https://example.com/check"), HttpCheck)


def test_parse_role_keeps_rest_after_first_colon():
    assert parse("role:compute:admin").match == "compute:admin"


def test_parse_and_binds_tighter_than_or():
    check = parse("a:1 or b:2 and c:3")
    assert isinstance(check, OrCheck)
    assert str(check) == "(a:1 or (b:2 and c:3))"


def test_parse_not_binds_tighter_than_and():
    check = parse("not a:1 and b:2")
    assert isinstance(check, AndCheck)
    assert isinstance(check.checks[0], NotCheck)


def test_parse_parentheses_override_precedence():
    check = parse("(a:1 or b:2) and c:3")
    assert isinstance(check, AndCheck)
    assert str(check) == "((a:1 or b:2) and c:3)"


def test_parse_not_applies_to_parenthesised_group():
    check = parse("not (a:1 or b:2)")
    assert isinstance(check, NotCheck)
    assert isinstance(check.check, OrCheck)


def test_parse_keywords_are_case_insensitive():
    assert str(parse("NOT a:1 AND b:2 Or c:3")) == "((not a:1 and b:2) or c:3)"


def test_parse_flattens_same_operator_chains():
    check = parse("a:1 and (b:2 and c:3) and d:4")
    assert len(check.checks) == 4


def test_parse_str_round_trips():
    text = ("(role:reader and system_scope:all) or "
            "(role:reader and domain_id:%(target.user.domain_id)s)")
    check = parse(text)
    assert str(parse(str(check))) == str(check)


def test_parse_caches_trees():
    assert parse("role:a or role:b") is parse("role:a or role:b")


def test_parse_match_strips_quotes_from_literal():
    assert parse_match("'default'") == "default"
    assert parse_match('"two words"') == "two words"


def test_parse_match_builds_substitution_template():
    value = parse_match("pre-%(a.b)s-%%")
    assert isinstance(value, Substitution)
    assert value.resolve({"a": {"b": "x"}}) == "pre-x-%"


def test_parse_match_percent_escape_only_is_literal():
    assert parse_match("50%%") == "50%"


@pytest.mark.parametrize("text", [
    "a:1 and", "or a:1", "(a:1", "a:1)", "()", "not", "a:1 b:2",
    "noColon", ":x", "role:", "'x'", "'x'y:1", "a:'unterminated",
    "a:%(x", "a:%()s", "a:%(x)d", "and",
])
def test_parse_malformed_raises(text):
    with pytest.raises(PolicyParseError):
        parse(text)


def test_parse_error_mentions_check_string_and_position():
    with pytest.raises(PolicyParseError) as info:
        parse("role:a and and role:b")
    assert "role:a and and role:b" in str(info.value)
    assert info.value.position == 11


def test_parse_non_string_raises():
    with pytest.raises(PolicyParseError):
        parse([["role:admin"]])


def test_parse_deep_nesting_raises_parse_error():
    with pytest.raises(PolicyParseError):
        parse("(" * 5000 + "a:1" + ")" * 5000)
