"""The values that flow through news-monitor: frozen dataclasses, no behaviour beyond derived fields.

Sources produce ``Article`` values; ``core`` decides on them; the store persists them; alerts carry
``Event`` payloads. Nothing here knows about HTTP, feedparser or SQL.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Article:
    """One article as a source saw it.

    ``source`` names where it came from (a feed name, or ``seeds``); ``guid`` is the source's own identity for
    the item (feed GUID, canonical URL, or the seed file's relative path). Two articles with the same
    ``(source, guid)`` are versions of one item; a changed ``content_hash`` is a new version.
    """

    source: str
    guid: str
    title: str
    text: str  # plain text, paragraphs separated by blank lines
    url: str | None = None
    published: datetime | None = None
    outlet: str | None = None  # human name of the publisher (feed title or host)
    html_markers: tuple[str, ...] = ()  # developing-story hints found in markup (e.g. LiveBlogPosting)
    # Set on an article read from a watched page (service.pagecheck): what its event says about how it was
    # found ("via": "page", "live_posts"). Not part of the content's identity.
    page: dict[str, Any] | None = field(default=None, compare=False)

    @property
    def content_hash(self) -> str:
        digest = hashlib.sha256(f"{self.title}\n\n{self.text}".encode())
        return digest.hexdigest()[:32]


@dataclass(frozen=True)
class Facts:
    """Facts pulled out of sentences: numbers (with their unit word), quoted speech, names."""

    numbers: tuple[str, ...] = ()
    quotes: tuple[str, ...] = ()
    names: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.numbers or self.quotes or self.names)

    def as_dict(self) -> dict[str, list[str]]:
        return {"numbers": list(self.numbers), "quotes": list(self.quotes), "names": list(self.names)}


@dataclass(frozen=True)
class Change:
    """A fact restated with another value: the old and new sentence, and the values that differ
    (``(("34,000", "37,000"),)``; a corrected name is a value too)."""

    old: str
    new: str
    values: tuple[tuple[str, str], ...]

    def as_dict(self) -> dict[str, Any]:
        return {"old": self.old, "new": self.new, "values": [{"old": o, "new": n} for o, n in self.values]}


@dataclass(frozen=True)
class Novelty:
    """What a version adds to what was known of its story."""

    added: tuple[str, ...]  # sentences not in any earlier version (boilerplate excluded)
    facts: Facts
    headline_changed: bool
    repeated: int  # how many of the version's news sentences were already known
    changed: tuple[Change, ...] = ()  # added sentences that restate a known fact with another value
    removed: tuple[str, ...] = ()  # news sentences the same item printed before and dropped now


@dataclass(frozen=True)
class WatchHit:
    """A watchlist that matched, and the terms that made it match."""

    name: str
    matched: tuple[str, ...]


@dataclass(frozen=True)
class Event:
    """An alert to deliver: ``payload`` is the documented JSON body (see README, "Alert payload")."""

    id: str
    type: str
    created_at: datetime
    story_id: str | None
    payload: dict[str, Any] = field(hash=False)
    webhooks: tuple[str, ...] = ()
