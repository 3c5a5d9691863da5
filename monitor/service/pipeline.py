"""The order of steps, in one place: sync config -> scan seeds -> poll feeds -> deliver the outbox.

``Pipeline`` owns the database handle, the match index (through ``Ingestor``), the poller and the
deliverer. The daemon calls its jobs on a clock; ``run_once`` runs each job once (``news-monitor once``).
Time comes from an injected ``clock``, so tests drive it without sleeping.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from asyncio import FIRST_COMPLETED
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from monitor.config import Config
from monitor.errors import MonitorError
from monitor.service.delivering import CLAIM_BATCH, Deliverer, DeliveryReport
from monitor.service.housekeeping import HousekeepingReport, run_housekeeping
from monitor.service.ingest import Ingestor, IngestResult
from monitor.service.pagecheck import PageChecker, PageOutcome
from monitor.service.polling import Poller, PollOutcome
from monitor.sources.feeds import build_client
from monitor.sources.seeds import scan_seeds
from monitor.store import feed_state, outbox
from monitor.store import pages as page_store
from monitor.store.db import Database

RECLAIM_EVERY = 1.0  # seconds between claims while a poll is in flight (a claim is one small query)

log = logging.getLogger("monitor.pipeline")


def utcnow() -> datetime:
    return datetime.now(UTC)


def instance_id() -> str:
    """Names this process in leases: host and pid, readable in ``feeds`` and the database."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


def gone_from_this_host(owner: str) -> bool:
    """True when ``owner`` (an ``instance_id``) was a process on this host that no longer exists.

    Only a certain death counts: another host, our own pid, a pid that is alive (even if reused by an
    unrelated process) or one we may not signal are all "not known dead", and their leases simply expire.
    """
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname()[:40] or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except OSError:  # PermissionError: it exists, as another user
        return False
    return False


@dataclass
class RunReport:
    seeds: list[IngestResult] = field(default_factory=list)
    seed_errors: list[str] = field(default_factory=list)
    polls: list[PollOutcome] = field(default_factory=list)
    pages: list[PageOutcome] = field(default_factory=list)
    deliveries: list[DeliveryReport] = field(default_factory=list)
    housekeeping: HousekeepingReport | None = None

    @property
    def events(self) -> int:
        polled = sum(p.events for p in self.polls) + sum(p.events for p in self.pages)
        return sum(len(r.events) for r in self.seeds) + polled


