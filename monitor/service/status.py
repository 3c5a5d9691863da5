"""``news-monitor status``: the state of the service at a glance, as one JSON-ready dict.

The same facts as ``/readyz`` and ``/metrics``, read straight from the database, so the command works
whether or not a daemon (or its HTTP listener) is running. The CLI prints it; nothing here prints.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from monitor.alerts.payload import iso
from monitor.core.redact import redact_text
from monitor.errors import MonitorError
from monitor.store import outbox, views
from monitor.store import stories as story_store
from monitor.store.db import Database, redact


def status(db: Database, now: datetime) -> dict[str, Any]:
    """Database reachability, counts, outbox, failing feeds and the last poll. Never raises for a down
    database: ``database.reachable`` is False and ``database.error`` says why."""
    database: dict[str, Any] = {"url": redact(db.url), "reachable": True}
    try:
        db.ping()
        counts = story_store.counts(db)
        snap = views.snapshot(db, now)
        summary = outbox.summary(db, now)
        failing = views.failing_feeds(db)
        last = views.last_poll(db)
    except MonitorError as e:
        return {"database": {**database, "reachable": False, "error": redact_text(str(e))}}
    return {
        "database": database,
        "counts": {
            **counts,
            "stories_by_status": snap.stories_by_status,
            "events_by_type": snap.events_by_type,
        },
        "outbox": {
            "by_status": summary["by_status"],
            "pending": summary["by_status"].get("pending", 0),
            "oldest_pending_age_s": round(summary["oldest_pending_age_s"], 1),
        },
        "feeds": {
            "by_status": snap.feeds_by_status,
            "failing": [
                {**f, "last_error": redact_text(f["last_error"] or ""), "next_poll_at": iso(f["next_poll_at"])}
                for f in failing
            ],
        },
        "last_poll": iso(last),
    }
