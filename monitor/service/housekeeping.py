"""Housekeeping: move stories along open -> quiet -> closed, send ``story.closed``, prune old data.

Runs as a daemon job and in ``news-monitor once``; several instances may run it at once: each status
change is conditional on the story not having changed meanwhile, so a story closes exactly once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from monitor.alerts import payload as payloads
from monitor.config import Config
from monitor.core.lifecycle import next_status
from monitor.service.ingest import LOG_RECEIVER, effective_watchlists, new_id
from monitor.store import furniture as furniture_store
from monitor.store import lifecycle
from monitor.store.db import Database
from monitor.store.records import StoryRecord

log = logging.getLogger("monitor.housekeeping")


@dataclass(frozen=True)
class HousekeepingReport:
    quiet: int = 0
    closed: int = 0
    pruned: dict[str, int] | None = None


def _closed_event(config: Config, now: datetime) -> Any:
    lists = {wl.name: wl for wl in effective_watchlists(config)}

    def build(story: StoryRecord, seq: int) -> tuple[str, dict[str, Any], tuple[str, ...]]:
        event_id = new_id("evt")
        ref = {
            "id": story.id,
            "title": story.title,
            "url": story.url,
            "status": "closed",
            "developing": story.developing,
        }
        body = payloads.story_closed(
            event_id=event_id,
            created_at=now,
            story=ref,
            event_seq=seq,
            previous_event_id=story.last_event_id,
            versions=story.version_count,
            watchlists=story.watchlists,
        )
        names = [w["name"] for w in story.watchlists if w["name"] in lists]
        hooks = tuple(h for n in names for h in (lists[n].webhooks or (LOG_RECEIVER,)))
        return event_id, body, hooks or (LOG_RECEIVER,)

    return build


def run_housekeeping(config: Config, db: Database, now: datetime) -> HousekeepingReport:
    m = config.monitor
    quiet = closed = 0
    build = _closed_event(config, now)
    for story in lifecycle.stale_stories(db, now - timedelta(seconds=m.quiet_after)):
        status = next_status(story.status, story.updated_at, now, m.quiet_after, m.close_after)
        if status == story.status:
            continue
        event = build if status == "closed" and story.tracked else None
        if lifecycle.set_status(db, story, status, now, event):
            quiet += status == "quiet"
            closed += status == "closed"
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
