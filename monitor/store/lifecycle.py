"""Housekeeping queries: move stories along their lifecycle and prune what retention allows.

Closing writes the ``story.closed`` outbox event in the same transaction as the status change, so the
event is neither lost nor sent for a story that did not close.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update

from monitor.store.db import LOCK_PRUNE, Database
from monitor.store.records import StoryRecord
from monitor.store.schema import articles, deliveries, events, stories, story_sentences, versions
from monitor.store.stories import IngestTx


def stale_stories(db: Database, idle_since: datetime, limit: int = 1000) -> list[StoryRecord]:
    """Open or quiet stories whose last version is older than ``idle_since``."""
    query = (
        select(stories)
        .where(stories.c.status.in_(("open", "quiet")), stories.c.updated_at < idle_since)
        .order_by(stories.c.updated_at)
        .limit(limit)
    )
    with db.read() as conn:
        return [StoryRecord.from_row(r) for r in conn.execute(query)]


def set_status(
    db: Database,
    story: StoryRecord,
    status: str,
    now: datetime,
    closed_event: Callable[[StoryRecord, int], tuple[str, dict[str, Any], tuple[str, ...]]] | None = None,
) -> bool:
    """Move one story to ``status`` if it has not changed meanwhile; with ``closed_event`` (tracked
    stories being closed) also write that event. Returns whether the story moved."""
    with db.write(ingest_lock=True) as conn:
        changed = conn.execute(
            update(stories)
            .where(
                stories.c.id == story.id,
                stories.c.updated_at == story.updated_at,
                stories.c.status == story.status,
            )
            .values(status=status)
        ).rowcount
        if not changed or closed_event is None:
            return bool(changed)
        seq = story.event_seq + 1
        event_id, payload, hooks = closed_event(story, seq)
        IngestTx(conn).insert_event(event_id, "story.closed", story.id, seq, now, payload, hooks)
        conn.execute(update(stories).where(stories.c.id == story.id).values(event_seq=seq, last_event_id=event_id))
    return True


def prune(db: Database, now: datetime, keep_closed: float, keep_delivered: float) -> dict[str, int]:
    """Delete closed stories (with their articles, versions, events) and old delivered events."""
    closed_before = now - timedelta(seconds=keep_closed)
    delivered_before = now - timedelta(seconds=keep_delivered)
    with db.write(lock=LOCK_PRUNE) as conn:
        old = select(stories.c.id).where(stories.c.status == "closed", stories.c.updated_at < closed_before)
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
        done = select(deliveries.c.event_id).where(deliveries.c.status != "delivered")
        stale = select(events.c.id).where(events.c.created_at < delivered_before, events.c.id.not_in(done))
        stale_ids = [r.id for r in conn.execute(stale)]
        if stale_ids:
            conn.execute(delete(deliveries).where(deliveries.c.event_id.in_(stale_ids)))
            conn.execute(delete(events).where(events.c.id.in_(stale_ids)))
    return {"stories": len(ids), "articles": n_articles, "events": len(stale_ids)}
