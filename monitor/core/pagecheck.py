"""Page checks, decided: when to look at a watched page again, and whether what it shows now is news.

Pure (stdlib only, no clock, no randomness of its own): ``now`` and the jitter are arguments, so the schedule
is tested with tables. The I/O lives in ``sources.pages`` (fetch, extract) and ``service.pagecheck`` (the job).

Schedule: the first check ``min`` after the page was first seen; the interval doubles while the page stays
unchanged, up to ``max``; a change brings it back to ``min`` (a page that just grew is likely to grow again:
newsdiffs' and diffengine's tiers say the same, measured on real archives). A failing page backs off from
``min`` by powers of two up to ``max``.

Change: a page's *article* changed when its main text gained a paragraph that was not known before (on this
page or anywhere in its story), after dropping the lines that change on every load without being news
("updated 5 minutes ago", "132 comments", "Advertisement"). Removing or re-ordering paragraphs is not news.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.core.text import paragraphs, words

MIN_ADDED_WORDS = 4  # fewer new words than this in all added paragraphs together is an edit, not news
FAILURES_GONE = 2  # a page answering 404 this many times in a row is gone (a single 404 can be a deploy)
GIVE_UP_AFTER = 12  # consecutive failures of any other kind end the watch (no retries forever)


@dataclass(frozen=True)
class PageSchedule:
    next_at: datetime
    interval: float  # seconds: the interval this check set (the next unchanged check doubles it)


def next_page_check(
    now: datetime,
    interval: float,
    changed: bool,
    failures: int,
    jitter: float,
    *,
    min_interval: float = 120.0,
    max_interval: float = 3600.0,
) -> PageSchedule:
    """When to check a page next, given the interval of its last check and what this check found.

    ``jitter`` is the share of the interval to move by, drawn by the caller in ``[-j, j]`` (so a thousand
    pages first seen in one poll do not come due in one second). ``interval`` 0 means never checked: the
    first check is ``min_interval`` away.
    """
    if failures > 0:
        base = min(min_interval * 2.0 ** min(failures - 1, 32), max_interval)
    elif changed or interval <= 0:
        base = min_interval
    else:
        base = min(max(interval * 2.0, min_interval), max_interval)
    return PageSchedule(now + timedelta(seconds=base * (1.0 + jitter)), base)


def page_gone(status: int | None, failures_404: int) -> bool:
    """410 ends a watch at once; 404 ends it when it is the ``FAILURES_GONE``-th in a row."""
    return status == 410 or (status == 404 and failures_404 >= FAILURES_GONE)


# Lines that change on every load of a page and are never the news: relative times, counters, ad labels.
# fmt: off
_CHURN = [
    re.compile(r"^(?:last )?(?:updated|published|posted|modified)?:?\s*(?:about |just )?(?:\d+|an?|one)\s+"
               r"(?:second|sec|minute|min|hour|hr|day)s?\s+ago\.?$", re.I),
    re.compile(r"^(?:last )?(?:updated|published|posted|modified)(?: on| at)?[\s:,]*(?:[\d/.:,+-]+|\s+|[ap]\.?m\.?"
               r"|(?:mon|tue|wed|thu|fri|sat|sun|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
               r"|gmt|utc|[A-Z]{2,4}T)+$", re.I),
    re.compile(r"^[\d.,]+\s*[KkMm]?\s+(?:comments?|shares?|views?|reads?|likes?|replies|reactions?)\.?$", re.I),
    re.compile(r"^(?:advertisement|sponsored|ad|skip advertisement|continue reading below)\.?$", re.I),
    re.compile(r"^(?:we use cookies|this (?:site|website) uses cookies|accept (?:all )?cookies)\b", re.I),
    re.compile(r"^(?:just now|moments ago|\d{1,2}:\d{2}(?:\s*[ap]\.?m\.?)?(?:\s+[A-Z]{2,4})?)$", re.I),
]
# fmt: on
_CORRECTION = re.compile(
    r"^\s*(?:\*+\s*)?(?:correction|clarification|editor['’]s note|editors['’] note|update(?:d)? to correct)\b"
    r"|\ban earlier version of this (?:story|article|report|post)\b"
    r"|\bthis (?:story|article|report|post) has been (?:corrected|amended|updated to correct)\b"
    r"|\bwe (?:have )?corrected\b",
    re.IGNORECASE,
)


def is_churn(paragraph: str) -> bool:
    return any(p.search(paragraph.strip()) for p in _CHURN)


def fingerprint(paragraph: str) -> str:
    """A short key for a paragraph: case, accents and punctuation folded, numbers kept (a new toll is news)."""
    folded = unicodedata.normalize("NFKD", paragraph).casefold()
    key = " ".join(re.findall(r"[^\W_]+", folded))
    return hashlib.sha1(key.encode()).hexdigest()[:12]


def article_paragraphs(text: str) -> list[str]:
    """The paragraphs of a page's main text that can carry news (churn lines dropped). Every line is a
    paragraph: trafilatura separates paragraphs with one newline, feeds' texts with a blank line."""
    return [p for line in text.splitlines() for p in paragraphs(line) if not is_churn(p)]


def is_correction(added: Iterable[str]) -> bool:
    """Does this new text correct or clarify what was said before (a desk treats that differently)?"""
    return any(_CORRECTION.search(s) for s in added)


@dataclass(frozen=True)
class PageChange:
    """What a page's new main text adds to what was known of it and of its story."""

    added: tuple[str, ...]  # new paragraphs, in page order
    fingerprints: tuple[str, ...]  # of every news paragraph now on the page (the next check's baseline)
    correction: bool

    @property
    def material(self) -> bool:
        return sum(len(words(p)) for p in self.added) >= MIN_ADDED_WORDS


def page_change(known: Iterable[str], text: str) -> PageChange:
    """Compare a page's main text with the paragraph ``known`` fingerprints (the page's last text and its
    story's versions). Only paragraphs that were never seen count: a paragraph moved, removed or repeated
    is not news, and neither is a line that changes on every load."""
    seen = set(known)
    added: list[str] = []
    prints: list[str] = []
    for para in article_paragraphs(text):
        fp = fingerprint(para)
        prints.append(fp)
        if fp not in seen:
            added.append(para)
            seen.add(fp)
    return PageChange(tuple(added), tuple(prints), is_correction(added))


@dataclass(frozen=True)
class LivePost:
    """One post of a live page: its text and the time the page gives it (ISO 8601 as written, or None)."""

    text: str
    time: str | None = None
    id: str | None = None

    @property
    def key(self) -> str:
        return self.id or fingerprint(self.text)


def new_live_posts(known: Iterable[str], posts: Sequence[LivePost]) -> list[LivePost]:
    """Posts whose key is not among ``known``, oldest first whatever order the page lists them in (some
    live pages put new posts at the top, others at the bottom)."""
    seen = set(known)
    fresh = [p for p in posts if p.key not in seen and p.text.strip()]
    if any(p.time for p in fresh):
        return sorted(fresh, key=lambda p: p.time or "")
    return fresh


def live_text(posts: Sequence[LivePost]) -> str:
    """A live page's posts as plain text, oldest first: what is ingested (and what novelty compares)."""
    ordered = sorted(posts, key=lambda p: p.time or "") if any(p.time for p in posts) else list(posts)
    return "\n\n".join(p.text.strip() for p in ordered if p.text.strip())
