"""TOML config -> a typed, validated ``Config``. Every problem is reported at once, each with its path.

Validation happens here, on load, and nowhere else: the rest of the program receives values it can trust
(durations in seconds, compiled regexes, resolved paths, secrets read from the environment). An invalid
config never starts the daemon, and a hot reload that fails keeps the running config.

Relative paths (``seeds_dir``, a relative SQLite file) resolve against the folder of the config file.

One module per concept: ``model`` (the dataclasses; ``MonitorSettings`` is also the schema of [monitor]),
``schema`` (how a field declares its rule), ``monitor_table`` (reads [monitor] from those fields), ``feeds``,
``webhooks``, ``watchlists`` (the [[tables]]), ``durations``, ``listen``, ``paths``, ``problems`` (collecting
problems with their paths). ``from monitor.config import X`` is the way in for the rest of the program.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from monitor.config.durations import parse_duration
from monitor.config.feeds import read_feeds
from monitor.config.listen import parse_listen, public_listen_warning
from monitor.config.model import (
    DEFAULT_CONFIG,
    FORMATS,
    MONITOR_KEYS,
    Config,
    FeedConfig,
    MonitorSettings,
    WebhookConfig,
)
from monitor.config.monitor_table import read_monitor
from monitor.config.problems import Problems
from monitor.config.watchlists import read_watchlists
from monitor.config.webhooks import read_webhooks
from monitor.errors import ConfigError

__all__ = [
    "DEFAULT_CONFIG",
    "FORMATS",
    "MONITOR_KEYS",
    "Config",
    "FeedConfig",
    "MonitorSettings",
    "WebhookConfig",
    "load_config",
    "parse_config",
    "parse_duration",
    "parse_listen",
    "public_listen_warning",
]


def load_config(path: Path | str, env: Mapping[str, str] | None = None) -> Config:
    """Read and validate a config file; raise ``ConfigError`` listing every problem."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise ConfigError(str(path), ["file not found"]) from e
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(str(path), [f"cannot read: {e}"]) from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(str(path), [f"not valid TOML: {e}"]) from e
    return parse_config(raw, base=path.resolve().parent, source=str(path), env=env, path=path)


def parse_config(
    raw: Mapping[str, Any],
    *,
    base: Path,
    source: str = "<config>",
    env: Mapping[str, str] | None = None,
    path: Path | None = None,
) -> Config:
    problems = Problems()
    problems.unknown_keys("", raw, ("monitor", "feeds", "webhooks", "watchlists"))
    monitor_raw = raw.get("monitor", {})
    if not isinstance(monitor_raw, dict):
        problems.add("monitor", "must be a table ([monitor])")
        monitor_raw = {}
    monitor = read_monitor(problems, monitor_raw, base)
    feeds = read_feeds(problems, raw.get("feeds"), monitor.poll_interval)
    hooks = read_webhooks(problems, raw.get("webhooks"), os.environ if env is None else env)
    lists = read_watchlists(problems, raw.get("watchlists"), {h.name for h in hooks}, {f.name for f in feeds})
    if problems.items:
        raise ConfigError(source, problems.items)
    return Config(path, monitor, tuple(feeds), tuple(hooks), tuple(lists))
