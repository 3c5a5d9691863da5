"""Poll feeds: fetch, skip what has not changed, parse off the event loop, ingest, record the outcome.

Every failure ends as a value on the feed's row (``failures``, ``last_error``, ``next_poll_at`` backed off),
never as a crash: one broken feed cannot stop the others. An unexpected exception (a bug) is logged with
its traceback and recorded the same way.

Politeness: at most ``poll_concurrency`` polls in flight, at most ``host_concurrency`` of them on
one host; the next poll honours ``Retry-After`` and backs off without ever giving up; a feed whose articles
land in an open, tracked developing story is polled faster for a while (``core.policy.adaptive_interval``).

CPU: a 304 or a body whose hash has not changed is never parsed; big bodies are parsed in a
worker process (feedparser is CPU-bound and holds the GIL: a thread would not use the second core).

Size: one poll ingests at most ``max_items_per_poll`` of a feed's unseen or changed items, the
newest first. While some wait, the feed's row keeps no body hash and no validators, so the next poll fetches
and reads the body again instead of taking it for seen (the parse itself is kept for the next poll of the
same bytes); a feed of 100,000 items is taken a slice per poll and cannot hold the poller for hours.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import random
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from urllib.parse import urlsplit

import httpx

from monitor.config import Config
from monitor.core.anomaly import looks_anomalous
from monitor.core.model import Article
from monitor.core.policy import adaptive_interval, developing_boost_until, next_poll
from monitor.core.states import FeedStatus, IngestStatus, PollResult
from monitor.errors import FeedParseError, MonitorError
from monitor.service import feed_events, metrics, prepared_parse
from monitor.service.coalesce import Coalescer
from monitor.service.enrich import FullText
from monitor.service.ingest import BATCH, Ingestor, IngestResult
from monitor.sources.feeds import Fetched, NotModified, ParsedFeed, fetch_feed, in_publication_order, parse_feed
from monitor.store import feed_state
from monitor.store import stories as story_store
from monitor.store.db import Database
from monitor.store.feed_state import ClaimedFeed
from monitor.store.records import FeedState
from monitor.store.values import FeedValues

log = logging.getLogger("monitor.poll")
# Below this size feedparser takes a few ms: shipping the bytes to a worker and the articles back costs
# about as much as parsing them here (bench/bench_feeds.py).
POOL_MIN_BYTES = 32 * 1024
KEEP_PARSES = 2  # parses kept for feeds with items still waiting (one of 100,000 items is ~50 MB)


@dataclass(frozen=True)
class PollOutcome:
    feed: str
    result: PollResult
    new_articles: int = 0
    events: int = 0
    error: str | None = None
    skipped: int = 0  # feed entries not taken (no title or text, unreadable), see ParsedFeed.skipped


def pick_items(articles: Sequence[Article], known: dict[str, str], cap: int) -> tuple[list[Article], int]:
    """The items to ingest this poll: unseen or changed ones (``known``: guid -> stored content hash), at
    most ``cap``, the newest first (undated ones after the dated, in feed order); and how many wait."""
    pending = [i for i, a in enumerate(articles) if known.get(a.guid) != a.content_hash]
    if len(pending) <= cap:
        return [articles[i] for i in pending], 0

    def newest_first(i: int) -> tuple[bool, float, int]:
        when = articles[i].published
        return (when is None, -when.timestamp() if when else 0.0, i)

    chosen = sorted(sorted(pending, key=newest_first)[:cap])  # then back in feed order
    return [articles[i] for i in chosen], len(pending) - cap


def host_key(url: str) -> str:
    """What the per-host limit counts: scheme-less host and port (one publisher's server)."""
    parts = urlsplit(url)
    return f"{(parts.hostname or '').lower()}:{parts.port or ''}"


def _log_parse(feed: str, parsed: ParsedFeed) -> None:
    if parsed.warning:
        log.info("poll.lenient feed=%s warning=%s", feed, parsed.warning)
    for reason, count in parsed.skipped:  # never silent: an entry we drop is counted and named
        log.warning("poll.items_skipped feed=%s count=%d reason=%s", feed, count, reason)
    for change, count in parsed.changed:
        log.warning("poll.items_changed feed=%s count=%d change=%s", feed, count, change)


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
        self._parses: OrderedDict[str, tuple[str, ParsedFeed]] = OrderedDict()  # feed -> (body hash, parse)
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
        # One rule for the table, the metrics and the event: "failing" from the failure that sends
        # feed.failing (monitor.feed_failing_after), "retrying" before it.
        failing_after = self.config.monitor.feed_failing_after
        failing: FeedValues = {
            "status": FeedStatus.FAILING if failures >= failing_after else FeedStatus.RETRYING,
            "failures": failures,
            "last_error": message,
            "last_status": status,
            "last_polled_at": now,
            "next_poll_at": self._next(state, now, failures, retry_after),
        }
        await self._records.submit((state.name, failing))
        await asyncio.to_thread(feed_events.after_failure, self.config, self.db, state, failures, message, now)
        return PollOutcome(state.name, PollResult.ERROR, error=message)

    async def _parse(self, fetched: Fetched, name: str) -> ParsedFeed:
        kept = self._parses.get(name)
        if kept is not None and kept[0] == fetched.body_hash:  # the same bytes, items still waiting
            return kept[1]
        parse = partial(parse_feed, fetched.body, feed_name=name, url=fetched.url, content_type=fetched.content_type)
        pool = self._pool() if len(fetched.body) >= POOL_MIN_BYTES else None
        try:
            if pool is not None:  # the worker also works out the items' text, off the ingest lock
                work = partial(prepared_parse.parse_prepared, parse)
                return prepared_parse.take(await asyncio.get_running_loop().run_in_executor(pool, work))
            return await asyncio.get_running_loop().run_in_executor(pool, parse)
        except BrokenProcessPool as e:
            # A worker died (killed for memory, a crash in C code): this poll of this feed is lost, and every
            # later parse gets a fresh pool instead of a BrokenProcessPool until restart. Parses of
            # other feeds that were in the same pool at that moment lose their poll too: which one killed the
            # worker cannot be told, and trying them all again could kill the next pool as well.
            self._drop_broken_pool(pool)
            raise FeedParseError(
                f"feed {name!r}", f"the parse worker process died ({len(fetched.body):,} bytes); pool restarted"
            ) from e

    def _drop_broken_pool(self, pool: Executor | None) -> None:
        if pool is None or pool is not self._executor:
            return  # another poll already replaced it
        log.warning("poll.pool_broken restarting the parse worker processes")
        pool.shutdown(wait=False, cancel_futures=True)
        self._executor, self._own_executor = None, True  # _pool() builds our own on the next big body

    async def _poll(self, client: httpx.AsyncClient, state: FeedState, clock: Callable[[], datetime]) -> PollOutcome:
        m = self.config.monitor
        fence = (state.name, clock(), state.interval_s, m.feed_lease)
        if not await self._fences.submit(fence):  # our lease ran out while queued and another instance took it
            log.info("poll.skipped feed=%s reason=lease-lost", state.name)
            return PollOutcome(state.name, PollResult.SKIPPED)
        fetched = await fetch_feed(
            client,
            state.url,
            where=f"feed {state.name!r}",
            etag=state.etag,
            last_modified=state.last_modified,
            max_bytes=m.max_feed_bytes,
            deadline=m.fetch_timeout * 3,
            allow_private=m.allow_private_addresses,
        )
        developing_until = state.developing_until if isinstance(state, ClaimedFeed) else None
        now = clock()
        if isinstance(fetched, NotModified):
            await self._record_ok(state, now, developing_until, {"last_status": 304})
            return PollOutcome(state.name, PollResult.NOT_MODIFIED)
        validators: FeedValues = {
            "etag": fetched.etag,
            "last_modified": fetched.last_modified,
            "last_status": fetched.status,
        }
        if fetched.body_hash == state.body_hash:  # same bytes as last time: do not parse them again
            await self._record_ok(state, now, developing_until, validators)
            return PollOutcome(state.name, PollResult.UNCHANGED)
        return await self._read(client, state, fetched, validators, developing_until, clock)

    async def _read(
        self, client: httpx.AsyncClient, state: FeedState, fetched: Fetched, validators: FeedValues,
        developing_until: datetime | None, clock: Callable[[], datetime],
    ) -> PollOutcome:  # fmt: skip
        """New bytes: parse them, ingest the unseen or changed items (a slice at a time), record the poll."""
        m = self.config.monitor
        parsed = await self._parse(fetched, state.name)
        _log_parse(state.name, parsed)
        guids = [a.guid for a in parsed.articles]
        known = await asyncio.to_thread(story_store.latest_hashes, self.db, state.name, guids)
        # Items that waited in the last poll were seen then, only not ingested: they are not "suddenly new".
        kept = self._parses.get(state.name)
        waited = {a.guid for a in kept[1].articles} if kept else set()
        hold = await self._circuit_breaker(state, guids, known.keys() | waited, clock())
        picked, waiting = pick_items(parsed.articles, known, m.max_items_per_poll)
        ordered = list(in_publication_order(picked))  # oldest first: each version follows its predecessor
        batch, results = await self._ingest_each(state.name, ordered, clock, hold)
        waiting += len(picked) - len(batch)  # an item that failed to store is tried again next poll
        new = sum(r.status != IngestStatus.UNCHANGED for r in results)
        events = sum(len(r.events) for r in results)
        events += await self.fulltext.enrich(client, batch, results, clock, hold)
        now = clock()
        if await self._carries_developing(results):
            developing_until = developing_boost_until(now, m.developing_window)
        body_hash: str | None = fetched.body_hash
        self._parses.pop(state.name, None)
        if waiting:  # not all read: the next poll must fetch and read these bytes again, not skip them
            log.info("poll.backlog feed=%s ingested=%d waiting=%d", state.name, len(batch), waiting)
            body_hash, validators["etag"], validators["last_modified"] = None, None, None
            self._parses[state.name] = (fetched.body_hash, parsed)
            while len(self._parses) > KEEP_PARSES:
                self._parses.popitem(last=False)
        seen: FeedValues = {"body_hash": body_hash, "items_seen": len(parsed.articles)}
        await self._record_ok(
            state, now, developing_until, {**seen, "articles_total": state.articles_total + new, **validators}
        )
        skipped = parsed.skipped_count
        log.info("poll.ok feed=%s items=%d new=%d events=%d items_skipped=%d", state.name, len(parsed.articles), new,
                 events, skipped)  # fmt: skip
        return PollOutcome(state.name, PollResult.CHANGED, new, events, skipped=skipped)

    async def _ingest_each(
        self, feed: str, articles: list[Article], clock: Callable[[], datetime], hold: bool
    ) -> tuple[list[Article], list[IngestResult]]:
        """Ingest a poll's items ``ingest.BATCH`` to a transaction (``Ingestor.ingest_many``: one lock and one
        commit per batch, the event loop free meanwhile). A batch that cannot be stored is taken one item at a
        time, so one item that fails to store does not sink the rest; when every item fails (the
        database is down), the poll fails as a whole."""
        taken: list[Article] = []
        results: list[IngestResult] = []
        last_error: Exception | None = None
        defer = self.fulltext.defer
        for start in range(0, len(articles), BATCH):
            chunk = articles[start : start + BATCH]
            try:
                many = partial(self.ingestor.ingest_many, chunk, clock, hold=hold, defer=defer, one_by_one=False)
                results += await asyncio.to_thread(many)
                taken += chunk
                continue
            except Exception:  # one of them cannot be stored: one at a time, so it costs only itself
                log.info("poll.batch_failed feed=%s items=%d: one at a time", feed, len(chunk))
            for article in chunk:
                try:
                    one = partial(self.ingestor.ingest, article, clock(), hold=hold, defer=defer(article))
                    results.append(await asyncio.to_thread(one))
                except Exception as e:  # logged with its traceback; the item waits for the next poll
                    log.exception("poll.item_failed feed=%s guid=%s", feed, article.guid)
                    last_error = e
                    continue
                taken.append(article)
        if last_error is not None and not taken:
            raise last_error
        return taken, results

    async def _circuit_breaker(self, state: FeedState, guids: list[str], known: set[str], now: datetime) -> bool:
        """Hold this poll's alerts (and send one feed.anomaly) when most items suddenly look new."""
        unseen = sum(g not in known for g in guids)
        if not looks_anomalous(state.items_seen, len(guids), unseen):
            return False
        await asyncio.to_thread(feed_events.anomaly, self.config, self.db, state, len(guids), unseen, now)
        return True

    async def _carries_developing(self, results: list[IngestResult]) -> bool:
        """Did an article of this poll add a version to an open, tracked developing story?"""
        ids = {r.story_id for r in results if r.status != IngestStatus.UNCHANGED and r.story_id}
        if not ids:
            return False
        return bool(await asyncio.to_thread(feed_state.developing_stories, self.db, ids))

    async def _record_ok(
        self, state: FeedState, now: datetime, developing_until: datetime | None, values: FeedValues
    ) -> None:
        if state.failures:
            await asyncio.to_thread(feed_events.after_success, self.config, self.db, state, now)
        due = self._next(state, now, 0, None, developing_until)
        ok: FeedValues = {
            "status": FeedStatus.OK,
            "failures": 0,
            "last_error": None,
            "last_polled_at": now,
            "last_ok_at": now,
            "developing_until": developing_until,
            "next_poll_at": due,
        }
        await self._records.submit((state.name, {**ok, **values}))
