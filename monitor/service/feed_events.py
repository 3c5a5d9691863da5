"""Events about feeds rather than stories: ``feed.failing``, ``feed.recovered``, ``feed.anomaly``.

They go to every configured webhook (an operator's concern, not a watchlist's), or to the log (stderr, the
journal under systemd) when there is none, through the same outbox as story events.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from monitor.alerts import payload as payloads
from monitor.config import Config
from monitor.service.ingest import LOG_RECEIVER, new_id
from monitor.store import stories as story_store
from monitor.store.db import Database
from monitor.store.records import FeedState

log = logging.getLogger("monitor.feeds")


def _write(config: Config, db: Database, kind: str, state: FeedState, now: datetime, detail: dict[str, Any]) -> str:
    event_id = new_id("evt")
    feed = {"name": state.name, "url": state.url}
    body = payloads.feed_event(event_id=event_id, type_=kind, created_at=now, feed=feed, detail=detail)
    hooks = tuple(w.name for w in config.webhooks) or (LOG_RECEIVER,)
    # A plain write transaction: feed events touch no story, so they need not queue behind the ingest lock.
    with db.write() as conn:
        story_store.IngestTx(conn).insert_event(event_id, kind, None, None, now, body, hooks)
    log.warning("%s feed=%s %s", kind, state.name, " ".join(f"{k}={v}" for k, v in detail.items()))
    return event_id


def after_failure(config: Config, db: Database, state: FeedState, failures: int, error: str, now: datetime) -> None:
    """``feed.failing`` once, when the consecutive failures reach the configured count."""
    if failures == config.monitor.feed_failing_after:
        _write(config, db, "feed.failing", state, now, {"failures": failures, "error": error})


def after_success(config: Config, db: Database, state: FeedState, now: datetime) -> None:
    """``feed.recovered`` on the first success after a ``feed.failing``."""
    if state.failures >= config.monitor.feed_failing_after:
        _write(
            config,
            db,
            "feed.recovered",
            state,
            now,
            {"failures_before": state.failures, "last_error": state.last_error},
        )


def anomaly(config: Config, db: Database, state: FeedState, total: int, unseen: int, now: datetime) -> None:
    _write(
        config,
        db,
        "feed.anomaly",
        state,
        now,
        {
            "items": total,
            "unseen_guids": unseen,
            "known_before": state.items_seen,
            "action": "alerts from this poll are held: news-monitor deliveries retry --held releases them",
        },
    )
