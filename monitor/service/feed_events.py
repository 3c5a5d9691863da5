"""Events about feeds rather than stories: ``feed.failing``, ``feed.recovered``, ``feed.anomaly``.

When each is due is ``core.decide``'s (``feed_failing``, ``feed_recovered``); the body and receivers are
``alerts.events``'s: every configured webhook (an operator's concern, not a watchlist's), or the log
(stderr, the journal under systemd) when there is none, through the same outbox as story events.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from monitor.alerts import events
from monitor.config import Config
from monitor.core.decide import feed_failing, feed_recovered
from monitor.core.states import EventType
from monitor.store import stories as story_store
from monitor.store.db import Database
from monitor.store.records import FeedState

log = logging.getLogger("monitor.feeds")


def _write(
    config: Config, db: Database, type_: EventType, state: FeedState, now: datetime, detail: dict[str, Any]
) -> str:
    event_id = events.new_event_id()
    body = events.feed_payload(event_id, type_, now, state.name, state.url, detail)
    hooks = events.feed_receivers(tuple(w.name for w in config.webhooks))
    # A plain write transaction: feed events touch no story, so they need not queue behind the ingest lock.
    with db.write() as conn:
        story_store.IngestTx(conn).insert_event(event_id, type_, None, None, now, body, hooks)
    log.warning("%s feed=%s %s", type_, state.name, " ".join(f"{k}={v}" for k, v in detail.items()))
    return event_id


def after_failure(config: Config, db: Database, state: FeedState, failures: int, error: str, now: datetime) -> None:
    """``feed.failing`` once, when the consecutive failures reach the configured count."""
    if feed_failing(failures, config.monitor.feed_failing_after):
        _write(config, db, EventType.FEED_FAILING, state, now, {"failures": failures, "error": error})


def after_success(config: Config, db: Database, state: FeedState, now: datetime) -> None:
    """``feed.recovered`` on the first success after a ``feed.failing``."""
    if feed_recovered(state.failures, config.monitor.feed_failing_after):
        detail = {"failures_before": state.failures, "last_error": state.last_error}
        _write(config, db, EventType.FEED_RECOVERED, state, now, detail)


def anomaly(config: Config, db: Database, state: FeedState, total: int, unseen: int, now: datetime) -> None:
    detail = {
        "items": total,
        "unseen_guids": unseen,
        "known_before": state.items_seen,
        "action": "alerts from this poll are held: news-monitor deliveries retry --held releases them",
    }
    _write(config, db, EventType.FEED_ANOMALY, state, now, detail)
