"""Housekeeping queries: the stories that may move along their lifecycle, and pruning what retention allows.

Moving a story (and its ``story.closed``) is written by ``service.housekeeping`` in one ingest transaction,
so the event is neither lost nor sent for a story that did not close.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select

from monitor.core.states import DeliveryStatus, StoryStatus
from monitor.store.db import LOCK_PRUNE, Database
from monitor.store.records import StoryRecord
from monitor.store.schema import articles, deliveries, events, stories, story_sentences, versions


def stale_stories(db: Database, idle_since: datetime, limit: int = 1000) -> list[StoryRecord]:
    """Open or quiet stories whose last version is older than ``idle_since``."""
    query = (
        select(stories)
        .where(stories.c.status.in_((StoryStatus.OPEN, StoryStatus.QUIET)), stories.c.updated_at < idle_since)
        .order_by(stories.c.updated_at)
        .limit(limit)
    )
    with db.read() as conn:
        return [StoryRecord.from_row(r) for r in conn.execute(query)]


def prune(db: Database, now: datetime, keep_closed: float, keep_delivered: float) -> dict[str, int]:
    """Delete closed stories (with their articles, versions, events) and old delivered events."""
    closed_before = now - timedelta(seconds=keep_closed)
    delivered_before = now - timedelta(seconds=keep_delivered)
    with db.write(lock=LOCK_PRUNE) as conn:
        old = select(stories.c.id).where(stories.c.status == StoryStatus.CLOSED, stories.c.updated_at < closed_before)
        ids = [r.id for r in conn.execute(old)]
        n_articles = 0
        if ids:
            # Explicit deletes, child tables first: SQLite enforces ON DELETE CASCADE only with the pragma on,
            # and not every deployment has it; this order works everywhere.
            ev = select(events.c.id).where(events.c.story_id.in_(ids))
            conn.execute(delete(deliveries).where(deliveries.c.event_id.in_(ev)))
            conn.execute(delete(events).where(events.c.story_id.in_(ids)))
            conn.execute(delete(versions).where(versions.c.story_id.in_(ids)))
            conn.execute(delete(story_sentences).where(story_sentences.c.story_id.in_(ids)))
            n_articles = conn.execute(delete(articles).where(articles.c.story_id.in_(ids))).rowcount
            conn.execute(delete(stories).where(stories.c.id.in_(ids)))
        done = select(deliveries.c.event_id).where(deliveries.c.status != DeliveryStatus.DELIVERED)
        stale = select(events.c.id).where(events.c.created_at < delivered_before, events.c.id.not_in(done))
        stale_ids = [r.id for r in conn.execute(stale)]
        if stale_ids:
            conn.execute(delete(deliveries).where(deliveries.c.event_id.in_(stale_ids)))
            conn.execute(delete(events).where(events.c.id.in_(stale_ids)))
    return {"stories": len(ids), "articles": n_articles, "events": len(stale_ids)}
