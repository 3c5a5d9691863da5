"""Compiled watchlist rules: does an article concern a watchlist, and which terms made it so? Pure.

Keywords match case-insensitively as whole words ("Idlib" matches "Idlib," but not "Idlibi"); regexes are
compiled once (their validity is checked by ``config`` at load, so a bad pattern never reaches here). The
config's regexes are compiled by the caller's ``compile_regex`` (``monitor/regex.py``: RE2, linear time);
Python's backtracking ``re`` is only the default for patterns the program itself writes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from monitor.core.model import WatchHit


class Searcher(Protocol):
    """A compiled pattern: ``re.Pattern`` or an RE2 regexp."""

    def search(self, text: str) -> object | None: ...


@dataclass(frozen=True)
class Watchlist:
    name: str
    keywords: tuple[str, ...] = ()
    regex: tuple[str, ...] = ()
    webhooks: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()  # empty: every source
    min_new_sentences: int = 1
    min_new_facts: int = 1
    developing_only: bool = True  # only developing stories are tracked (the product's purpose)
    _patterns: tuple[tuple[str, Searcher], ...] = field(default=(), repr=False, compare=False)

    @classmethod
    def build(cls, compile_regex: Callable[[str], Searcher] | None = None, **kwargs: object) -> Watchlist:
        """Create a watchlist with its patterns compiled (``regex`` with ``compile_regex`` when given)."""
        wl = cls(**kwargs)  # type: ignore[arg-type]
        compile_rx = compile_regex or (lambda rx: re.compile(rx, re.IGNORECASE))
        patterns: list[tuple[str, Searcher]] = [
            (kw, re.compile(rf"(?<!\w){re.escape(kw.strip())}(?!\w)", re.IGNORECASE)) for kw in wl.keywords
        ]
        patterns += [(rx, compile_rx(rx)) for rx in wl.regex]
        object.__setattr__(wl, "_patterns", tuple(patterns))
        return wl

    def check(self, title: str, text: str, source: str | None = None) -> WatchHit | None:
        """The hit (with every term that matched) or None."""
        if self.feeds and source is not None and source not in self.feeds:
            return None
        haystack = f"{title}\n{text}"
        matched = tuple(term for term, rx in self._patterns if rx.search(haystack))
        return WatchHit(self.name, matched) if matched else None


def check_all(
    watchlists: tuple[Watchlist, ...], title: str, text: str, source: str | None = None
) -> tuple[WatchHit, ...]:
    hits = (wl.check(title, text, source) for wl in watchlists)
    return tuple(h for h in hits if h is not None)
