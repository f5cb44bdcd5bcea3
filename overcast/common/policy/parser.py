"""Parse oslo.policy check strings into check trees.

Grammar (keywords are case-insensitive)::

    expr     := and_expr ("or" and_expr)*
    and_expr := not_expr ("and" not_expr)*
    not_expr := "not" not_expr | atom
    atom     := "(" expr ")" | check
    check    := "@" | "!" | kind ":" match

so ``not`` binds tighter than ``and``, which binds tighter than ``or``.
An empty (or all-blank) check string always passes.

``kind`` picks the check: ``rule``, ``role``, ``http``/``https``, a Python
literal (``'member'``, ``True``, ``False``, ``None``, a number) for the
inverted form, or else a creds key/dotted path. ``match`` is a quoted
string, a bare word, or text with ``%(target.path)s`` substitutions.

Unlike oslo.policy, which logs a malformed rule and turns it into ``!``,
:func:`parse` raises :class:`PolicyParseError`, so mistakes surface when a
policy file is loaded rather than as mysterious 403s. Quoted strings may
contain spaces and parentheses; quotes around a right-hand literal are
removed (``domain_id:'default'`` compares with ``default``).
"""

import ast
import functools

from overcast.common.policy.checks import (
    AndCheck, Check, FalseCheck, FieldCheck, GenericCheck, HttpCheck, LiteralCheck,
    NotCheck, OrCheck, RoleCheck, RuleCheck, Substitution, TargetPath,
    TrueCheck,
)

_KEYWORDS = frozenset(("and", "or", "not"))
_QUOTES = "'\""
_NO_LITERAL = object()


class PolicyError(Exception):
    """Base class of policy engine errors."""


class PolicyParseError(PolicyError, ValueError):
    """A check string is not valid oslo.policy syntax."""

    def __init__(self, reason: str, check_str: str, position: int | None = None):
        self.reason = reason
        self.check_str = check_str
        self.position = position
        where = "" if position is None else " at position %d" % position
        super().__init__("%s%s in check string %r" % (reason, where, check_str))


def tokenize(text: str) -> list[tuple[str, str, int]]:
    """Split a check string into ``(kind, text, position)`` tokens.

    ``kind`` is ``"("``, ``")"``, ``"and"``, ``"or"``, ``"not"`` or
    ``"check"``. Parentheses inside quotes or a ``%(...)`` substitution
    belong to the check word around them.
    """
    tokens = []
    pos, size = 0, len(text)
    while pos < size:
        char = text[pos]
        if char.isspace():
            pos += 1
            continue
        if char in "()":
            tokens.append((char, char, pos))
            pos += 1
            continue
        start = pos
        while pos < size:
            char = text[pos]
            if char.isspace() or char in "()":
                break
            if char in _QUOTES:
                end = text.find(char, pos + 1)
                if end < 0:
                    raise PolicyParseError("unterminated quote", text, pos)
                pos = end + 1
            elif text.startswith("%(", pos):
                end = text.find(")", pos + 2)
                if end < 0:
                    raise PolicyParseError(
                        "unterminated %(...) substitution", text, pos)
                pos = end + 1
            else:
                pos += 1
        word = text[start:pos]
        lowered = word.lower()
        tokens.append((lowered if lowered in _KEYWORDS else "check", word, start))
    return tokens


def parse_match(text: str, check_str: str = "", position: int = 0):
    """Parse the right side of ``kind:match``.

    Returns a plain string for literals, or a :class:`Substitution` when the
    text contains ``%(path)s``. ``%%`` stands for a single ``%``.
    """
    if len(text) >= 2 and text[0] in _QUOTES and text[-1] == text[0]:
        return text[1:-1]
    if "%" not in text:
        return text
    parts, literal, index = [], [], 0
    while index < len(text):
        char = text[index]
        if char == "%" and text.startswith("%%", index):
            literal.append("%")
            index += 2
        elif char == "%" and text.startswith("%(", index):
            end = text.find(")", index)
            key = text[index + 2:end]
            if end < 0 or not key:
                raise PolicyParseError(
                    "empty or unterminated %(...) substitution",
                    check_str or text, position + index)
            if text[end + 1:end + 2] != "s":
                raise PolicyParseError(
                    "only %(name)s substitutions are supported",
                    check_str or text, position + index)
            if literal:
                parts.append("".join(literal))
                literal = []
            parts.append(TargetPath(key))
            index = end + 2
        else:
            literal.append(char)
            index += 1
    if literal:
        parts.append("".join(literal))
    if all(isinstance(part, str) for part in parts):
        return "".join(parts)
    return Substitution(tuple(parts))


