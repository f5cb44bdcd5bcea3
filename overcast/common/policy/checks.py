"""Check objects: the parsed form of an oslo.policy check string.

A check string such as ``role:member and project_id:%(project_id)s`` parses
(see :mod:`overcast.common.policy.parser`) into a small immutable tree of the
classes below. Every node answers ``evaluate(target, creds, rules) -> bool``:

- ``target`` is what the operation acts on (``{"project_id": ...}`` or
  keystone's ``{"target": {"user": {...}}}``), the source of ``%(...)s``
  substitutions;
- ``creds`` describes the caller (``user_id``, ``project_id``, ``roles``,
  ``system_scope``, ``is_admin``, ...);
- ``rules`` maps rule names to parsed checks, for ``rule:NAME``.

Comparison follows oslo.policy's ``GenericCheck``: both sides are compared
as strings, so ``is_admin:True`` matches ``creds["is_admin"] is True``, and a
list on the creds side matches when any element does. Evaluation never
raises for missing data; it answers False (fail closed).

One deliberate difference: a ``%(...)s`` substitution whose target value is
missing *or None* fails the check. oslo.policy renders None as ``"None"``,
which lets an unscoped token (``project_id`` None) match a target whose
``project_id`` is None.
"""

import re
from collections.abc import Mapping

_MISSING = object()
_SEQUENCES = (list, tuple, set, frozenset)


class TargetPath:
    """A ``%(a.b.c)s`` reference into the target.

    Looked up first as the flat key ``"a.b.c"`` (keystone flattens its
    targets that way), then by walking nested mappings ``a -> b -> c``.
    """

    __slots__ = ("key", "segments")

    def __init__(self, key: str):
        self.key = key
        self.segments = tuple(key.split(".")) if "." in key else None

    def resolve(self, target: Mapping) -> str | None:
        """Return the target value as a string, or None if missing or None."""
        value = target.get(self.key, _MISSING)
        if value is _MISSING:
            if self.segments is None:
                return None
            value = target
            for segment in self.segments:
                if not isinstance(value, Mapping):
                    return None
                value = value.get(segment, _MISSING)
                if value is _MISSING:
                    return None
        if value is None:
            return None
        return value if value.__class__ is str else str(value)

    def __str__(self) -> str:
        return "%%(%s)s" % self.key


class Substitution:
    """A match value built from the target: ``%(project_id)s`` or a template.

    ``parts`` holds literal strings and :class:`TargetPath` objects; the
    common case of a single path is resolved without building a string.
    """

    __slots__ = ("parts", "single")

    def __init__(self, parts: tuple):
        self.parts = parts
        only = parts[0] if len(parts) == 1 else None
        self.single = only if isinstance(only, TargetPath) else None

    def resolve(self, target: Mapping) -> str | None:
        """Return the rendered value, or None if any reference is missing."""
        if self.single is not None:
            return self.single.resolve(target)
        pieces = []
        for part in self.parts:
            if isinstance(part, TargetPath):
                part = part.resolve(target)
                if part is None:
                    return None
            pieces.append(part)
        return "".join(pieces)

    def __str__(self) -> str:
        return "".join(str(p).replace("%", "%%") if isinstance(p, str)
                       else str(p) for p in self.parts)


def _resolve_match(match, target: Mapping) -> str | None:
    """Return ``match`` as a string: a literal as-is, a substitution rendered."""
    if match.__class__ is str:
        return match
    return match.resolve(target)


def _format_match(match) -> str:
    """Render a match value back into check-string syntax."""
    if match.__class__ is not str:
        return str(match)
    if match and not any(c.isspace() or c in "()'\"%" for c in match):
        return match
    return "'%s'" % match if "'" not in match else '"%s"' % match


def _value_matches(value, expected: str) -> bool:
    """Compare a creds value with the expected string, oslo-style."""
    if value.__class__ is str:
        return value == expected
    if isinstance(value, _SEQUENCES):
        return any(str(item) == expected for item in value)
    return str(value) == expected


def _nested_matches(value, segments: tuple, expected: str) -> bool:
    """Walk ``segments`` through mappings; lists fan out (any element)."""
    for index, segment in enumerate(segments):
        if isinstance(value, _SEQUENCES):
            rest = segments[index:]
            return any(_nested_matches(item, rest, expected) for item in value)
        if not isinstance(value, Mapping):
            return False
        value = value.get(segment, _MISSING)
        if value is _MISSING:
            return False
    return _value_matches(value, expected)


class Check:
    """Base class of all check nodes."""

    __slots__ = ()

    def evaluate(self, target: Mapping, creds: Mapping, rules: Mapping) -> bool:
        """Return True if the caller passes this check."""
        raise NotImplementedError

    def rule_refs(self):
        """Yield the names of rules this check refers to via ``rule:``."""
        return iter(())

    def __repr__(self) -> str:
        return "<%s %s>" % (type(self).__name__, self)


class TrueCheck(Check):
    """``@`` or an empty check string: always passes."""

    __slots__ = ()

    def evaluate(self, target, creds, rules):
        return True

    def __str__(self):
        return "@"


