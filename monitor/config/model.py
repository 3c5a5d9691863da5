"""The config as the program receives it: frozen dataclasses of validated values.

``MonitorSettings`` is also the schema of the ``[monitor]`` table: each field is one key, its annotation the
type, ``setting(...)`` its default and rule (monitor/config/schema.py). Durations are seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path

from monitor.config.listen import parse_listen
from monitor.config.paths import check_match_weights, resolve_database, resolve_path
from monitor.config.schema import setting
from monitor.core.watchlist import Watchlist

DEFAULT_CONFIG = Path("config/monitor.toml")
FORMATS = ("json", "slack", "discord", "apprise")


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
    # As written, a relative SQLite file; resolved against the config folder on load.
    database: str = setting("sqlite:///var/news-monitor.db", resolve=resolve_database)
    seeds_dir: Path | None = setting(None, resolve=resolve_path)  # noqa: RUF009 (setting() is a field())
    poll_interval: float = setting(600.0, duration=True)
    # Share of the interval a poll may move, so feeds do not fire together.
    jitter: float = setting(0.1, between=(0, 0.5))
    user_agent: str = setting("news-monitor/0.1 (+https://github.com/news-monitor/news-monitor)")
    fetch_timeout: float = setting(20.0, duration=True)
    max_feed_bytes: int = setting(10 * 1024 * 1024, minimum=1)
    max_backoff: float = setting(6 * 3600.0, duration=True)
    deliver_interval: float = setting(5.0, duration=True)
    seeds_interval: float = setting(30.0, duration=True)
    max_attempts: int = setting(12, minimum=1)
    max_event_age: float = setting(3 * 86400.0, duration=True)
    # = MatchSettings().window_days, so daemon and backtest agree.
    match_window: float = setting(30 * 86400.0, duration=True)
    # A weights file from `news-monitor fit` (None: the built-in weights); it must load.
    match_weights: Path | None = setting(None, resolve=resolve_path, check=check_match_weights)  # noqa: RUF009
    log_format: str = setting("auto", choices=("auto", "human", "json"))
    # How long a claimed feed / delivery stays with the instance that claimed it: after a crash, another
    # instance takes the work over once the lease has run out, so several instances can share one database.
    # Must outlast one poll / one POST.
    feed_lease: float = setting(300.0, duration=True)
    delivery_lease: float = setting(120.0, duration=True)
    # Story lifecycle: open -> quiet after `quiet_after` without a new version -> closed after `close_after`
    # (a tracked story then sends story.closed). Retention keeps the database bounded.
    quiet_after: float = setting(6 * 3600.0, duration=True)
    close_after: float = setting(48 * 3600.0, duration=True)
    keep_closed_stories: float = setting(90 * 86400.0, duration=True)
    keep_delivered_events: float = setting(30 * 86400.0, duration=True)
    # Updates to one story within this window are sent as one story.updated (0: send each at once).
    coalesce_window: float = setting(0.0, duration=True, off=True)
    # feed.failing after this many consecutive failures; feed.recovered on the first success after.
    feed_failing_after: int = setting(3, minimum=1)
    # URLs found *inside* feeds (article pages for full text) may not point at loopback or private addresses
    # unless allowed (SSRF); a feed carrying an open developing story is polled at `developing_interval`,
    # decaying back to its interval over `developing_window`.
    allow_private_addresses: bool = setting(False)
    poll_concurrency: int = setting(16, minimum=1)  # feeds polled at once
    host_concurrency: int = setting(4, minimum=1)  # of those, at most this many on one host (politeness)
    parse_processes: int = setting(1, minimum=0)  # worker processes for big feed bodies; 0 = in a thread
    developing_interval: float = setting(120.0, duration=True)
    developing_window: float = setting(2 * 3600.0, duration=True)
    # Fetch article pages of tracked developing stories whose feed has only a summary.
    fulltext: bool = setting(True)
    # "host:port" of the read-only web pages, Atom feeds and /metrics; "" = off.
    http_listen: str = setting("", check=parse_listen)
    # Page checks (docs/pages.md): the pages of open, tracked developing stories are re-fetched, first
    # `page_check_min` after they were seen, the interval doubling while unchanged up to `page_check_max`.
    page_checks: bool = setting(True)
    page_check_min: float = setting(120.0, duration=True)
    page_check_max: float = setting(3600.0, duration=True)
    # A poll ingests at most this many of a feed's unseen or changed items, the newest first; the rest come
    # on the next polls, so one feed of 100,000 items cannot hold the poller for hours.
    max_items_per_poll: int = setting(200, minimum=1)


# The keys of [monitor], in the order the dataclass declares them (config/reference.toml documents each).
MONITOR_KEYS = tuple(f.name for f in fields(MonitorSettings))


@dataclass(frozen=True)
class Config:
    path: Path | None
    monitor: MonitorSettings
    feeds: tuple[FeedConfig, ...]
    webhooks: tuple[WebhookConfig, ...]
    watchlists: tuple[Watchlist, ...]

    def webhook(self, name: str) -> WebhookConfig | None:
        return next((w for w in self.webhooks if w.name == name), None)
