"""Collecting config problems with their paths, so that one load reports all of them."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from typing import Any

from monitor.core.redact import redact_text

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")  # of a feed, webhook or watchlist


class Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, path: str, message: str) -> None:
        self.items.append(f"{path}: {message}")

    def unknown_keys(self, path: str, table: Mapping[str, Any], known: tuple[str, ...]) -> None:
        for key in table:
            if key not in known:
                close = difflib.get_close_matches(key, known, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else f"; known keys: {', '.join(known)}"
                self.add(f"{path}.{key}" if path else key, f"unknown key{hint}")


def typed(problems: Problems, path: str, value: Any, kind: type | tuple[type, ...], default: Any) -> Any:
    """``value`` if it is a ``kind`` (a bool is not an int here), else ``default`` and a problem."""
    if isinstance(value, kind) and (not isinstance(value, bool) or kind is bool):
        return value
    want = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
    if path.endswith(".secret"):  # whatever its type, a secret is not echoed
        problems.add(path, f"must be a {want}, got a {type(value).__name__} (value not shown)")
    else:
        problems.add(path, f"must be a {want}, got: {redact_text(repr(value))}")
    return default


def get(
    problems: Problems,
    table: Mapping[str, Any],
    path: str,
    key: str,
    kind: type | tuple[type, ...],
    default: Any = None,
    required: bool = False,
) -> Any:
    """``table[key]`` checked against ``kind``; ``default`` when it is absent (a problem if ``required``)."""
    if key not in table:
        if required:
            problems.add(f"{path}.{key}", "is required")
        return default
    return typed(problems, f"{path}.{key}", table[key], kind, default)


def check(problems: Problems, path: str, fn: Callable[[], Any], default: Any) -> Any:
    """``fn()``, or ``default`` and its ``ValueError`` as the problem at ``path``."""
    try:
        return fn()
    except ValueError as e:
        problems.add(path, str(e))
        return default


def named_tables(problems: Problems, raw: Any, section: str) -> list[tuple[str, Mapping[str, Any]]]:
    """``[[section]]`` tables with their paths; each needs a valid ``name``, unique in the section."""
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(t, dict) for t in raw):
        problems.add(section, f"must be an array of tables ([[{section}]]), got: {type(raw).__name__}")
        return []
    out: list[tuple[str, Mapping[str, Any]]] = []
    seen: set[str] = set()
    for i, table in enumerate(raw):
        path = f"{section}[{i}]"
        name = get(problems, table, path, "name", str, required=True)
        if name is not None and not _NAME.match(name):
            problems.add(f"{path}.name", f"must be 1-64 letters, digits, '_', '.', '-', got: {name!r}")
        elif name in seen:
            problems.add(f"{path}.name", f"duplicate name {name!r}")
        if name:
            seen.add(name)
        out.append((path, table))
    return out
