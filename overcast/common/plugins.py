"""Pick an implementation by short alias or import path, the one way every table does it.

A table maps aliases to ``"module:Class"``; built-in and third-party entries go through
it alike (nothing registers at import). An unknown alias fails with the closest known
one suggested, as kombu's transport resolution does.
"""

from __future__ import annotations

import difflib
import importlib


def resolve(kind: str, name: str, table: dict[str, str], base: type, error: type[Exception],
            allow_paths: bool = True) -> type:
    """The ``base`` subclass for alias ``name`` (or a ``module:Class`` / ``module.Class``
    path when ``allow_paths``). Raises ``error`` naming ``kind`` with a suggestion."""
    path = table.get(name.lower())
    if path is None and allow_paths and ("." in name or ":" in name):
        path = name if ":" in name else ":".join(name.rsplit(".", 1))
    if path is None:
        close = difflib.get_close_matches(name.lower(), table, n=1, cutoff=0.5)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        plural = kind.split()[-1] + "s"  # "image store" -> "stores"
        raise error(f"unknown {kind} {name!r}.{hint} Known {plural}: {', '.join(sorted(table))}.")
    module, _, attribute = path.partition(":")
    try:
        found = getattr(importlib.import_module(module), attribute)
    except (ImportError, AttributeError) as failure:
        raise error(f"cannot load {kind} {name!r}: {failure}") from failure
    if not (isinstance(found, type) and issubclass(found, base)):
        raise error(f"{name!r} is not a {base.__name__}")
    return found
