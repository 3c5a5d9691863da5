"""Poll feeds: fetch, skip what has not changed, parse off the event loop, ingest, record the outcome.

Every failure ends as a value on the feed's row (``failures``, ``last_error``, ``next_poll_at`` backed off),
never as a crash: one broken feed cannot stop the others. An unexpected exception (a bug) is logged with
its traceback and recorded the same way.

Politeness (issue 5): at most ``poll_concurrency`` polls in flight, at most ``host_concurrency`` of them on
one host; the next poll honours ``Retry-After`` and backs off without ever giving up; a feed whose articles
land in an open, tracked developing story is polled faster for a while (``core.policy.adaptive_interval``).

CPU (issue 5): a 304 or a body whose hash has not changed is never parsed; big bodies are parsed in a
worker process (feedparser is CPU-bound and holds the GIL: a thread would not use the second core).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import random
import time
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from urllib.parse import urlsplit

import httpx

from monitor.config import Config
from monitor.core.anomaly import looks_anomalous
from monitor.core.policy import adaptive_interval, developing_boost_until, next_poll
from monitor.errors import MonitorError
from monitor.service import feed_events, metrics
from monitor.service.coalesce import Coalescer
from monitor.service.enrich import FullText
from monitor.service.ingest import Ingestor, IngestResult
from monitor.sources.feeds import Fetched, NotModified, ParsedFeed, fetch_feed, parse_feed
from monitor.store import feed_state
from monitor.store import stories as story_store
from monitor.store.db import Database
from monitor.store.feed_state import ClaimedFeed
from monitor.store.records import FeedState

log = logging.getLogger("monitor.poll")
# Below this size feedparser takes a few ms: shipping the bytes to a worker and the articles back costs
# about as much as parsing them here (bench/bench_feeds.py).
POOL_MIN_BYTES = 32 * 1024


@dataclass(frozen=True)
class PollOutcome:
    feed: str
    result: str  # changed | unchanged | not-modified | error | skipped (lease lost)
    new_articles: int = 0
    events: int = 0
    error: str | None = None


def host_key(url: str) -> str:
    """What the per-host limit counts: scheme-less host and port (one publisher's server)."""
    parts = urlsplit(url)
    return f"{(parts.hostname or '').lower()}:{parts.port or ''}"


class Poller:
    def __init__(
        self,
        config: Config,
        db: Database,
        ingestor: Ingestor,
        owner: str,
        rng: random.Random | None = None,
        concurrency: int | None = None,
        parse_executor: Executor | None = None,
    ) -> None:
        self.config, self.db, self.ingestor, self.owner = config, db, ingestor, owner
        self.rng = rng or random.Random()
        self.fulltext = FullText(config, ingestor)
        self._sem = asyncio.Semaphore(concurrency or config.monitor.poll_concurrency)
        self._hosts: dict[str, asyncio.Semaphore] = {}
        self._executor = parse_executor
        self._own_executor = parse_executor is None
        # The fence before each fetch and the record after it: one-row writes that concurrent polls share
        # (one thread hop and one transaction per batch, service/coalesce.py).
        self._fences = Coalescer(partial(feed_state.mark_fetching_many, db, owner))
        self._records = Coalescer(partial(feed_state.record_polls, db, owner))

    def _host(self, url: str) -> asyncio.Semaphore:
        key = host_key(url)
        if key not in self._hosts:
            self._hosts[key] = asyncio.Semaphore(self.config.monitor.host_concurrency)
        return self._hosts[key]

    def _pool(self) -> Executor | None:
        if self._executor is None and self.config.monitor.parse_processes > 0:
            # forkserver: the daemon has threads (APScheduler, to_thread), and fork() with threads can
            # deadlock a child on a lock some thread held.
            ctx = multiprocessing.get_context("forkserver")
            self._executor = ProcessPoolExecutor(self.config.monitor.parse_processes, mp_context=ctx)
        return self._executor

    def close(self) -> None:
        """Stop the parse workers we started (the pipeline calls this on shutdown)."""
        if self._executor is not None and self._own_executor:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def _next(
        self,
        state: FeedState,
        now: datetime,
        failures: int,
        retry_after: float | None = None,
        developing_until: datetime | None = None,
    ) -> datetime:
        m = self.config.monitor
        interval = float(state.interval_s)
        if failures == 0:  # a failing feed backs off from its normal interval, not the boosted one
            interval = adaptive_interval(
                now,
                interval,
                developing_until,
                fast_interval=m.developing_interval,
                window=m.developing_window,
            )
        return next_poll(
            now,
            interval,
            failures=failures,
            retry_after=retry_after,
            max_backoff=m.max_backoff,
            jitter=m.jitter,
            rng=self.rng,
        )

    async def poll_many(
        self,
        client: httpx.AsyncClient,
        states: list[ClaimedFeed] | list[FeedState],
        clock: Callable[[], datetime],
    ) -> list[PollOutcome]:
        return list(await asyncio.gather(*(self.poll(client, s, clock) for s in states)))

    async def poll(self, client: httpx.AsyncClient, state: FeedState, clock: Callable[[], datetime]) -> PollOutcome:
        async with self._host(state.url), self._sem:  # host first: a task waiting for its host holds no slot
            started = time.monotonic()  # inside the limits: queueing is not poll latency
            try:
                outcome = await self._poll(client, state, clock)
            except MonitorError as e:
                outcome = await self._failed(state, clock(), e)
            except Exception as e:  # a bug: loud in the log, but the daemon and the other feeds go on
                log.exception("poll.bug feed=%s", state.name)
                outcome = await self._failed(state, clock(), e)
            metrics.record_poll(outcome.result, time.monotonic() - started)
            return outcome

    async def _failed(self, state: FeedState, now: datetime, error: Exception) -> PollOutcome:
        failures = state.failures + 1
        retry_after = getattr(error, "retry_after", None)
        internal = f"internal error: {type(error).__name__}: {error}"
        message = str(error) if isinstance(error, MonitorError) else internal
        status = getattr(error, "status", None)
        log.warning("poll.failed feed=%s failures=%d error=%s", state.name, failures, message)
        failing = {
            "status": "failing",
            "failures": failures,
            "last_error": message,
            "last_status": status,
            "last_polled_at": now,
            "next_poll_at": self._next(state, now, failures, retry_after),
        }
        await self._records.submit((state.name, failing))
        await asyncio.to_thread(feed_events.after_failure, self.config, self.db, state, failures, message, now)
        return PollOutcome(state.name, "error", error=message)

    async def _parse(self, fetched: Fetched, name: str) -> ParsedFeed:
        parse = partial(parse_feed, fetched.body, feed_name=name, url=fetched.url, content_type=fetched.content_type)
        pool = self._pool() if len(fetched.body) >= POOL_MIN_BYTES else None
        return await asyncio.get_running_loop().run_in_executor(pool, parse)

    async def _poll(self, client: httpx.AsyncClient, state: FeedState, clock: Callable[[], datetime]) -> PollOutcome:
        m = self.config.monitor
        fence = (state.name, clock(), state.interval_s, m.feed_lease)
        if not await self._fences.submit(fence):  # our lease ran out while queued and another instance took it
            log.info("poll.skipped feed=%s reason=lease-lost", state.name)
            return PollOutcome(state.name, "skipped")
        fetched = await fetch_feed(
            client,
            state.url,
            where=f"feed {state.name!r}",
            etag=state.etag,
            last_modified=state.last_modified,
            max_bytes=m.max_feed_bytes,
            deadline=m.fetch_timeout * 3,
        )
        developing_until = state.developing_until if isinstance(state, ClaimedFeed) else None
        now = clock()
        if isinstance(fetched, NotModified):
            await self._record_ok(state, now, developing_until, last_status=304)
            return PollOutcome(state.name, "not-modified")
        validators = {
            "etag": fetched.etag,
            "last_modified": fetched.last_modified,
            "last_status": fetched.status,
        }
        if fetched.body_hash == state.body_hash:  # same bytes as last time: do not parse them again
            await self._record_ok(state, now, developing_until, **validators)
            return PollOutcome(state.name, "unchanged")
        parsed = await self._parse(fetched, state.name)
        if parsed.warning:
            log.info("poll.lenient feed=%s warning=%s", state.name, parsed.warning)
        hold = await self._circuit_breaker(state, parsed, clock())
        results = await asyncio.to_thread(partial(self.ingestor.ingest_many, parsed.articles, clock, hold=hold))
        new = sum(r.status != "unchanged" for r in results)
        events = sum(len(r.events) for r in results)
        events += await self.fulltext.enrich(client, parsed.articles, results, clock, hold)
        now = clock()
        if await self._carries_developing(results):
            developing_until = developing_boost_until(now, m.developing_window)
        await self._record_ok(
            state,
            now,
            developing_until,
            body_hash=fetched.body_hash,
            items_seen=len(parsed.articles),
            articles_total=state.articles_total + new,
            **validators,
        )
        log.info("poll.ok feed=%s items=%d new=%d events=%d", state.name, len(parsed.articles), new, events)
        return PollOutcome(state.name, "changed", new, events)

    async def _circuit_breaker(self, state: FeedState, parsed: ParsedFeed, now: datetime) -> bool:
        """Hold this poll's alerts (and send one feed.anomaly) when most items suddenly look new."""
        guids = [a.guid for a in parsed.articles]
        known = await asyncio.to_thread(story_store.known_guids, self.db, state.name, guids)
        unseen = sum(g not in known for g in guids)
        if not looks_anomalous(state.items_seen, len(guids), unseen):
            return False
        await asyncio.to_thread(feed_events.anomaly, self.config, self.db, state, len(guids), unseen, now)
        return True

    async def _carries_developing(self, results: list[IngestResult]) -> bool:
        """Did an article of this poll add a version to an open, tracked developing story?"""
        ids = {r.story_id for r in results if r.status != "unchanged" and r.story_id}
        if not ids:
            return False
        return bool(await asyncio.to_thread(feed_state.developing_stories, self.db, ids))

    async def _record_ok(
        self, state: FeedState, now: datetime, developing_until: datetime | None, **values: object
    ) -> None:
        if state.failures:
            await asyncio.to_thread(feed_events.after_success, self.config, self.db, state, now)
        due = self._next(state, now, 0, None, developing_until)
        ok = {
            "status": "ok",
            "failures": 0,
            "last_error": None,
            "last_polled_at": now,
            "last_ok_at": now,
            "developing_until": developing_until,
            "next_poll_at": due,
        }
        await self._records.submit((state.name, {**ok, **values}))
