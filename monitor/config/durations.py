"""Durations as people write them in a config file (``"30s"``, ``"5m"``, ``"1h30m"``) -> seconds."""

from __future__ import annotations

import re

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(value: object) -> float:
    """``"30s"``, ``"5m"``, ``"2h"``, ``"1d"``, ``"1h30m"`` or a number of seconds -> seconds (float)."""
    if isinstance(value, bool):
        raise ValueError(f"must be a duration like '30s', '5m', '2h', got: {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and value.strip():
        text = value.strip().lower().replace(" ", "")
        parts = _DURATION.findall(text)
        if not parts or "".join(n + u for n, u in parts) != text:
            raise ValueError(f"must be a duration like '30s', '5m', '2h', got: {value!r}")
        seconds = sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)
    else:
        raise ValueError(f"must be a duration like '30s', '5m', '2h', got: {value!r}")
    if seconds <= 0:
        raise ValueError(f"must be positive, got: {value!r}")
    return seconds


def parse_duration_or_off(value: object) -> float:
    """A duration where 0 turns the feature off (``coalesce_window = 0``)."""
    return 0.0 if value in (0, "0", "0s") else parse_duration(value)
