"""How a settings dataclass declares its keys, once: each field's type is its TOML type, and
``setting(default, ...)`` puts the rest of its rule (duration, range, choices, path) in the field's metadata.

``read_settings`` (monitor/config/monitor_table.py) walks the fields; the known keys, the types, the defaults
and the checks all come from here, so a new key is one line in the dataclass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import Field, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Rule:
    duration: bool = False  # "30s", "5m", "2h" or seconds -> float seconds
    off: bool = False  # with duration: 0 (or "0", "0s") is allowed and turns the feature off
    minimum: int | None = None  # for ints: 1 "must be positive", 0 "must be >= 0"
    between: tuple[float, float] | None = None  # inclusive
    choices: tuple[str, ...] = ()
    # Run on the (type-checked) value when it is set ("" and None are "not set"): raises ValueError.
    check: Callable[[Any], object] | None = None
    # The value as the program sees it, from the value as written (or the default) and the config folder.
    resolve: Callable[[Any, Path], Any] | None = None


def setting(
    default: Any,
    *,
    duration: bool = False,
    off: bool = False,
    minimum: int | None = None,
    between: tuple[float, float] | None = None,
    choices: tuple[str, ...] = (),
    check: Callable[[Any], object] | None = None,
    resolve: Callable[[Any, Path], Any] | None = None,
) -> Any:
    """A dataclass field with its config rule (typed ``Any`` so that ``x: float = setting(...)`` checks)."""
    rule = Rule(duration, off, minimum, between, choices, check, resolve)
    return field(default=default, metadata={"rule": rule})


def rule_of(f: Field[Any]) -> Rule:
    rule = f.metadata.get("rule", Rule())
    assert isinstance(rule, Rule)
    return rule