class FalseCheck(Check):
    """``!``: never passes."""

    __slots__ = ()

    def evaluate(self, target, creds, rules):
        return False

    def __str__(self):
        return "!"


class NotCheck(Check):
    """``not X``: passes when X fails."""

    __slots__ = ("check",)

    def __init__(self, check: Check):
        self.check = check

    def evaluate(self, target, creds, rules):
        return not self.check.evaluate(target, creds, rules)

    def rule_refs(self):
        return self.check.rule_refs()

    def __str__(self):
        return "not %s" % self.check


class AndCheck(Check):
    """``A and B and ...``: passes when every child passes (short-circuit)."""

    __slots__ = ("checks",)

    def __init__(self, checks):
        self.checks = tuple(checks)

    def evaluate(self, target, creds, rules):
        for check in self.checks:
            if not check.evaluate(target, creds, rules):
                return False
        return True

    def rule_refs(self):
        for check in self.checks:
            yield from check.rule_refs()

    def __str__(self):
        return "(%s)" % " and ".join(str(c) for c in self.checks)


class OrCheck(Check):
    """``A or B or ...``: passes when any child passes (short-circuit)."""

    __slots__ = ("checks",)

    def __init__(self, checks):
        self.checks = tuple(checks)

    def evaluate(self, target, creds, rules):
        for check in self.checks:
            if check.evaluate(target, creds, rules):
                return True
        return False

    def rule_refs(self):
        for check in self.checks:
            yield from check.rule_refs()

    def __str__(self):
        return "(%s)" % " or ".join(str(c) for c in self.checks)


class RuleCheck(Check):
    """``rule:NAME``: evaluates another rule; an unknown name fails."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def evaluate(self, target, creds, rules):
        check = rules.get(self.name)
        if check is None:
            return False
        return check.evaluate(target, creds, rules)

    def rule_refs(self):
        yield self.name

    def __str__(self):
        return "rule:%s" % self.name


class RoleCheck(Check):
    """``role:NAME``: the caller holds role NAME (case-insensitive).

    NAME may be a substitution (``role:%(required_role)s``), as in oslo.
    """

    __slots__ = ("match",)

    def __init__(self, match):
        self.match = match.lower() if match.__class__ is str else match

    def evaluate(self, target, creds, rules):
        roles = creds.get("roles")
        if not roles:
            return False
        name = self.match
        if name.__class__ is not str:
            name = name.resolve(target)
            if name is None:
                return False
            name = name.lower()
        if name in roles:
            return True
        return any(role.lower() == name for role in roles)

    def __str__(self):
        return "role:%s" % _format_match(self.match)


class GenericCheck(Check):
    """``key:value``: a creds attribute equals a literal or a target value.

    ``key`` is a creds key or dotted path (``token.user.domain.id``), tried
    as a flat key first. Lists on the way fan out: any element may match.
    """

    __slots__ = ("key", "segments", "match")

    def __init__(self, key: str, match):
        self.key = key
        self.segments = tuple(key.split(".")) if "." in key else None
        self.match = match

    def evaluate(self, target, creds, rules):
        expected = self.match
        if expected.__class__ is not str:
            expected = expected.resolve(target)
            if expected is None:
                return False
        value = creds.get(self.key, _MISSING)
        if value is _MISSING:
            if self.segments is None:
                return False
            return _nested_matches(creds, self.segments, expected)
        return _value_matches(value, expected)

    def __str__(self):
        return "%s:%s" % (self.key, _format_match(self.match))


class LiteralCheck(Check):
    """``'member':%(role.name)s`` or ``True:%(flag)s``: a literal on the left.

    The left side is a Python literal (quoted string, True, False, None, a
    number); the check passes when its string form equals the right side,
    usually a substitution from the target.
    """

    __slots__ = ("literal", "text", "match")

    def __init__(self, literal, text: str, match):
        self.literal = literal
        self.text = text
        self.match = match

    def evaluate(self, target, creds, rules):
        return _resolve_match(self.match, target) == self.literal

    def __str__(self):
        return "%s:%s" % (self.text, _format_match(self.match))


class FieldCheck(Check):
    """``field:networks:shared=True`` (Neutron's): the target's FIELD has VALUE.

    Both sides compare as strings, so a boolean True matches ``True``; a VALUE of
    ``~REGEX`` matches by regular expression (``field:port:device_owner=~^network:``).
    """

    __slots__ = ("resource", "field", "value")

    def __init__(self, resource: str, field: str, value: str):
        self.resource = resource
        self.field = field
        self.value = value

    def evaluate(self, target, creds, rules):
        value = target.get(self.field, _MISSING)
        if value is _MISSING:
            return False
        if self.value.startswith("~"):
            return re.match(self.value[1:], str(value)) is not None
        return str(value) == self.value

    def __str__(self):
        return "field:%s:%s=%s" % (self.resource, self.field, self.value)


class HttpCheck(Check):
    """``http:...`` / ``https:...``: remote checks are not called; fails."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text

    def evaluate(self, target, creds, rules):
        return False

    def __str__(self):
        return self.text
