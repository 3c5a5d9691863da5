"""A feed parsed in a worker process comes back with its items' text worked out (``core.prepare``).

The poller parses big bodies in worker processes (feedparser holds the GIL). The same worker then runs
``core.prepare`` on every item: the sentence split, keys, facts, furniture and boilerplate patterns and
developing markers that the ingest would otherwise work out under the ingest lock, in the one process that
holds it. ``take`` hands them to ``core.prepared``'s memo, where the ingest finds them (about 5 KB pickled
per item; unpickling costs a fortieth of what it saves, bench/bench_ingest.py).
"""

from __future__ import annotations

from collections.abc import Callable

from monitor.core.prepare import prepare
from monitor.core.prepared import Prepared, remember
from monitor.sources.feeds import ParsedFeed


def parse_prepared(parse: Callable[[], ParsedFeed]) -> tuple[ParsedFeed, list[Prepared]]:
    """``parse()``, and every item of it prepared (runs in the worker process)."""
    parsed = parse()
    return parsed, [prepare(a.title, a.text, a.html_markers) for a in parsed.articles]


def take(result: tuple[ParsedFeed, list[Prepared]]) -> ParsedFeed:
    """Keep the prepared items for the ingest (in the poller's process); the parse itself."""
    parsed, prepared = result
    remember(zip((a.text for a in parsed.articles), prepared, strict=True))
    return parsed
