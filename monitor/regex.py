"""Watchlist regular expressions from the config, compiled with RE2 (``google-re2``): linear time in the text.

Python's ``re`` backtracks: ``(a+)+$`` on thirty ``a``s and a ``!`` took ~135 s, holding the GIL, so the
event loop, ``/healthz`` and every other feed stood still. RE2 never backtracks, so no pattern an
operator writes can freeze the daemon; the price is a few constructs it refuses, named at config load:
backreferences (``\\1``, ``(?P=name)``) and lookaround (``(?=``, ``(?!``, ``(?<=``, ``(?<!``). Also unlike
``re``: ``\\w``, ``\\d`` and ``\\b`` are ASCII-only in RE2 (``\\pL`` matches any letter).

Keywords do not come here: they are escaped literals, safe for ``re`` (``core/watchlist.py``).
"""

from __future__ import annotations

import re

import re2

from monitor.core.watchlist import Searcher

_UNSUPPORTED = (
    (re.compile(r"\\[1-9]|\(\?P=\w+\)"), "backreferences"),
    (re.compile(r"\(\?<?[=!]"), "lookaround ((?=...), (?!...), (?<=...), (?<!...))"),
    (re.compile(r"\(\?>"), "atomic groups"),
)


def _options() -> re2.Options:
    options = re2.Options()
    options.case_sensitive = False  # watchlists match case-insensitively, as they did with re.IGNORECASE
    options.log_errors = False  # the error reaches the operator through ConfigError, not stderr
    return options


_OPTIONS = _options()


def compile_user_regex(pattern: str) -> Searcher:
    """The compiled pattern; ``ValueError`` saying why when RE2 cannot take it."""
    try:
        compiled: Searcher = re2.compile(pattern, _OPTIONS)
    except re2.error as e:
        detail = e.args[0].decode("utf-8", "replace") if e.args and isinstance(e.args[0], bytes) else str(e)
        refused = [name for rx, name in _UNSUPPORTED if rx.search(pattern)]
        if refused:
            detail = (
                f"{detail}; watchlist regexes run on RE2 (linear time, no catastrophic backtracking), "
                f"which has no {' or '.join(refused)}: rewrite the pattern without them"
            )
        raise ValueError(detail) from e
    return compiled
