"""``/metrics``, ``/healthz``, ``/readyz`` and ``news-monitor status``, on the seed scenario."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from monitor.service import metrics
from monitor.service.status import status
from monitor.store.db import Database
from tests.support.web import Built, app_for, get


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def gone_database(tmp_path: Path) -> Database:
    """A database whose folder was removed after start-up: SQLite cannot even create the file again."""
    db = Database(f"sqlite:///{tmp_path / 'gone' / 'm.db'}")
    db.close()
    shutil.rmtree(tmp_path / "gone")
    return db


def test_metrics_endpoint_reads_the_store_at_scrape_time(built: Built) -> None:
    response = get(app_for(built), "/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    got = samples(response.text)
    assert got[("news_monitor_store_up", ())] == 1
    assert got[("news_monitor_stories", (("status", "open"),))] == 2
    assert got[("news_monitor_events", (("type", "story.opened"),))] == 2
    assert got[("news_monitor_events", (("type", "story.updated"),))] == 1
    # No webhooks configured: each event has one delivery to the log pseudo-receiver, none sent yet.
    assert got[("news_monitor_outbox_depth", ())] == 3
    assert got[("news_monitor_deliveries", (("status", "pending"),))] == 3
    assert got[("news_monitor_outbox_oldest_pending_age_seconds", ())] == 2 * 3600  # oldest event at T0
    assert got[("news_monitor_articles_stored", ())] == 3


def test_process_counters_are_isolated_per_metrics_object() -> None:
    mine, other = metrics.Metrics(), metrics.Metrics()
    mine.record_poll("changed", 0.3)
    mine.record_poll("error", 12.0)
    mine.record_ingest("new-version")
    mine.record_ingest("unchanged")  # stores nothing, counts nothing
    got = samples(generate_latest(mine.registry).decode())
    assert got[("news_monitor_polls_total", (("result", "changed"),))] == 1
    assert got[("news_monitor_polls_total", (("result", "error"),))] == 1
    assert got[("news_monitor_poll_duration_seconds_count", ())] == 2
    assert got[("news_monitor_poll_duration_seconds_bucket", (("le", "0.5"),))] == 1
    assert got[("news_monitor_articles_ingested_total", (("status", "new-version"),))] == 1
    assert ("news_monitor_articles_ingested_total", (("status", "unchanged"),)) not in got
    assert not [k for k in samples(generate_latest(other.registry).decode()) if k[0].endswith("_total")]


def test_daemon_counters_become_config_reloads_and_job_outcomes() -> None:
    counters = Counter({"config.reload.ok": 2, "config.reload.refused": 1, "job.poll.ok": 5, "job.deliver.missed": 1})
    registry = CollectorRegistry()
    registry.register(metrics.DaemonCollector(counters))
    got = samples(generate_latest(registry).decode())
    assert got[("news_monitor_config_reloads_total", (("result", "ok"),))] == 2
    assert got[("news_monitor_config_reloads_total", (("result", "refused"),))] == 1
    assert got[("news_monitor_jobs_total", (("job", "poll"), ("outcome", "ok")))] == 5
    assert got[("news_monitor_jobs_total", (("job", "deliver"), ("outcome", "missed")))] == 1


def test_a_scrape_answers_when_the_database_is_gone(tmp_path: Path) -> None:
    db = gone_database(tmp_path)
    registry = CollectorRegistry()
    registry.register(metrics.StoreCollector(db, lambda: datetime.now(UTC)))
    got = samples(generate_latest(registry).decode())
    assert got == {("news_monitor_store_up", ()): 0}


def test_healthz_and_readyz(built: Built) -> None:
    assert get(app_for(built), "/healthz").text == "ok\n"
    ready = get(app_for(built, ready=lambda: {"scheduler": True}), "/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": True, "scheduler": True}
    stopped = get(app_for(built, ready=lambda: {"scheduler": False}), "/readyz")
    assert stopped.status_code == 503 and stopped.json()["ready"] is False


def test_status_at_a_glance(built: Built) -> None:
    from monitor.store import feed_state

    feed_state.sync_feeds(built.db, [("wire", "http://127.0.0.1:9/wire.rss", 300)], built.clock())
    feed_state.record_poll(
        built.db,
        "wire",
        "me",
        status="failing",
        failures=3,
        last_error="timed out",
        last_polled_at=built.clock(),
    )
    got = status(built.db, built.clock())
    assert got["database"]["reachable"] is True
    assert got["counts"]["stories"] == 2 and got["counts"]["stories_by_status"] == {"open": 2}
    assert got["outbox"]["pending"] == 3 and got["outbox"]["oldest_pending_age_s"] == 7200
    assert [f["name"] for f in got["feeds"]["failing"]] == ["wire"]
    assert got["feeds"]["failing"][0]["last_error"] == "timed out"
    assert got["last_poll"] == "2024-01-05T11:00:00Z"
    json.dumps(got)  # ready for --json as it is


def test_status_of_an_unreachable_database(tmp_path: Path) -> None:
    db = gone_database(tmp_path)
    got = status(db, datetime.now(UTC))
    assert got["database"]["reachable"] is False and got["database"]["error"]
