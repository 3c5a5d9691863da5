"""Typed write records: the columns an UPDATE or INSERT may set, per table, with their types.

A caller builds one of these (or passes its keys as keyword arguments typed ``**values: Unpack[...]``)
instead of a ``dict[str, Any]`` splatted into ``.values(**...)``: mypy then rejects a misspelt column or a
value of the wrong type where the record is built, not in production when the statement runs. Records are
partial (``total=False``: only the keys present are written); tests/test_store_values.py keeps each
record's keys in step with its table's columns.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

from monitor.core.decide import StoryState


class StoryValues(TypedDict, total=False):
    title: str
    url: str | None
    status: str
    developing: bool
    markers: list[str]
    tracked: bool
    watchlists: list[dict[str, Any]]
    updated_at: datetime
    last_published: datetime | None
    version_count: int
    event_seq: int
    last_event_id: str | None


class VersionValues(TypedDict, total=False):
    """A version's columns beyond its story, number, article and time (``IngestTx.insert_version``)."""

    added: list[str]
    facts: dict[str, list[str]]
    headline_changed: bool
    material: bool
    match: dict[str, Any]


class FeedValues(TypedDict, total=False):
    """What a poll (or the config sync) records on a feed's row."""

    url: str
    active: bool
    interval_s: int
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    status: str
    failures: int
    last_error: str | None
    last_status: int | None
    last_polled_at: datetime
    last_ok_at: datetime
    next_poll_at: datetime
    items_seen: int
    articles_total: int
    developing_until: datetime | None


class PageValues(TypedDict, total=False):
    """What a check records on a watched page's row."""

    final_url: str | None
    interval_s: int
    next_check_at: datetime
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    content_hash: str | None
    paragraphs: list[str]
    posts: list[str]
    last_checked_at: datetime
    last_change_at: datetime
    checks: int
    changes: int
    failures: int
    last_status: int | None
    last_error: str | None


def story_values(story: StoryState) -> StoryValues:
    """Every column a decision may change, from the story's state after it."""
    return {
        "title": story.title,
        "url": story.url,
        "status": str(story.status),
        "developing": story.developing,
        "markers": list(story.markers),
        "tracked": story.tracked,
        "watchlists": [{"name": h.name, "matched": list(h.matched)} for h in story.watchlists],
        "updated_at": story.updated_at,
        "version_count": story.version_count,
        "event_seq": story.event_seq,
        "last_event_id": story.last_event_id,
    }
