"""Prometheus metrics, on registries of our own, never prometheus_client's global one.

Two kinds of numbers:

* what only this process sees as it happens (poll results and latency, articles ingested): counters on
  ``METRICS``, which the polling and ingest code bump through ``record_poll`` / ``record_ingest``;
* what the database already knows (stories by status, events by type, deliveries by result, outbox depth
  and the age of its oldest pending delivery, feeds by status): read at scrape time by ``StoreCollector``,
  so they are right across restarts and across several instances sharing one database, and need no code
  in the hot paths. The daemon's own counters (config reloads, job outcomes) are read the same way.

``registry_for`` puts the three together for one listener; tests build their own ``Metrics`` and
registries, so nothing leaks between them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from monitor.errors import MonitorError
from monitor.store import views
from monitor.store.db import Database

log = logging.getLogger("monitor.metrics")
PREFIX = "news_monitor"
# Feed fetches take from tens of milliseconds to the 3x fetch_timeout deadline (60 s by default).
POLL_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0)


class Metrics:
    """The in-process counters, on their own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        polls_doc = "Feed polls by result (changed, unchanged, not-modified, error)"
        self.polls = Counter(f"{PREFIX}_polls", polls_doc, ["result"], registry=r)
        latency_doc = "Time to fetch, parse and ingest one feed"
        self.poll_seconds = Histogram(f"{PREFIX}_poll_duration_seconds", latency_doc, buckets=POLL_BUCKETS, registry=r)
        ingest_doc = "Articles stored by this process (new-story, new-version)"
        self.articles = Counter(f"{PREFIX}_articles_ingested", ingest_doc, ["status"], registry=r)
        pages_doc = "Page checks by result (changed, churn, unchanged, not-modified, error, gone, failed, skipped)"
        self.page_checks = Counter(f"{PREFIX}_page_checks", pages_doc, ["result"], registry=r)
        page_latency = "Time to fetch, read and decide on one watched page"
        self.page_seconds = Histogram(
            f"{PREFIX}_page_check_duration_seconds", page_latency, buckets=POLL_BUCKETS, registry=r
        )

    def record_poll(self, result: str, seconds: float) -> None:
        self.polls.labels(result=result).inc()
        self.poll_seconds.observe(seconds)

    def record_ingest(self, status: str) -> None:
        if status != "unchanged":  # a re-poll of a known item stores nothing
            self.articles.labels(status=status).inc()


# The process's counters: the polling and ingest code are not handed a Metrics, so they use this one.
METRICS = Metrics()


def record_poll(result: str, seconds: float) -> None:
    METRICS.record_poll(result, seconds)


def record_ingest(status: str) -> None:
    METRICS.record_ingest(status)


def record_page_check(result: str, seconds: float) -> None:
    METRICS.page_checks.labels(result=result).inc()
    METRICS.page_seconds.observe(seconds)


def _gauge(name: str, doc: str, label: str, values: Mapping[str, int | float]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(f"{PREFIX}_{name}", doc, labels=[label])
    for key, value in sorted(values.items()):
        family.add_metric([key], value)
    return family


class StoreCollector(Collector):
    """Numbers the database knows, read when Prometheus scrapes (a few grouped counts)."""

    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.clock = clock

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(f"{PREFIX}_store_up", "1 if the database answered this scrape")
        try:
            snap = views.snapshot(self.db, self.clock())
        except MonitorError as e:  # a scrape must still answer, and say the database is down
            log.warning("metrics.store_unreachable error=%s", e)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield _gauge("stories", "Stories by status (open, quiet, closed)", "status", snap.stories_by_status)
        yield _gauge("events", "Events in the outbox table by type", "type", snap.events_by_type)
        yield _gauge(
            "deliveries",
            "Deliveries by result (pending, delivered, dead)",
            "status",
            snap.deliveries_by_status,
        )
        yield _gauge("feeds", "Active feeds by status (new, ok, failing)", "status", snap.feeds_by_status)
        stored = GaugeMetricFamily(f"{PREFIX}_articles_stored", "Articles in the database")
        stored.add_metric([], snap.articles)
        yield stored
        depth = GaugeMetricFamily(f"{PREFIX}_outbox_depth", "Deliveries still pending")
        depth.add_metric([], snap.deliveries_by_status.get("pending", 0))
        yield depth
        age = GaugeMetricFamily(
            f"{PREFIX}_outbox_oldest_pending_age_seconds",
            "Age of the oldest event with a pending delivery (0 when none)",
        )
        age.add_metric([], snap.oldest_pending_age_s)
        yield age


class DaemonCollector(Collector):
    """The daemon's ``counters`` ("config.reload.ok", "job.poll.error", ...) as Prometheus counters."""

    def __init__(self, counters: Mapping[str, int]) -> None:
        self.counters = counters

    def collect(self) -> Iterator[Metric]:
        reloads = CounterMetricFamily(
            f"{PREFIX}_config_reloads", "Config reloads by result (ok, refused)", labels=["result"]
        )
        jobs_doc = "Scheduler job runs by outcome (ok, error, missed, skipped, crashed)"
        jobs = CounterMetricFamily(f"{PREFIX}_jobs", jobs_doc, labels=["job", "outcome"])
        for result in ("ok", "refused"):  # always present, so a rate() has a series from the start
            reloads.add_metric([result], self.counters.get(f"config.reload.{result}", 0))
        for key, value in sorted(dict(self.counters).items()):
            parts = key.split(".")
            if parts[0] == "job" and len(parts) == 3:
                jobs.add_metric(parts[1:], value)
        yield reloads
        yield jobs


class _Forward(Collector):
    """Serves another registry's metrics from this one (so ``METRICS`` can appear in several listeners)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self) -> Iterator[Metric]:
        yield from self.registry.collect()


def registry_for(
    db: Database,
    clock: Callable[[], datetime],
    *,
    counters: Mapping[str, int] | None = None,
    base: Metrics | None = None,
) -> CollectorRegistry:
    """One listener's registry: the process counters, the store's numbers and the daemon's counters."""
    registry = CollectorRegistry(auto_describe=False)  # no collect() at registration: that would query
    registry.register(_Forward((base or METRICS).registry))
    registry.register(StoreCollector(db, clock))
    if counters is not None:
        registry.register(DaemonCollector(counters))
    return registry