def _literal(kind: str):
    """Return the Python literal ``kind`` spells, or ``_NO_LITERAL``."""
    try:
        return ast.literal_eval(kind)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return _NO_LITERAL


def make_check(word: str, check_str: str = "", position: int = 0) -> Check:
    """Build the check for one ``kind:match`` word (or ``@`` / ``!``)."""
    if word == "@":
        return TrueCheck()
    if word == "!":
        return FalseCheck()
    source = check_str or word
    if word[0] in _QUOTES:
        colon = word.find(word[0], 1) + 1
        if word[colon:colon + 1] != ":":
            raise PolicyParseError(
                "expected ':' after quoted literal %s" % word[:colon],
                source, position)
    else:
        colon = word.find(":")
        if colon <= 0:
            raise PolicyParseError(
                "expected 'kind:match', got %r" % word, source, position)
    kind, text = word[:colon], word[colon + 1:]
    if not text:
        raise PolicyParseError(
            "missing value after ':' in %r" % word, source, position)
    if kind == "rule":
        return RuleCheck(text)
    if kind in ("http", "https"):
        return HttpCheck(word)
    if kind == "field":
        resource, _, condition = text.partition(":")
        field, equals, value = condition.rpartition("=")
        if not resource or not equals or not field:
            raise PolicyParseError("expected 'field:RESOURCE:FIELD=VALUE', got %r" % word, source, position)
        return FieldCheck(resource, field, value)
    match = parse_match(text, source, position + colon + 1)
    if kind == "role":
        return RoleCheck(match)
    literal = _literal(kind)
    if literal is not _NO_LITERAL:
        return LiteralCheck(str(literal), kind, match)
    return GenericCheck(kind, match)


def _combine(cls, checks: list) -> Check:
    """Join checks with And/Or, flattening nested nodes of the same kind."""
    if len(checks) == 1:
        return checks[0]
    flat = []
    for check in checks:
        if type(check) is cls:
            flat.extend(check.checks)
        else:
            flat.append(check)
    return cls(flat)


class _Parser:
    """Recursive-descent parser over the token list of one check string."""

    def __init__(self, text: str):
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0

    def peek(self) -> str | None:
        if self.index < len(self.tokens):
            return self.tokens[self.index][0]
        return None

    def parse(self) -> Check:
        check = self.parse_or()
        if self.index < len(self.tokens):
            _, word, position = self.tokens[self.index]
            raise PolicyParseError("unexpected %r" % word, self.text, position)
        return check

    def parse_or(self) -> Check:
        checks = [self.parse_and()]
        while self.peek() == "or":
            self.index += 1
            checks.append(self.parse_and())
        return _combine(OrCheck, checks)

    def parse_and(self) -> Check:
        checks = [self.parse_not()]
        while self.peek() == "and":
            self.index += 1
            checks.append(self.parse_not())
        return _combine(AndCheck, checks)

    def parse_not(self) -> Check:
        if self.peek() == "not":
            self.index += 1
            return NotCheck(self.parse_not())
        return self.parse_atom()

    def parse_atom(self) -> Check:
        if self.index >= len(self.tokens):
            raise PolicyParseError("unexpected end", self.text, len(self.text))
        kind, word, position = self.tokens[self.index]
        self.index += 1
        if kind == "(":
            check = self.parse_or()
            if self.peek() != ")":
                raise PolicyParseError("missing ')'", self.text, position)
            self.index += 1
            return check
        if kind == "check":
            return make_check(word, self.text, position)
        raise PolicyParseError("unexpected %r" % word, self.text, position)


def parse(check_str: str) -> Check:
    """Parse a check string into a check tree; raise PolicyParseError.

    Results are cached: check trees are immutable and safe to share.
    """
    if not isinstance(check_str, str):
        raise PolicyParseError(
            "check string must be a string, not %s" % type(check_str).__name__,
            repr(check_str))
    return _parse_cached(check_str)


@functools.lru_cache(maxsize=4096)
def _parse_cached(check_str: str) -> Check:
    if not check_str.strip():
        return TrueCheck()
    try:
        return _Parser(check_str).parse()
    except RecursionError:
        raise PolicyParseError("nested too deeply", check_str) from None
