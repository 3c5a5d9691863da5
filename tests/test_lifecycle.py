"""Story lifecycle and retention, driven by an injected clock on a real SQLite file (no sleeping)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from monitor.core.lifecycle import next_status
from monitor.core.model import Article
from monitor.service.pipeline import Pipeline
from monitor.store import outbox, stories
from monitor.store.schema import articles, events
from tests.support import Clock, SeedStory, make_pipeline

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def make(tmp_path: Path, clock: Clock) -> Pipeline:
    raw = {
        "monitor": {
            "database": "sqlite:///m.db",
            "quiet_after": "6h",
            "close_after": "2d",
            "keep_closed_stories": "30d",
            "keep_delivered_events": "10d",
        },
        "watchlists": [{"name": "syria", "keywords": ["Aleppo"]}],
    }
    return make_pipeline(tmp_path, raw, clock)


def test_status_table() -> None:
    h = 3600.0
    assert next_status("open", T0, T0 + timedelta(hours=5), 6 * h, 48 * h) == "open"
    assert next_status("open", T0, T0 + timedelta(hours=6), 6 * h, 48 * h) == "quiet"
    assert next_status("quiet", T0, T0 + timedelta(hours=48), 6 * h, 48 * h) == "closed"
    assert next_status("closed", T0, T0, 6 * h, 48 * h) == "closed"


def test_quiet_closed_event_then_new_story_then_pruned(tmp_path: Path, seed_story: SeedStory) -> None:
    clock = Clock(T0)
    p = make(tmp_path, clock)
    flash = Article("seeds", "a.txt", seed_story.headline, seed_story.flash)
    first = p.ingestor.ingest(flash, clock())
    assert first.events == ("story.opened",)

    clock.now = T0 + timedelta(hours=7)
    assert p.housekeeping().quiet == 1
    assert stories.get_story(p.db, first.story_id or "").status == "quiet"  # type: ignore[union-attr]

    clock.now = T0 + timedelta(days=3)
    report = p.housekeeping()
    assert report.closed == 1
    assert p.housekeeping().closed == 0  # closes exactly once
    story = stories.get_story(p.db, first.story_id or "")
    assert story is not None and story.status == "closed" and story.event_seq == 2
    closed = [d for d in outbox.list_deliveries(p.db, ("pending",)) if d.type == "story.closed"]
    assert len(closed) == 1
    assert closed[0].payload["sequence"] == 2 and closed[0].event_id == story.last_event_id
    opened = [d for d in outbox.list_deliveries(p.db, ("delivered", "pending")) if d.type == "story.opened"]
    assert closed[0].payload["previous_event_id"] == opened[0].event_id
    assert closed[0].webhook == "@log"

    # The long version after the story closed starts a new story instead of reopening it.
    full = Article("wire", "http://x.test/full", "Aleppo evacuation ends", seed_story.full, url="http://x.test/full")
    again = p.ingestor.ingest(full, clock())
    assert again.status == "new-story" and again.story_id != first.story_id
    assert again.match.get("closed_story") == first.story_id

    # Retention: a closed story idle for 30 days is pruned with its articles; the newer one stays.
    clock.now = T0 + timedelta(days=3 + 29)
    p.housekeeping()
    with p.db.read() as conn:
        left = conn.execute(select(func.count()).select_from(articles)).scalar_one()
        old_events = conn.execute(
            select(func.count()).select_from(events).where(events.c.story_id == first.story_id)
        ).scalar_one()
    assert stories.get_story(p.db, first.story_id or "") is None
    assert old_events == 0
    assert left == 1


def test_a_new_version_reopens_a_quiet_story(tmp_path: Path, seed_story: SeedStory) -> None:
    clock = Clock(T0)
    p = make(tmp_path, clock)
    first = p.ingestor.ingest(Article("seeds", "a.txt", seed_story.headline, seed_story.flash), clock())
    clock.now = T0 + timedelta(hours=8)
    p.housekeeping()
    update = p.ingestor.ingest(Article("seeds", "a.txt", seed_story.headline, seed_story.full), clock())
    assert update.story_id == first.story_id and update.events == ("story.updated",)
    assert stories.get_story(p.db, first.story_id or "").status == "open"  # type: ignore[union-attr]
