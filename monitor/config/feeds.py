"""``[[feeds]]``: a name, an http(s) URL, an interval (the monitor's poll_interval unless set)."""

from __future__ import annotations

import re
from dataclasses import fields
from functools import partial
from typing import Any

from monitor.config.durations import parse_duration
from monitor.config.model import FeedConfig
from monitor.config.problems import Problems, check, get, named_tables
from monitor.core.redact import redact_url

FEED_KEYS = tuple(f.name for f in fields(FeedConfig))


def http_url(value: str) -> str:
    if not re.match(r"^https?://[^\s/]+", value):
        raise ValueError(f"must be an http(s) URL, got: {redact_url(value)!r}")
    return value


def read_feeds(problems: Problems, raw: Any, default_interval: float) -> list[FeedConfig]:
    feeds = []
    for path, t in named_tables(problems, raw, "feeds"):
        problems.unknown_keys(path, t, FEED_KEYS)
        url = get(problems, t, path, "url", str, required=True)
        if url is not None:
            check(problems, f"{path}.url", partial(http_url, url), None)
        interval = default_interval
        if "interval" in t:
            interval = check(problems, f"{path}.interval", partial(parse_duration, t["interval"]), interval)
        enabled = get(problems, t, path, "enabled", bool, True)
        feeds.append(FeedConfig(str(t.get("name")), str(url), interval, enabled))
    return feeds
