"""What the ``news-monitor`` commands ask of the database, and the operator's actions on the outbox.

Each function takes the database (and ``now`` where time matters) and returns plain values: the store's
frozen records, counts and dicts. The CLI parses arguments and prints; it never queries the store itself,
so a command and the service agree on what "a failed delivery" or "a story's pages" mean. Nothing here
prints or reads the clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from monitor.config import Config
from monitor.store import feed_state, outbox
from monitor.store import pages as page_store
from monitor.store import stories as story_store
from monitor.store.db import Database as Database  # the handle the CLI passes back in
from monitor.store.pages import PageState
from monitor.store.records import DeliveryRecord, FeedState, StoryRecord
from monitor.store.records import VersionRecord as VersionRecord  # what `stories show` prints

# The outbox statuses `deliveries` lists; delivered ones only on request (they are the bulk).
OPEN_DELIVERY_STATUSES = ("pending", "held", "dead")


def open_database(config: Config) -> Database:
    """The configured database, migrated to the newest schema (a StoreError when it cannot be)."""
    return Database(config.monitor.database)


def stories(db: Database, *, tracked_only: bool, limit: int) -> list[StoryRecord]:
    """Stories by latest activity; only the tracked ones (those a watchlist follows) unless asked."""
    return story_store.list_stories(db, tracked_only=tracked_only, limit=limit)


@dataclass(frozen=True)
class StoryDetail:
    story: StoryRecord
    versions: list[VersionRecord]
    pages: list[PageState]


def story_detail(db: Database, story_id: str) -> StoryDetail | None:
    """One story (by id or a unique prefix of it) with its versions and watched pages; None if unknown."""
    story = story_store.get_story(db, story_id)
    if story is None:
        return None
    return StoryDetail(story, story_store.story_versions(db, story.id), page_store.list_pages(db, story.id))


def feeds(db: Database) -> list[FeedState]:
    """Every feed's polling state, removed ones included."""
    return feed_state.feed_states(db)


def pages(db: Database, story_id: str | None, limit: int) -> list[PageState]:
    """Watched pages (of one story, or of all)."""
    return page_store.list_pages(db, story_id, limit)


@dataclass(frozen=True)
class DeliveryListing:
    deliveries: list[DeliveryRecord]
    disabled_webhooks: dict[str, str]  # name -> why it was disabled
    summary: dict[str, Any]  # counts by status and the age of the oldest pending delivery


def deliveries(db: Database, now: datetime, *, include_delivered: bool) -> DeliveryListing:
    shown = OPEN_DELIVERY_STATUSES + (("delivered",) if include_delivered else ())
    return DeliveryListing(outbox.list_deliveries(db, shown), outbox.disabled_webhooks(db), outbox.summary(db, now))


def waiting_retry(db: Database) -> int:
    """Deliveries left pending after a failed attempt (retries did not get them through)."""
    return outbox.waiting_retry(db)


def retry_deliveries(db: Database, now: datetime, *, delivery_id: int | None, dead: bool, held: bool) -> int:
    """Make deliveries due now (one by id, every dead one, every held one); how many were."""
    return outbox.retry(db, now, delivery_id=delivery_id, dead=dead, held=held)


def enable_webhook(db: Database, name: str) -> bool:
    """Resume a disabled webhook; False when it was not disabled."""
    return outbox.enable_webhook(db, name)


def replay_deliveries(db: Database, now: datetime, since: datetime) -> int:
    """Queue delivered events created since ``since`` to be sent again, with the same ids."""
    return outbox.replay(db, now, since)
