"""Housekeeping: move stories along open -> quiet -> closed, send ``story.closed``, prune old data.

Runs as a daemon job and in ``news-monitor once``; several instances may run it at once: each status
change is decided (``core.decide.decide_status``) and written under the ingest lock, on the story's row as
it is then, and only if it has not changed since it was listed, so a story closes exactly once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.alerts import events
from monitor.config import Config
from monitor.core.decide import decide_status
from monitor.core.lifecycle import next_status
from monitor.core.states import StoryStatus
from monitor.core.watchlist import Watchlist
from monitor.service.versions import Rules
from monitor.store import furniture as furniture_store
from monitor.store import lifecycle
from monitor.store import stories as story_store
from monitor.store.db import Database
from monitor.store.records import StoryRecord
from monitor.store.values import story_values

log = logging.getLogger("monitor.housekeeping")


@dataclass(frozen=True)
class HousekeepingReport:
    quiet: int = 0
    closed: int = 0
    pruned: dict[str, int] | None = None


def run_housekeeping(config: Config, db: Database, now: datetime) -> HousekeepingReport:
    m = config.monitor
    lists = Rules.of(config).by_name
    quiet = closed = 0
    for story in lifecycle.stale_stories(db, now - timedelta(seconds=m.quiet_after)):
        status = _move(db, story, now, m.quiet_after, m.close_after, lists)
        if status is not None:
            quiet += status == StoryStatus.QUIET
            closed += status == StoryStatus.CLOSED
            log.info("story.%s story=%s tracked=%s", status, story.id, story.tracked)
    pruned = lifecycle.prune(db, now, m.keep_closed_stories, m.keep_delivered_events)
    pruned["furniture"] = furniture_store.forget_unconfirmed(db, now - furniture_store.FORGET_AFTER)
    if any(pruned.values()):
        log.info(
            "prune.done stories=%d articles=%d events=%d",
            pruned["stories"],
            pruned["articles"],
            pruned["events"],
        )
    return HousekeepingReport(quiet, closed, pruned)


def _move(
    db: Database, listed: StoryRecord, now: datetime, quiet_after: float, close_after: float,
    lists: Mapping[str, Watchlist],
) -> StoryStatus | None:  # fmt: skip
    """Move one story along its lifecycle, decided on its row as it is under the ingest lock; nothing moves
    if it changed since it was listed (a new version, another instance closing it). Returns its new status."""
    if next_status(listed.status, listed.updated_at, now, quiet_after, close_after) == listed.status:
        return None  # nothing to move: no lock taken
    with story_store.ingest_transaction(db) as tx:
        story = tx.lock_story(listed.id)
        if story is None or (story.status, story.updated_at) != (listed.status, listed.updated_at):
            return None
        decision = decide_status(story.state(), now, quiet_after, close_after, events.new_event_id())
        if decision is None:
            return None
        if decision.event is not None:
            body = events.closed_payload(decision.event, decision.story)
            tx.add_event(decision.event, body, events.story_receivers(lists, decision.event.hits))
        tx.update_story(story.id, **story_values(decision.story))
    return decision.story.status
