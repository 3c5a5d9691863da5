"""TOML config -> a typed, validated ``Config``. Every problem is reported at once, each with its path.

Validation happens here, on load, and nowhere else: the rest of the program receives values it can trust
(durations in seconds, compiled regexes, resolved paths, secrets read from the environment). An invalid
config never starts the daemon, and a hot reload that fails keeps the running config.

Relative paths (``seeds_dir``, a relative SQLite file) resolve against the folder of the config file.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import ipaddress
import json
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from monitor.core.redact import redact_text, redact_url
from monitor.core.watchlist import Watchlist
from monitor.errors import ConfigError
from monitor.regex import compile_user_regex

DEFAULT_CONFIG = Path("config/monitor.toml")
FORMATS = ("json", "slack", "discord", "apprise")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


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


@dataclass(frozen=True)
class FeedConfig:
    name: str
    url: str
    interval: float  # seconds
    enabled: bool = True


@dataclass(frozen=True)
class WebhookConfig:
    name: str
    url: str
    format: str = "json"
    secret: str | None = field(default=None, repr=False)  # the resolved secret; never logged
    timeout: float = 10.0
    deadline: float = 30.0  # a whole attempt, answer included: `timeout` alone lets a trickling receiver hang


@dataclass(frozen=True)
class MonitorSettings:
    database: str
    seeds_dir: Path | None
    poll_interval: float
    jitter: float = 0.1  # share of the interval a poll may move, so feeds do not fire together
    user_agent: str = "news-monitor/0.1 (+https://github.com/news-monitor/news-monitor)"
    fetch_timeout: float = 20.0
    max_feed_bytes: int = 10 * 1024 * 1024
    max_backoff: float = 6 * 3600.0
    deliver_interval: float = 5.0
    seeds_interval: float = 30.0
    max_attempts: int = 12
    max_event_age: float = 3 * 86400.0
    match_window: float = 30 * 86400.0  # = MatchSettings().window_days, so daemon and backtest agree
    match_weights: Path | None = None  # a weights file from `news-monitor fit` (None: the built-in weights)
    log_format: str = "auto"  # auto | human | json
    http_listen: str = ""  # "host:port" of the read-only web/metrics listener; "" = off (issues 6, 8)
    # How long a claimed feed / delivery stays with the instance that claimed it: after a crash, another
    # instance takes the work over once the lease has run out (issue 7). Must outlast one poll / one POST.
    feed_lease: float = 300.0
    # Story lifecycle (issue 6): open -> quiet after `quiet_after` without a new version -> closed after
    # `close_after` (a tracked story then sends story.closed). Retention keeps the database bounded.
    quiet_after: float = 6 * 3600.0
    close_after: float = 48 * 3600.0
    keep_closed_stories: float = 90 * 86400.0
    keep_delivered_events: float = 30 * 86400.0
    # Updates to one story within this window are sent as one story.updated (0: send each at once).
    coalesce_window: float = 0.0
    # feed.failing after this many consecutive failures; feed.recovered on the first success after.
    feed_failing_after: int = 3
    delivery_lease: float = 120.0
    # Polling (issue 5). URLs found *inside* feeds (article pages for full text) may not point at loopback
    # or private addresses unless allowed (SSRF); a feed carrying an open developing story is polled at
    # `developing_interval`, decaying back to its interval over `developing_window`.
    allow_private_addresses: bool = False
    poll_concurrency: int = 16  # feeds polled at once
    host_concurrency: int = 4  # of those, at most this many on one host (politeness)
    parse_processes: int = 1  # worker processes for parsing big feed bodies; 0 = parse in a thread
    developing_interval: float = 120.0
    developing_window: float = 2 * 3600.0
    fulltext: bool = True  # fetch article pages of tracked developing stories whose feed has only a summary
    # Page checks (docs/pages.md): the pages of open, tracked developing stories are re-fetched, first
    # `page_check_min` after they were seen, the interval doubling while unchanged up to `page_check_max`.
    page_checks: bool = True
    page_check_min: float = 120.0
    page_check_max: float = 3600.0
    # A poll ingests at most this many of a feed's unseen or changed items, the newest first; the rest come
    # on the next polls, so one feed of 100,000 items cannot hold the poller for hours (issue 14).
    max_items_per_poll: int = 200


@dataclass(frozen=True)
class Config:
    path: Path | None
    monitor: MonitorSettings
    feeds: tuple[FeedConfig, ...]
    webhooks: tuple[WebhookConfig, ...]
    watchlists: tuple[Watchlist, ...]

    def webhook(self, name: str) -> WebhookConfig | None:
        return next((w for w in self.webhooks if w.name == name), None)


class _Problems:
    """Collects problems with their paths, so that one load reports all of them."""

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


def _get(
    problems: _Problems,
    table: Mapping[str, Any],
    path: str,
    key: str,
    kind: type | tuple[type, ...],
    default: Any = None,
    required: bool = False,
) -> Any:
    if key not in table:
        if required:
            problems.add(f"{path}.{key}", "is required")
        return default
    value = table[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        want = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        if key == "secret":  # whatever its type, a secret is not echoed
            problems.add(f"{path}.{key}", f"must be a {want}, got a {type(value).__name__} (value not shown)")
        else:
            problems.add(f"{path}.{key}", f"must be a {want}, got: {redact_text(repr(value))}")
        return default
    return value


def _check(problems: _Problems, path: str, fn: Callable[[], Any], default: Any) -> Any:
    try:
        return fn()
    except ValueError as e:
        problems.add(path, str(e))
        return default


def _http_url(value: str) -> str:
    if not re.match(r"^https?://[^\s/]+", value):
        raise ValueError(f"must be an http(s) URL, got: {redact_url(value)!r}")
    return value


def _resolve_secret(value: str, env: Mapping[str, str]) -> str:
    if value.startswith("env:"):
        var = value[4:]
        if not var:
            raise ValueError("'env:' needs a variable name, e.g. 'env:DESK_WEBHOOK_SECRET'")
        if not env.get(var):
            raise ValueError(f"environment variable {var} is not set (or empty)")
        return env[var]
    return value


def _check_secret(value: str) -> str:
    """A ``whsec_`` secret must be the Standard Webhooks form (``whsec_`` + base64 of the key): caught here,
    not as a ``ValueError`` at the first delivery. The message never quotes the secret."""
    if value.startswith("whsec_"):
        try:
            key = base64.b64decode(value[len("whsec_") :], validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("starts with 'whsec_' but the rest is not valid base64 (value not shown)") from None
        if not key:
            raise ValueError("'whsec_' must be followed by the base64 of the key (value not shown)")
    return value


def public_listen_warning(listen: str) -> str | None:
    """A warning when ``http_listen`` is not a loopback address: the pages have no authentication."""
    if not listen:
        return None
    host = parse_listen(listen)[0]
    try:
        loopback = host.lower() == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name other than localhost: it may well resolve to a public address
        loopback = False
    if loopback:
        return None
    return (
        f"monitor.http_listen: {listen!r} is not a loopback address: the pages and /metrics have no "
        "authentication and are public to anyone who can reach it; keep it on 127.0.0.1 behind a reverse "
        "proxy (docs/web.md)"
    )


def parse_listen(value: str) -> tuple[str, int]:
    """``"127.0.0.1:8080"``, ``"localhost:8080"`` or ``"[::1]:8080"`` -> (host, port)."""
    m = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\]:(\d{1,5})|([A-Za-z0-9.-]+):(\d{1,5})", value.strip())
    port = int((m.group(2) or m.group(4)) if m else -1)
    if m is None or not 0 <= port <= 65535:
        raise ValueError(f"must be 'host:port' like '127.0.0.1:8080' (or '' for off), got: {value!r}")
    return (m.group(1) or m.group(3)), port


def _resolve_database(url: str, base: Path) -> str:
    """Relative SQLite files resolve against the config folder; other URLs pass through."""
    m = re.match(r"^(sqlite(?:\+\w+)?):///(?!/)(.+)$", url)
    if m and m.group(2) != ":memory:" and not m.group(2).startswith("file:"):
        return f"{m.group(1)}:///{(base / m.group(2)).resolve()}"
    return url


_MONITOR_KEYS = (
    "database",
    "seeds_dir",
    "poll_interval",
    "jitter",
    "user_agent",
    "fetch_timeout",
    "max_feed_bytes",
    "max_backoff",
    "deliver_interval",
    "seeds_interval",
    "max_attempts",
    "max_event_age",
    "match_window",
    "match_weights",
    "log_format",
    "feed_lease",
    "delivery_lease",
    "quiet_after",
    "close_after",
    "keep_closed_stories",
    "keep_delivered_events",
    "coalesce_window",
    "feed_failing_after",
    "allow_private_addresses",
    "poll_concurrency",
    "host_concurrency",
    "parse_processes",
    "developing_interval",
    "developing_window",
    "fulltext",
    "http_listen",
    "page_checks",
    "page_check_min",
    "page_check_max",
    "max_items_per_poll",
)
_DURATION_KEYS = (
    "poll_interval",
    "fetch_timeout",
    "max_backoff",
    "deliver_interval",
    "seeds_interval",
    "max_event_age",
    "match_window",
    "feed_lease",
    "delivery_lease",
    "quiet_after",
    "close_after",
    "keep_closed_stories",
    "keep_delivered_events",
    "developing_interval",
    "developing_window",
    "page_check_min",
    "page_check_max",
)


def _monitor(problems: _Problems, raw: Mapping[str, Any], base: Path) -> MonitorSettings:
    problems.unknown_keys("monitor", raw, _MONITOR_KEYS)
    defaults = MonitorSettings(database="", seeds_dir=None, poll_interval=600.0)
    db = _get(problems, raw, "monitor", "database", str, "sqlite:///var/news-monitor.db")
    seeds = _get(problems, raw, "monitor", "seeds_dir", str, None)
    values: dict[str, Any] = {}
    for key in _DURATION_KEYS:
        if key in raw:
            values[key] = _check(problems, f"monitor.{key}", partial(parse_duration, raw[key]), getattr(defaults, key))
    jitter = _get(problems, raw, "monitor", "jitter", (int, float), defaults.jitter)
    if not 0 <= jitter <= 0.5:
        problems.add("monitor.jitter", f"must be between 0 and 0.5, got: {jitter!r}")
    if "coalesce_window" in raw:  # 0 is allowed here: it turns coalescing off
        values["coalesce_window"] = _check(
            problems,
            "monitor.coalesce_window",
            lambda: 0.0 if raw["coalesce_window"] in (0, "0", "0s") else parse_duration(raw["coalesce_window"]),
            0.0,
        )
    ints = ("max_feed_bytes", "max_attempts", "feed_failing_after", "max_items_per_poll")
    strs = ("user_agent", "log_format", "http_listen")
    for key, kind in (*((k, int) for k in ints), *((k, str) for k in strs)):
        values[key] = _get(problems, raw, "monitor", key, kind, getattr(defaults, key))
    if values["log_format"] not in ("auto", "human", "json"):
        problems.add("monitor.log_format", f"must be one of auto, human, json, got: {values['log_format']!r}")
    if values["http_listen"]:  # "" keeps the listener off
        _check(problems, "monitor.http_listen", lambda: parse_listen(values["http_listen"]), None)
    for key in ints:
        if values[key] <= 0:
            problems.add(f"monitor.{key}", f"must be positive, got: {values[key]!r}")
    for key, kind in (
        ("allow_private_addresses", bool),
        ("fulltext", bool),
        ("page_checks", bool),
        ("poll_concurrency", int),
        ("host_concurrency", int),
        ("parse_processes", int),
    ):
        values[key] = _get(problems, raw, "monitor", key, kind, getattr(defaults, key))
        if kind is int and values[key] < (0 if key == "parse_processes" else 1):
            problems.add(
                f"monitor.{key}",
                f"must be {'>= 0' if key == 'parse_processes' else 'positive'}, got: {values[key]!r}",
            )
    if values.get("page_check_min", 0.0) > values.get("page_check_max", defaults.page_check_max):
        problems.add("monitor.page_check_min", f"must not exceed page_check_max, got: {raw['page_check_min']!r}")
    weights = _get(problems, raw, "monitor", "match_weights", str, None)
    if weights:
        values["match_weights"] = (base / weights).resolve()
        _check(problems, "monitor.match_weights", partial(_match_weights, values["match_weights"]), None)
    return MonitorSettings(
        database=_resolve_database(db, base),
        seeds_dir=(base / seeds).resolve() if seeds else None,
        poll_interval=values.pop("poll_interval", defaults.poll_interval),
        jitter=float(jitter),
        **values,
    )


def _match_weights(path: Path) -> None:
    """The weights file must load (checked with the config, not at the first match)."""
    from monitor.core.match_types import settings_from_json

    try:
        settings_from_json(json.loads(path.read_text(encoding="utf-8")))
    except OSError as e:
        raise ValueError(f"cannot read {path}: {e.strerror or e}") from e
    except json.JSONDecodeError as e:
        raise ValueError(f"{path} is not valid JSON: {e.msg} (line {e.lineno})") from e


def _named_tables(problems: _Problems, raw: Any, section: str) -> list[tuple[str, Mapping[str, Any]]]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(t, dict) for t in raw):
        problems.add(section, f"must be an array of tables ([[{section}]]), got: {type(raw).__name__}")
        return []
    out: list[tuple[str, Mapping[str, Any]]] = []
    seen: set[str] = set()
    for i, table in enumerate(raw):
        path = f"{section}[{i}]"
        name = _get(problems, table, path, "name", str, required=True)
        if name is not None and not _NAME.match(name):
            problems.add(f"{path}.name", f"must be 1-64 letters, digits, '_', '.', '-', got: {name!r}")
        elif name in seen:
            problems.add(f"{path}.name", f"duplicate name {name!r}")
        if name:
            seen.add(name)
        out.append((path, table))
    return out


def _feeds(problems: _Problems, raw: Any, default_interval: float) -> list[FeedConfig]:
    feeds = []
    for path, t in _named_tables(problems, raw, "feeds"):
        problems.unknown_keys(path, t, ("name", "url", "interval", "enabled"))
        url = _get(problems, t, path, "url", str, required=True)
        if url is not None:
            _check(problems, f"{path}.url", partial(_http_url, url), None)
        interval = default_interval
        if "interval" in t:
            interval = _check(problems, f"{path}.interval", partial(parse_duration, t["interval"]), interval)
        enabled = _get(problems, t, path, "enabled", bool, True)
        feeds.append(FeedConfig(str(t.get("name")), str(url), interval, enabled))
    return feeds


def _webhooks(problems: _Problems, raw: Any, env: Mapping[str, str]) -> list[WebhookConfig]:
    hooks = []
    for path, t in _named_tables(problems, raw, "webhooks"):
        problems.unknown_keys(path, t, ("name", "url", "format", "secret", "timeout", "deadline"))
        url = _get(problems, t, path, "url", str, required=True)
        fmt = _get(problems, t, path, "format", str, "json")
        if url is not None and fmt != "apprise":
            _check(problems, f"{path}.url", partial(_http_url, url), None)
        elif url is not None and not re.match(r"^[a-z][a-z0-9+.-]*://", url):
            problems.add(f"{path}.url", "must be an Apprise URL (scheme://...)")  # never echo it: it holds tokens
        if fmt == "apprise" and "secret" in t:
            problems.add(f"{path}.secret", "format 'apprise' cannot sign requests; remove 'secret'")
        if fmt not in FORMATS:
            problems.add(f"{path}.format", f"must be one of {', '.join(FORMATS)}, got: {fmt!r}")
        secret = _get(problems, t, path, "secret", str, None)
        if secret is not None:
            secret = _check(problems, f"{path}.secret", partial(_resolve_secret, secret, env), None)
        if secret is not None:
            secret = _check(problems, f"{path}.secret", partial(_check_secret, secret), None)
        timeout = 10.0
        if "timeout" in t:
            timeout = _check(problems, f"{path}.timeout", partial(parse_duration, t["timeout"]), 10.0)
        deadline = max(30.0, timeout)  # the default never cuts a request short of its own timeout
        if "deadline" in t:
            deadline = _check(problems, f"{path}.deadline", partial(parse_duration, t["deadline"]), deadline)
            if deadline < timeout:
                problems.add(f"{path}.deadline", f"must be at least the timeout ({timeout:g}s), got: {t['deadline']!r}")
        hooks.append(WebhookConfig(str(t.get("name")), str(url), str(fmt), secret, timeout, deadline))
    return hooks


def _watchlists(problems: _Problems, raw: Any, webhooks: set[str], feeds: set[str]) -> list[Watchlist]:
    lists = []
    known = (
        "name",
        "keywords",
        "regex",
        "webhooks",
        "feeds",
        "min_new_sentences",
        "min_new_facts",
        "developing_only",
    )
    for path, t in _named_tables(problems, raw, "watchlists"):
        problems.unknown_keys(path, t, known)
        values: dict[str, Any] = {}
        for key in ("keywords", "regex", "webhooks", "feeds"):
            items = _get(problems, t, path, key, list, [])
            if not all(isinstance(x, str) and x.strip() for x in items):
                problems.add(f"{path}.{key}", "must be a list of non-empty strings")
                items = []
            values[key] = tuple(items)
        for i, rx in enumerate(values["regex"]):
            try:  # RE2, not re: no pattern may backtrack for minutes (monitor/regex.py, issue 14)
                compile_user_regex(rx)
            except ValueError as e:
                problems.add(f"{path}.regex[{i}]", f"invalid regular expression {rx!r}: {e}")
                values["regex"] = ()
        for i, hook in enumerate(values["webhooks"]):
            if hook not in webhooks:
                problems.add(f"{path}.webhooks[{i}]", f"no webhook named {hook!r} (defined: {sorted(webhooks)})")
        for i, feed in enumerate(values["feeds"]):
            if feed not in feeds and feed != "seeds":
                problems.add(f"{path}.feeds[{i}]", f"no feed named {feed!r} (or 'seeds')")
        if not values["keywords"] and not values["regex"]:
            problems.add(path, "needs at least one of 'keywords' or 'regex'")
        for key in ("min_new_sentences", "min_new_facts"):
            values[key] = _get(problems, t, path, key, int, 1)
            if values[key] < 0:
                problems.add(f"{path}.{key}", f"must be >= 0, got: {values[key]}")
        developing_only = _get(problems, t, path, "developing_only", bool, True)
        lists.append(
            Watchlist.build(compile_user_regex, name=str(t.get("name")), developing_only=developing_only, **values)
        )
    return lists


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
    problems = _Problems()
    problems.unknown_keys("", raw, ("monitor", "feeds", "webhooks", "watchlists"))
    monitor_raw = raw.get("monitor", {})
    if not isinstance(monitor_raw, dict):
        problems.add("monitor", "must be a table ([monitor])")
        monitor_raw = {}
    monitor = _monitor(problems, monitor_raw, base)
    feeds = _feeds(problems, raw.get("feeds"), monitor.poll_interval)
    hooks = _webhooks(problems, raw.get("webhooks"), os.environ if env is None else env)
    lists = _watchlists(problems, raw.get("watchlists"), {h.name for h in hooks}, {f.name for f in feeds})
    if problems.items:
        raise ConfigError(source, problems.items)
    return Config(path, monitor, tuple(feeds), tuple(hooks), tuple(lists))
