"""Is this article a developing story? Pure: looks at the headline, the text and markup hints.

Newsrooms mark unfinished stories in a handful of ways: a promise of updates in the body ("Check back for
updates on this developing story", "This story will be updated"), a wire headline prefix ("UPDATE 2-",
"BREAKING:", "LIVE:") or live-blog markup (schema.org ``LiveBlogPosting``, found by the source and passed in
as ``html_markers``). This module names which marker fired so the decision can be shown to a user.
"""

from __future__ import annotations

import re

from monitor.core.prepared import TEXTS

_TITLE_MARKERS = [
    ("update-prefix", re.compile(r"^\s*(?:UPDATE|UPDATED|REFILE|CORRECTED)\s*\d*\s*[-:–—]", re.IGNORECASE)),
    ("breaking", re.compile(r"^\s*(?:BREAKING|JUST IN|DEVELOPING|FLASH|URGENT)\b", re.IGNORECASE)),
    ("live", re.compile(r"^\s*LIVE\b|\blive (?:updates|blog|coverage)\b", re.IGNORECASE)),
]
_BODY_MARKERS = [
    (
        "developing-story",
        re.compile(r"\b(?:this is a |on this |a )?developing (?:news )?story\b", re.IGNORECASE),
    ),
    (
        "check-back",
        re.compile(r"\bcheck back (?:later |soon )?for (?:more |further )?updates\b", re.IGNORECASE),
    ),
    (
        "will-be-updated",
        re.compile(r"\bthis (?:story|article|report|post) (?:will be|is being) updated\b", re.IGNORECASE),
    ),
    ("breaking-news", re.compile(r"\bbreaking news\b", re.IGNORECASE)),
    ("more-to-follow", re.compile(r"\b(?:more|details) to (?:follow|come)\b", re.IGNORECASE)),
    ("live-updates", re.compile(r"\blive updates\b", re.IGNORECASE)),
]
# Only the opening and closing of a body carry update promises; scanning just those keeps the cost flat
# and avoids quoting false positives deep in a long feature.
_EDGE_CHARS = 1500


def developing_markers(title: str, text: str, html_markers: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The names of the developing-story markers present, in a stable order (empty: not developing)."""
    known = TEXTS.get(text)  # worked out in a parse worker (core.prepared)
    if known is not None and known.title == title and known.html_markers == html_markers:
        return known.markers
    found = [name for name, rx in _TITLE_MARKERS if rx.search(title)]
    edges = text if len(text) <= 2 * _EDGE_CHARS else text[:_EDGE_CHARS] + "\n" + text[-_EDGE_CHARS:]
    found += [name for name, rx in _BODY_MARKERS if rx.search(edges)]
    found += [f"markup:{m}" for m in html_markers]
    return tuple(dict.fromkeys(found))