class Pipeline:
    def __init__(
        self,
        config: Config,
        db: Database,
        *,
        clock: Callable[[], datetime] = utcnow,
        owner: str | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.config = config
        self.db = db
        self.clock = clock
        self.owner = owner or instance_id()
        self.ingestor = Ingestor(config, db)
        self.poller = Poller(config, db, self.ingestor, self.owner)
        self.deliverer = Deliverer(config, db, self.owner)
        self.pages = PageChecker(config, db, self.ingestor, self.owner, self.poller._host)
        self._client = client
        self._own_client = client is None
        self.stop_claiming = False  # set on shutdown (daemon.request_stop)

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            m = self.config.monitor
            self._client = build_client(m.user_agent, m.fetch_timeout)
        return self._client

    def apply_config(self, config: Config) -> None:
        """Take a new (validated) config: feeds are synced without losing any polling state."""
        self.config = config
        self.ingestor.reconfigure(config)
        self.poller.config = config
        self.poller.fulltext.config = config
        self.pages.config = config
        self.deliverer.config = config
        self.sync_feeds()

    def recover_leases(self) -> list[str]:
        """Release the delivery leases of instances on this host that died without releasing them
        (SIGKILL, OOM kill, power loss). Otherwise a delivery such an instance was sending stays pending,
        and every later event of its story to that receiver waits behind it, until the lease runs out
        (``delivery_lease``, 2 minutes by default): long enough to look stuck for good."""
        dead = [owner for owner in outbox.lease_owners(self.db) if gone_from_this_host(owner)]
        for owner in dead:
            outbox.release(self.db, owner)
            log.warning("deliver.leases_recovered owner=%s (that process is gone)", owner)
        return dead

    def sync_feeds(self) -> None:
        active = [(f.name, f.url, f.interval) for f in self.config.feeds if f.enabled]
        feed_state.sync_feeds(self.db, active, self.clock())

    # --- jobs -------------------------------------------------------------------------------------------

    def scan_seeds(self) -> tuple[list[IngestResult], list[str]]:
        root = self.config.monitor.seeds_dir
        if root is None:
            return [], []
        scan = scan_seeds(root)
        for err in scan.errors:
            log.warning("seeds.error %s", err)
        results = []
        for article in scan.articles:
            try:
                results.append(self.ingestor.ingest(article, self.clock()))
            except MonitorError as e:
                log.error("seeds.ingest_failed file=%r error=%s", article.guid, e)
            except Exception:  # a bug: loud, with its traceback, but the other files are still ingested
                log.exception("seeds.bug file=%r", article.guid)
        changed = [r for r in results if r.status != "unchanged"]
        if changed:
            log.info("seeds.scan files=%d changed=%d", len(scan.articles), len(changed))
        return results, [str(e) for e in scan.errors]

    async def poll_due(self, *, every_feed: bool = False) -> list[PollOutcome]:
        """Poll the feeds that are due (``every_feed``: all active feeds, as ``once`` does).

        Due feeds are claimed a small window at a time, at most ``2 x poll_concurrency`` claimed and not yet
        polled: a feed claimed with hundreds of others could wait in the poller's queue past its lease, be
        claimed and polled by another instance meanwhile, and then polled here again (measured).
        Small claims also spread the feeds over all instances, which claim side by side (SKIP LOCKED).
        The window slides: while a slow poll is in flight (a 10 MB body in the parser), feeds that fall due
        are claimed again every ``RECLAIM_EVERY`` seconds, so one feed never holds back the others.
        """
        m = self.config.monitor
        if every_feed:
            states = await asyncio.to_thread(self._claim, 100_000, True)
            return await self.poller.poll_many(self.client, states, self.clock) if states else []
        window = 2 * m.poll_concurrency
        outcomes: list[PollOutcome] = []
        inflight: set[asyncio.Task[PollOutcome]] = set()
        try:
            while True:
                room = 0 if self.stop_claiming else window - len(inflight)
                states = await asyncio.to_thread(self._claim, room) if room > 0 else []
                inflight |= {asyncio.create_task(self.poller.poll(self.client, s, self.clock)) for s in states}
                if not inflight:
                    return outcomes
                done, inflight = await asyncio.wait(inflight, timeout=RECLAIM_EVERY, return_when=FIRST_COMPLETED)
                outcomes += [t.result() for t in done]
        finally:
            for task in inflight:  # cancelled (shutdown): no poll outlives its job
                task.cancel()
            await asyncio.gather(*inflight, return_exceptions=True)

    def _claim(self, limit: int, every_feed: bool = False) -> list[feed_state.ClaimedFeed]:
        m = self.config.monitor
        return feed_state.claim_due_feeds(self.db, self.clock(), self.owner, m.feed_lease, limit, every_feed=every_feed)

    async def check_pages(self) -> list[PageOutcome]:
        """Re-check the watched pages that are due (docs/pages.md)."""
        return await self.pages.check_due(self.client, self.clock)

    async def deliver(self) -> DeliveryReport:
        """Drain what is due: claim after claim while claims come back full, for at most one deliver
        interval (a backlog is not held to one batch per tick)."""
        loop = asyncio.get_running_loop()
        stop = loop.time() + self.config.monitor.deliver_interval
        report = await self.deliverer.deliver_due(self.client, self.clock)
        total = report
        while report.claimed >= CLAIM_BATCH and loop.time() < stop:
            report = await self.deliverer.deliver_due(self.client, self.clock)
            total += report
        return total

    async def flush_outbox(self, timeout: float) -> list[DeliveryReport]:
        """Deliver, and keep retrying deliveries that come due within ``timeout`` seconds."""
        reports = [await self.deliver()]
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            if reports[-1].claimed and asyncio.get_running_loop().time() < deadline:
                reports.append(await self.deliver())  # that pass found work: more may be due right now
                continue
            pending = await asyncio.to_thread(outbox.list_deliveries, self.db, ("pending",), 1000)
            if not pending:
                return reports
            # Events waiting behind an earlier one of their story look due but are not: wait for the
            # soonest retry in the future.
            now = self.clock()
            waits = [(d.next_attempt_at - now).total_seconds() for d in pending if d.next_attempt_at > now]
            wait = min(waits, default=0.05)
            if asyncio.get_running_loop().time() + wait > deadline:
                return reports
            await asyncio.sleep(max(wait, 0.05))
            reports.append(await self.deliver())

    def housekeeping(self) -> HousekeepingReport:
        return run_housekeeping(self.config, self.db, self.clock())

    async def run_once(self, *, flush_timeout: float = 30.0) -> RunReport:
        """One pass of every job: seeds, every feed, then the outbox (waiting for near retries)."""
        report = RunReport()
        await asyncio.to_thread(self.recover_leases)
        await asyncio.to_thread(self.sync_feeds)
        report.seeds, report.seed_errors = await asyncio.to_thread(self.scan_seeds)
        report.polls = await self.poll_due(every_feed=True)
        report.pages = await self.check_pages()
        report.housekeeping = await asyncio.to_thread(self.housekeeping)
        report.deliveries = await self.flush_outbox(flush_timeout)
        return report

    async def aclose(self) -> None:
        # Deliveries still in flight to slow receivers finish (within their deadline) before the client closes.
        await self.deliverer.drain(max((w.deadline for w in self.config.webhooks), default=0.0))
        if self._client is not None and self._own_client:
            await self._client.aclose()
            self._client = None  # a later event loop builds its own
        await asyncio.to_thread(self.poller.close)  # parse worker processes
        await asyncio.to_thread(feed_state.release_leases, self.db, self.owner)
        await asyncio.to_thread(page_store.release_leases, self.db, self.owner)
        await asyncio.to_thread(outbox.release, self.db, self.owner)
