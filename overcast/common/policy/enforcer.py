"""The Enforcer: default rules from code, overridden by a policy file.

Each service lists its defaults in ``<service>/policies.py`` as
:class:`Rule` objects named exactly as upstream (``identity:get_user``,
``os_compute_api:servers:create``), so operators' existing ``policy.yaml``
files apply unchanged. The file maps rule names to check strings; it may
replace defaults and add helper rules (``admin_or_owner``) for ``rule:``.

Every check string is parsed once, when the defaults or the file are
loaded; :meth:`Enforcer.authorize` only walks the cached tree. The file is
re-read when its mtime, size or inode changes, looked at no more than
once per ``check_interval`` seconds.
"""

import json
import logging
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from overcast.common.policy.checks import Check
from overcast.common.policy.parser import PolicyError, PolicyParseError, parse

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rule:
    """A default policy rule, defined in code by a service's ``policies.py``.

    ``operations`` lists the ``(method, path)`` pairs the rule guards, e.g.
    ``[("GET", "/v3/users")]``; nova-style ``{"method": ..., "path": ...}``
    dicts are accepted too. ``scope_types`` (``["system", "project"]``) is
    documentation for now: it is shown by :meth:`Enforcer.rules_as_yaml`
    but not enforced.
    """

    name: str
    check_str: str
    description: str = ""
    operations: tuple = ()
    scope_types: tuple | None = None

    def __post_init__(self):
        operations = tuple(
            (op["method"], op["path"]) if isinstance(op, Mapping) else tuple(op)
            for op in self.operations)
        object.__setattr__(self, "operations", operations)
        if self.scope_types is not None:
            object.__setattr__(self, "scope_types", tuple(self.scope_types))


class PolicyFileError(PolicyError):
    """The overrides file cannot be read, parsed or used."""

    def __init__(self, path, reason: str, rule: str | None = None):
        self.path = path
        self.reason = reason
        self.rule = rule
        where = "policy file %s" % path
        if rule is not None:
            where += ": rule %r" % rule
        super().__init__("%s: %s" % (where, reason))


class PolicyNotRegistered(PolicyError, KeyError):
    """``authorize`` was asked about a rule no default defines."""

    def __init__(self, rule_name: str):
        self.rule_name = rule_name
        super().__init__(rule_name)

    def __str__(self) -> str:
        return "policy rule %r is not registered" % self.rule_name


def find_cycle(rules: Mapping[str, Check]) -> list[str] | None:
    """Return a ``rule:`` reference cycle as ``[a, b, a]``, or None."""
    state = {}  # name -> "open" while on the current path, "done" after
    for root in rules:
        if root in state:
            continue
        state[root] = "open"
        path = [root]
        stack = [iter(set(rules[root].rule_refs()))]
        while stack:
            for ref in stack[-1]:
                if ref not in rules or state.get(ref) == "done":
                    continue
                if state.get(ref) == "open":
                    return path[path.index(ref):] + [ref]
                state[ref] = "open"
                path.append(ref)
                stack.append(iter(set(rules[ref].rule_refs())))
                break
            else:
                state[path.pop()] = "done"
                stack.pop()
    return None


