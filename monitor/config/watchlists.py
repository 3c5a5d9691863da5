"""``[[watchlists]]``: which stories to follow (keywords, RE2 patterns) and where their alerts go."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from monitor.config.problems import Problems, get, named_tables
from monitor.core.watchlist import Watchlist
from monitor.regex import compile_user_regex

WATCHLIST_KEYS = tuple(f.name for f in fields(Watchlist) if not f.name.startswith("_"))


def read_watchlists(problems: Problems, raw: Any, webhooks: set[str], feeds: set[str]) -> list[Watchlist]:
    lists = []
    for path, t in named_tables(problems, raw, "watchlists"):
        problems.unknown_keys(path, t, WATCHLIST_KEYS)
        values: dict[str, Any] = {}
        for key in ("keywords", "regex", "webhooks", "feeds"):
            items = get(problems, t, path, key, list, [])
            if not all(isinstance(x, str) and x.strip() for x in items):
                problems.add(f"{path}.{key}", "must be a list of non-empty strings")
                items = []
            values[key] = tuple(items)
        _check_terms(problems, path, values, webhooks, feeds)
        for key in ("min_new_sentences", "min_new_facts"):
            values[key] = get(problems, t, path, key, int, 1)
            if values[key] < 0:
                problems.add(f"{path}.{key}", f"must be >= 0, got: {values[key]}")
        developing_only = get(problems, t, path, "developing_only", bool, True)
        lists.append(
            Watchlist.build(compile_user_regex, name=str(t.get("name")), developing_only=developing_only, **values)
        )
    return lists


def _check_terms(problems: Problems, path: str, values: dict[str, Any], webhooks: set[str], feeds: set[str]) -> None:
    """Patterns compile, named webhooks and feeds exist, and there is something to match."""
    for i, rx in enumerate(values["regex"]):
        try:  # RE2, not re: no pattern may backtrack for minutes (monitor/regex.py)
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
