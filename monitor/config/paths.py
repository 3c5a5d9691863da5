"""Settings that name files: resolved against the folder of the config file, checked on load."""

from __future__ import annotations

import json
import re
from pathlib import Path


def resolve_database(url: str, base: Path) -> str:
    """Relative SQLite files resolve against the config folder; other URLs pass through."""
    m = re.match(r"^(sqlite(?:\+\w+)?):///(?!/)(.+)$", url)
    if m and m.group(2) != ":memory:" and not m.group(2).startswith("file:"):
        return f"{m.group(1)}:///{(base / m.group(2)).resolve()}"
    return url


def resolve_path(value: str | None, base: Path) -> Path | None:
    """A path relative to the config folder; "" or none at all is None."""
    return (base / value).resolve() if value else None


def check_match_weights(path: Path) -> None:
    """The weights file must load (checked with the config, not at the first match)."""
    from monitor.core.match_types import settings_from_json

    try:
        settings_from_json(json.loads(path.read_text(encoding="utf-8")))
    except OSError as e:
        raise ValueError(f"cannot read {path}: {e.strerror or e}") from e
    except json.JSONDecodeError as e:
        raise ValueError(f"{path} is not valid JSON: {e.msg} (line {e.lineno})") from e
