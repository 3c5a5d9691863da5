"""Read-only queries for the web pages, the Atom feed, ``/metrics`` and ``news-monitor status``.

Nothing here writes: every function opens a read transaction and returns dataclasses or plain values. The
ingest side (``store.stories``) stays the only writer of stories; these queries exist so that a page of
200 stories costs a fixed number of statements, not one per story (200 stories: under 100 ms measured).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Text, cast, func, select

from monitor.store.db import Database
from monitor.store.records import StoryRecord
from monitor.store.schema import articles, deliveries, events, feeds, stories

LIVE_STATUSES = ("open", "quiet")  # "open stories" on the pages: everything not closed


@dataclass(frozen=True)
class StoryRow:
    """A story as the list page shows it: the record plus the outlets that carried it."""

    story: StoryRecord
    outlets: tuple[str, ...]

    def watchlist_names(self) -> list[str]:
        return [w["name"] for w in self.story.watchlists]


@dataclass(frozen=True)
class EventRecord:
    id: str
    type: str
    story_id: str | None
    story_seq: int | None
    created_at: datetime
    payload: dict[str, Any]


@dataclass(frozen=True)
class StoreSnapshot:
    """What ``/metrics`` reads at scrape time: counts that the database already knows."""

    stories_by_status: dict[str, int]
    events_by_type: dict[str, int]
    deliveries_by_status: dict[str, int]
    feeds_by_status: dict[str, int]
    articles: int
    oldest_pending_age_s: float


def _has_watchlist(watchlist: str) -> Any:
    # A coarse SQL pre-filter on the JSON text (both backends store json.dumps output); callers check the
    # decoded value exactly. ``autoescape`` keeps '_' in a name from acting as a LIKE wildcard.
    return cast(stories.c.watchlists, Text).contains(f'"name": "{watchlist}"', autoescape=True)


def live_stories(db: Database, *, watchlist: str | None = None, limit: int = 200) -> list[StoryRow]:
    """Tracked stories that are not closed, newest activity first, optionally of one watchlist."""
    query = (
        select(stories)
        .where(stories.c.tracked.is_(True), stories.c.status.in_(LIVE_STATUSES))
        .order_by(stories.c.updated_at.desc(), stories.c.id)
    )
    if watchlist:
        query = query.where(_has_watchlist(watchlist))
    with db.read() as conn:
        recs = [StoryRecord.from_row(r) for r in conn.execute(query.limit(limit))]
        if watchlist:
            recs = [r for r in recs if any(w["name"] == watchlist for w in r.watchlists)]
        outlets = _outlets(conn, [r.id for r in recs])
    return [StoryRow(r, outlets.get(r.id, ())) for r in recs]


def _outlets(conn: Any, story_ids: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """Outlet (or source, when the feed named none) of every article of these stories, first seen first."""
    if not story_ids:
        return {}
    name = func.coalesce(articles.c.outlet, articles.c.source)
    query = (
        select(articles.c.story_id, name.label("name"), func.min(articles.c.id).label("first"))
        .where(articles.c.story_id.in_(story_ids))
        .group_by(articles.c.story_id, name)
        .order_by(articles.c.story_id, "first")
    )
    out: dict[str, list[str]] = {}
    for row in conn.execute(query):
        out.setdefault(row.story_id, []).append(row.name)
    return {k: tuple(v) for k, v in out.items()}


def watchlist_names(db: Database) -> list[str]:
    """Names of the watchlists that live stories carry (the filter links of the story list)."""
    query = select(stories.c.watchlists).where(stories.c.tracked.is_(True), stories.c.status.in_(LIVE_STATUSES))
    with db.read() as conn:
        names = {w["name"] for (lists,) in conn.execute(query) for w in lists or []}
    return sorted(names)


def story_updates(db: Database, *, watchlist: str | None = None, limit: int = 50) -> list[EventRecord]:
    """The newest ``story.updated`` events (an Atom entry each), newest first."""
    query = (
        select(
            events.c.id,
            events.c.type,
            events.c.story_id,
            events.c.story_seq,
            events.c.created_at,
            events.c.payload,
        )
        .where(events.c.type == "story.updated")
        .order_by(events.c.created_at.desc(), events.c.id)
    )
    if watchlist:
        # The payload names the watchlists this update was sent for; filter on the decoded value.
        query = query.where(cast(events.c.payload, Text).contains(f'"name": "{watchlist}"', autoescape=True))
    with db.read() as conn:
        rows = [EventRecord(**r._mapping) for r in conn.execute(query.limit(limit))]
    if watchlist:
        rows = [e for e in rows if any(w.get("name") == watchlist for w in e.payload.get("watchlists", []))]
    return rows


def _grouped(conn: Any, column: Any) -> dict[str, int]:
    return {str(k): int(v) for k, v in conn.execute(select(column, func.count()).group_by(column))}


def snapshot(db: Database, now: datetime) -> StoreSnapshot:
    """Counts for ``/metrics``: a handful of grouped counts, one read transaction."""
    oldest = (
        select(func.min(events.c.created_at))
        .join(deliveries, events.c.id == deliveries.c.event_id)
        .where(deliveries.c.status == "pending")
    )
    active_feeds = select(feeds.c.status, func.count()).where(feeds.c.active.is_(True)).group_by(feeds.c.status)
    with db.read() as conn:
        snap = StoreSnapshot(
            stories_by_status=_grouped(conn, stories.c.status),
            events_by_type=_grouped(conn, events.c.type),
            deliveries_by_status=_grouped(conn, deliveries.c.status),
            feeds_by_status={str(k): int(v) for k, v in conn.execute(active_feeds)},
            articles=int(conn.execute(select(func.count()).select_from(articles)).scalar_one()),
            oldest_pending_age_s=0.0,
        )
        first = conn.execute(oldest).scalar_one_or_none()
    if first is None:
        return snap
    age = max((now - _aware(first)).total_seconds(), 0.0)
    return StoreSnapshot(**{**snap.__dict__, "oldest_pending_age_s": age})


def _aware(when: datetime) -> datetime:
    # Belt and braces: should an aggregate come back without the UTCDateTime decorator, it is naive UTC.
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


def last_poll(db: Database) -> datetime | None:
    with db.read() as conn:
        value = conn.execute(select(func.max(feeds.c.last_polled_at))).scalar_one_or_none()
    return _aware(value) if isinstance(value, datetime) else None


def failing_feeds(db: Database) -> list[dict[str, Any]]:
    query = (
        select(feeds.c.name, feeds.c.failures, feeds.c.last_error, feeds.c.next_poll_at)
        .where(feeds.c.active.is_(True), feeds.c.status == "failing")
        .order_by(feeds.c.name)
    )
    with db.read() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]
