"""The ``[monitor]`` table, read from ``MonitorSettings``' own fields (monitor/config/schema.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from functools import partial
from pathlib import Path
from typing import Any, get_type_hints

from monitor.config.durations import parse_duration, parse_duration_or_off
from monitor.config.model import MONITOR_KEYS, MonitorSettings
from monitor.config.problems import Problems, check, typed
from monitor.config.schema import Rule, rule_of


def read_monitor(problems: Problems, raw: Mapping[str, Any], base: Path) -> MonitorSettings:
    problems.unknown_keys("monitor", raw, MONITOR_KEYS)
    values = read_settings(problems, raw, "monitor", MonitorSettings, base)
    if "page_check_min" in raw and values["page_check_min"] > values["page_check_max"]:
        problems.add("monitor.page_check_min", f"must not exceed page_check_max, got: {raw['page_check_min']!r}")
    return MonitorSettings(**values)


def read_settings(problems: Problems, raw: Mapping[str, Any], section: str, cls: type, base: Path) -> dict[str, Any]:
    """Every field of the dataclass ``cls`` from ``raw``: the value if valid, else its default and a problem."""
    hints = get_type_hints(cls)
    values: dict[str, Any] = {}
    for f in fields(cls):
        path, rule, value = f"{section}.{f.name}", rule_of(f), f.default
        if f.name in raw:
            value = _read(problems, path, raw[f.name], hints[f.name], rule, f.default)
        if rule.resolve is not None:
            value = rule.resolve(value, base)
        if rule.check is not None and value:
            check(problems, path, partial(rule.check, value), None)
        values[f.name] = value
    return values


def _read(problems: Problems, path: str, value: Any, hint: Any, rule: Rule, default: Any) -> Any:
    if rule.duration:
        parse = parse_duration_or_off if rule.off else parse_duration
        return check(problems, path, partial(parse, value), default)
    value = typed(problems, path, value, _toml_type(hint), default)
    if rule.minimum is not None and value < rule.minimum:
        problems.add(path, f"must be {'positive' if rule.minimum == 1 else f'>= {rule.minimum}'}, got: {value!r}")
    if rule.between is not None and not rule.between[0] <= value <= rule.between[1]:
        problems.add(path, f"must be between {rule.between[0]} and {rule.between[1]}, got: {value!r}")
    if rule.choices and value not in rule.choices:
        problems.add(path, f"must be one of {', '.join(rule.choices)}, got: {value!r}")
    return float(value) if hint is float else value


def _toml_type(hint: Any) -> type | tuple[type, ...]:
    """The TOML type of a field: a float may be written as an int; a path is a string."""
    if hint is float:
        return (int, float)
    return hint if hint in (bool, int, str) else str
