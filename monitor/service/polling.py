"""Poll feeds: fetch, skip what has not changed, parse off the event loop, ingest, record the outcome.

Every failure ends as a value on the feed's row (``failures``, ``last_error``, ``next_poll_at`` backed off),
never as a crash: one broken feed cannot stop the others. An unexpected exception (a bug) is logged with
its traceback and recorded the same way.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial

import httpx

from monitor.config import Config
from monitor.core.policy import next_poll
from monitor.errors import MonitorError
from monitor.service.ingest import Ingestor
from monitor.sources.feeds import NotModified, ParsedFeed, fetch_feed, parse_feed
from monitor.store import feed_state
from monitor.store.db import Database
from monitor.store.records import FeedState

log = logging.getLogger("monitor.poll")


@dataclass(frozen=True)
class PollOutcome:
    feed: str
    result: str  # changed | unchanged | not-modified | error
    new_articles: int = 0
    events: int = 0
    error: str | None = None


class Poller:
    def __init__(
        self, config: Config, db: Database, ingestor: Ingestor, owner: str, rng: random.Random | None = None,
        concurrency: int = 16,
    ) -> None:  # fmt: skip
        self.config, self.db, self.ingestor, self.owner = config, db, ingestor, owner
        self.rng = rng or random.Random()
        self._sem = asyncio.Semaphore(concurrency)

    def _next(self, state: FeedState, now: datetime, failures: int, retry_after: float | None = None) -> datetime:
        m = self.config.monitor
        return next_poll(now, state.interval_s, failures=failures, retry_after=retry_after,
                         max_backoff=m.max_backoff, jitter=m.jitter, rng=self.rng)  # fmt: skip

    async def poll_many(self, client: httpx.AsyncClient, states: list[FeedState], clock: Callable[[], datetime]) -> list[PollOutcome]:
        return list(await asyncio.gather(*(self.poll(client, s, clock) for s in states)))

    async def poll(self, client: httpx.AsyncClient, state: FeedState, clock: Callable[[], datetime]) -> PollOutcome:
        async with self._sem:
            try:
                return await self._poll(client, state, clock)
            except MonitorError as e:
                return await self._failed(state, clock(), e)
            except Exception as e:  # a bug: loud in the log, but the daemon and the other feeds go on
                log.exception("poll.bug feed=%s", state.name)
                return await self._failed(state, clock(), e)

    async def _failed(self, state: FeedState, now: datetime, error: Exception) -> PollOutcome:
        failures = state.failures + 1
        retry_after = getattr(error, "retry_after", None)
        message = str(error) if isinstance(error, MonitorError) else f"internal error: {type(error).__name__}: {error}"
        status = getattr(error, "status", None)
        log.warning("poll.failed feed=%s failures=%d error=%s", state.name, failures, message)
        await asyncio.to_thread(
            feed_state.record_poll, self.db, state.name, self.owner, status="failing", failures=failures,
            last_error=message, last_status=status, last_polled_at=now,
            next_poll_at=self._next(state, now, failures, retry_after),
        )  # fmt: skip
        return PollOutcome(state.name, "error", error=message)

    async def _poll(self, client: httpx.AsyncClient, state: FeedState, clock: Callable[[], datetime]) -> PollOutcome:
        m = self.config.monitor
        where = f"feed {state.name!r}"
        fetched = await fetch_feed(client, state.url, where=where, etag=state.etag, last_modified=state.last_modified,
                                   max_bytes=m.max_feed_bytes, deadline=m.fetch_timeout * 3)  # fmt: skip
        now = clock()
        ok = {"status": "ok", "failures": 0, "last_error": None, "last_polled_at": now, "last_ok_at": now,
              "next_poll_at": self._next(state, now, 0)}  # fmt: skip
        if isinstance(fetched, NotModified):
            await asyncio.to_thread(feed_state.record_poll, self.db, state.name, self.owner, last_status=304, **ok)
            return PollOutcome(state.name, "not-modified")
        validators = {"etag": fetched.etag, "last_modified": fetched.last_modified, "last_status": fetched.status}
        if fetched.body_hash == state.body_hash:  # same bytes as last time: do not parse them again
            await asyncio.to_thread(feed_state.record_poll, self.db, state.name, self.owner, **validators, **ok)
            return PollOutcome(state.name, "unchanged")
        loop = asyncio.get_running_loop()
        parse = partial(parse_feed, fetched.body, feed_name=state.name, url=fetched.url, content_type=fetched.content_type)
        parsed: ParsedFeed = await loop.run_in_executor(None, parse)
        if parsed.warning:
            log.info("poll.lenient feed=%s warning=%s", state.name, parsed.warning)
        new, events = 0, 0
        for article in parsed.articles:
            result = await asyncio.to_thread(self.ingestor.ingest, article, clock())
            new += result.status != "unchanged"
            events += len(result.events)
        await asyncio.to_thread(
            feed_state.record_poll, self.db, state.name, self.owner, body_hash=fetched.body_hash,
            items_seen=len(parsed.articles), articles_total=state.articles_total + new, **validators, **ok,
        )  # fmt: skip
        log.info("poll.ok feed=%s items=%d new=%d events=%d", state.name, len(parsed.articles), new, events)
        return PollOutcome(state.name, "changed", new, events)