class Enforcer:
    """Answers "may these creds do this to that target?" for named rules.

    ``defaults`` are the rules registered in code; only their names may be
    passed to :meth:`authorize`. ``overrides_path`` names a ``policy.yaml``
    or ``policy.json``; a missing file means defaults only. A malformed
    file raises :class:`PolicyFileError` from the constructor. If the file
    later changes into something malformed, every :meth:`authorize` call
    raises that error until it is fixed (fail closed, loudly).
    """

    def __init__(self, defaults: Iterable[Rule],
                 overrides_path: str | os.PathLike | None = None, *,
                 check_interval: float = 1.0):
        self.defaults: dict[str, Rule] = {}
        self._default_checks: dict[str, Check] = {}
        for rule in defaults:
            if rule.name in self.defaults:
                raise PolicyError("default rule %r is defined twice" % rule.name)
            try:
                self._default_checks[rule.name] = parse(rule.check_str)
            except PolicyParseError as err:
                raise PolicyError("default rule %r: %s" % (rule.name, err)) from err
            self.defaults[rule.name] = rule
        cycle = find_cycle(self._default_checks)
        if cycle:
            raise PolicyError("default rules refer to each other in a cycle: %s"
                              % " -> ".join(cycle))
        self.overrides_path = None if overrides_path is None else Path(overrides_path)
        self.check_interval = check_interval
        self._rules: dict[str, Check] = dict(self._default_checks)
        self._stamp = None
        self._error: PolicyFileError | None = None
        self._next_stat = 0.0
        self.reload()

    def authorize(self, rule_name: str, target: Mapping, creds: Mapping) -> bool:
        """Return True if ``creds`` pass rule ``rule_name`` for ``target``.

        Raises :class:`PolicyNotRegistered` for a name no default defines
        and :class:`PolicyFileError` while the overrides file is broken.
        """
        if self.overrides_path is not None and time.monotonic() >= self._next_stat:
            self._reload_if_changed()
        if self._error is not None:
            error = self._error
            raise PolicyFileError(error.path, error.reason, error.rule)
        if rule_name not in self.defaults:
            raise PolicyNotRegistered(rule_name)
        rules = self._rules
        return rules[rule_name].evaluate(target if target is not None else {},
                                         creds, rules)

    def reload(self) -> None:
        """Re-read the overrides file now; raise PolicyFileError if invalid."""
        self._next_stat = time.monotonic() + self.check_interval
        if self.overrides_path is None:
            return
        stamp = self._file_stamp()
        self._stamp = stamp
        try:
            overrides = {} if stamp is None else self._read_overrides()
            rules = self._merge(overrides)
        except PolicyFileError as err:
            self._error = err
            LOG.error("%s", err)
            raise
        self._rules = rules
        self._error = None
        if overrides:
            LOG.info("loaded %d policy rules from %s", len(overrides),
                     self.overrides_path)

    def rules_as_yaml(self, commented: bool = False) -> str:
        """Render every default rule as YAML, documented by comments.

        Each rule is preceded by its description, operations and scope
        types as ``#`` lines. ``commented=True`` also comments out the rule
        itself, like oslo.policy's sample generator, so the output can be
        installed as a no-op ``policy.yaml`` to edit.
        """
        lines = []
        for rule in self.defaults.values():
            for line in (rule.description or "(no description)").splitlines():
                lines.append(("# " + line).rstrip())
            for method, path in rule.operations:
                lines.append("# %s  %s" % (method, path))
            if rule.scope_types:
                lines.append("# Intended scope(s): %s" % ", ".join(rule.scope_types))
            entry = "%s: %s" % (json.dumps(rule.name), json.dumps(rule.check_str))
            lines.append("#" + entry if commented else entry)
            lines.append("")
        return "\n".join(lines)

    def _reload_if_changed(self) -> None:
        """Reload if the file's stamp moved; errors stay in ``_error``."""
        self._next_stat = time.monotonic() + self.check_interval
        if self._file_stamp() == self._stamp:
            return
        try:
            self.reload()
        except PolicyFileError:
            pass  # recorded in self._error; authorize raises it

    def _file_stamp(self):
        """Return (mtime_ns, size, inode) of the file, or None if missing."""
        try:
            stat = os.stat(self.overrides_path)
        except FileNotFoundError:
            return None
        except OSError as err:
            return ("unreadable", err.errno)
        return (stat.st_mtime_ns, stat.st_size, stat.st_ino)

    def _read_overrides(self) -> dict[str, Check]:
        """Read, parse and validate the overrides file."""
        path = self.overrides_path
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError) as err:
            raise PolicyFileError(path, "cannot read: %s" % err) from err
        is_json = path.suffix.lower() == ".json"
        try:
            data = json.loads(text) if is_json else yaml.safe_load(text)
        except (ValueError, yaml.YAMLError) as err:
            kind = "JSON" if is_json else "YAML"
            raise PolicyFileError(path, "not valid %s: %s" % (kind, err)) from err
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise PolicyFileError(
                path, "must be a mapping of rule name to check string, not %s"
                % type(data).__name__)
        checks = {}
        for name, check_str in data.items():
            if not isinstance(name, str):
                raise PolicyFileError(path, "rule names must be strings", repr(name))
            if isinstance(check_str, list):
                raise PolicyFileError(
                    path, "the list-of-lists format is not supported;"
                    " write a check string", name)
            if not isinstance(check_str, str):
                raise PolicyFileError(
                    path, "check string must be a string, not %s"
                    % type(check_str).__name__, name)
            try:
                checks[name] = parse(check_str)
            except PolicyParseError as err:
                raise PolicyFileError(path, str(err), name) from err
        return checks

    def _merge(self, overrides: dict[str, Check]) -> dict[str, Check]:
        """Return defaults updated by overrides; reject reference cycles."""
        rules = dict(self._default_checks)
        rules.update(overrides)
        cycle = find_cycle(rules)
        if cycle:
            culprit = next((n for n in cycle if n in overrides), cycle[0])
            raise PolicyFileError(
                self.overrides_path, "rules refer to each other in a cycle: %s"
                % " -> ".join(cycle), culprit)
        return rules
