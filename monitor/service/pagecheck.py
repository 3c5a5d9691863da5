"""The page-check job: re-fetch the pages of open, tracked developing stories and report what they add.

Each tick: start watching the new pages of live stories (``store.pages.sync_watched``), claim the due ones a
small batch at a time under a lease, and check each: the fence (the lease still ours, the next check moved
one interval on), a conditional GET through the feeds' client and guards, and, only for new bytes, the
main text. A page whose article gained paragraphs never seen in its story becomes a new version through the
ordinary ingest (one code path for matching, novelty and the outbox), as the item ``page:<url>`` of the
pseudo-source ``page``; anything else (a 304, the same bytes, churn around the article) only moves the
schedule. Failures are values on the page's row (backed off, shown by ``news-monitor pages``); a 410, or a
404 twice in a row, ends the watch with one ``story.page_gone``.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

import httpx

from monitor.alerts import events
from monitor.config import Config
from monitor.core import pagecheck as decide
from monitor.core.decide import decide_page_gone
from monitor.core.model import Article
from monitor.core.novelty import KnownText, compute_novelty
from monitor.core.states import IngestStatus, PageResult, PageStatus
from monitor.errors import FetchError, MonitorError
from monitor.service import metrics
from monitor.service.coalesce import Coalescer
from monitor.service.ingest import Ingestor
from monitor.service.versions import Rules
from monitor.sources.fetch import NotModified
from monitor.sources.pages import PageView, fetch_page, read_page
from monitor.store import pages as page_store
from monitor.store import stories as story_store
from monitor.store.db import Database
from monitor.store.pages import PageState
from monitor.store.values import PageValues, story_values

log = logging.getLogger("monitor.pages")
PAGE_SOURCE = "page"  # the source name of articles read from watched pages


@dataclass(frozen=True)
class PageOutcome:
    page_id: int
    url: str
    result: PageResult
    events: int = 0
    error: str | None = None


def _nothing_new(page: PageState) -> PageOutcome:
    """New bytes without news: churn around the article (or the first read of a page, unchanged)."""
    return PageOutcome(page.id, page.url, PageResult.CHURN if page.body_hash else PageResult.UNCHANGED)


class PageChecker:
    def __init__(
        self,
        config: Config,
        db: Database,
        ingestor: Ingestor,
        owner: str,
        host: Callable[[str], asyncio.Semaphore],
        rng: random.Random | None = None,
    ) -> None:
        self.config, self.db, self.ingestor, self.owner = config, db, ingestor, owner
        self._host = host  # the poller's per-host limits: one publisher's feeds and pages share them
        self.rng = rng or random.Random()
        self._sem = asyncio.Semaphore(config.monitor.poll_concurrency)
        self._fences = Coalescer(partial(page_store.mark_checking_many, db, owner))
        self._records = Coalescer(partial(page_store.record_checks, db, owner))

    async def check_due(self, client: httpx.AsyncClient, clock: Callable[[], datetime]) -> list[PageOutcome]:
        """Check every page that is due, a batch at a time (as feeds: a page claimed with hundreds of others
        could wait past its lease)."""
        m = self.config.monitor
        if not m.page_checks:
            return []
        await asyncio.to_thread(page_store.sync_watched, self.db, clock(), m.page_check_min)
        batch = 2 * m.poll_concurrency
        outcomes: list[PageOutcome] = []
        while True:
            claim = partial(page_store.claim_due_pages, self.db, clock(), self.owner, m.feed_lease, batch)
            pages = await asyncio.to_thread(claim)
            outcomes += await asyncio.gather(*(self.check(client, p, clock) for p in pages))
            if len(pages) < batch:
                return outcomes

    async def check(self, client: httpx.AsyncClient, page: PageState, clock: Callable[[], datetime]) -> PageOutcome:
        async with self._host(page.url), self._sem:
            started = time.monotonic()
            try:
                outcome = await self._check(client, page, clock)
            except MonitorError as e:
                outcome = await self._failed(page, clock(), e)
            except Exception as e:  # a bug: loud in the log, but the job and the other pages go on
                log.exception("page.bug url=%s", page.url)
                outcome = await self._failed(page, clock(), e)
            metrics.record_page_check(outcome.result, time.monotonic() - started)
            return outcome

    def _schedule(self, now: datetime, interval: float, changed: bool, failures: int) -> decide.PageSchedule:
        m = self.config.monitor
        jitter = self.rng.uniform(-m.jitter, m.jitter) if m.jitter > 0 else 0.0
        return decide.next_page_check(
            now, interval, changed, failures, jitter, min_interval=m.page_check_min, max_interval=m.page_check_max
        )

    async def _check(self, client: httpx.AsyncClient, page: PageState, clock: Callable[[], datetime]) -> PageOutcome:
        m = self.config.monitor
        fence = (page.id, clock(), float(page.interval_s or m.page_check_min), m.feed_lease)
        if not await self._fences.submit(fence):  # our lease ran out while queued and another instance took it
            return PageOutcome(page.id, page.url, PageResult.SKIPPED)
        fetched = await fetch_page(
            client,
            page.url,
            where=f"page {page.url}",
            etag=page.etag,
            last_modified=page.last_modified,
            allow_private=m.allow_private_addresses,
            deadline=m.fetch_timeout,
        )
        now = clock()
        if isinstance(fetched, NotModified):
            await self._record(page, now, False, {"last_status": 304})
            return PageOutcome(page.id, page.url, PageResult.NOT_MODIFIED)
        seen: PageValues = {"etag": fetched.etag, "last_modified": fetched.last_modified}
        seen["last_status"] = fetched.status
        seen["final_url"] = fetched.url if fetched.url != page.url else None
        if fetched.body_hash == page.body_hash:  # the same bytes: nothing to read again
            await self._record(page, now, False, seen)
            return PageOutcome(page.id, page.url, PageResult.UNCHANGED)
        view = await asyncio.get_running_loop().run_in_executor(None, read_page, fetched.body, fetched.url)
        await self._follow_canonical(page, view, now)
        outcome, values = await self._read(page, view, clock)
        values |= {**seen, "body_hash": fetched.body_hash}
        await self._record(page, clock(), outcome.result == PageResult.CHANGED, values)
        return outcome

    async def _read(
        self, page: PageState, view: PageView, clock: Callable[[], datetime]
    ) -> tuple[PageOutcome, PageValues]:
        """Decide on a page's new text; ingest it when its article gained something. Returns the outcome and
        the row's new baseline (paragraph fingerprints, live-post keys)."""
        posts = view.live_posts
        text = decide.live_text(posts) if posts else (view.text or "")
        # Paragraphs new to this page (its row keeps the fingerprints of its last text); whether they are new
        # to the story is novelty's question below, asked of the story's incremental known text: reading
        # every version again on each check would cost more the longer the story runs.
        change = decide.page_change(page.paragraphs, text)
        baseline: PageValues = {
            "paragraphs": list(dict.fromkeys(change.fingerprints)),
            "posts": [p.key for p in posts] or page.posts,
            "content_hash": hashlib.sha256("\n".join(change.fingerprints).encode()).hexdigest()[:32],
        }
        if not change.material:
            return _nothing_new(page), baseline
        clean = "\n\n".join(decide.article_paragraphs(text))
        title = view.title or page.story_title or page.url
        candidates = decide.new_live_posts(page.posts, posts)

        def news(known: KnownText) -> tuple[bool, list[decide.LivePost]]:
            if not compute_novelty(known, title, clean).added:
                return False, []
            return True, [p for p in candidates if any(s for s in known.unseen("", p.text))]  # "": no title

        adds, fresh = await asyncio.to_thread(self.ingestor.with_known, page.story_id, news)
        if not adds:
            return _nothing_new(page), baseline
        article = Article(
            source=PAGE_SOURCE,
            guid=f"page:{page.url}",
            title=title,
            text=clean,
            url=page.url,
            outlet=page.outlet,
            html_markers=view.markers,
            page={"via": "page", "live_posts": [{"text": p.text, "time": p.time} for p in fresh]},
        )
        result = await asyncio.to_thread(partial(self.ingestor.ingest, article, clock()))
        if result.status == IngestStatus.UNCHANGED:
            return PageOutcome(page.id, page.url, PageResult.UNCHANGED), baseline
        log.info("page.changed url=%s story=%s added=%d events=%d", page.url, page.story_id, len(change.added),
                 len(result.events))  # fmt: skip
        return PageOutcome(page.id, page.url, PageResult.CHANGED, len(result.events)), baseline

    async def _follow_canonical(self, page: PageState, view: PageView, now: datetime) -> None:
        canonical = view.canonical
        if canonical and canonical not in (page.url, view.url):
            due = self._schedule(now, 0, False, 0).next_at
            add = partial(page_store.add_page, self.db, page.story_id, canonical, page.outlet, now, due)
            if await asyncio.to_thread(add):
                log.info("page.canonical url=%s canonical=%s", page.url, canonical)

    async def _record(self, page: PageState, now: datetime, changed: bool, values: PageValues) -> None:
        schedule = self._schedule(now, float(page.interval_s), changed, 0)
        row: PageValues = {
            "interval_s": int(schedule.interval),
            "next_check_at": schedule.next_at,
            "last_checked_at": now,
            "checks": page.checks + 1,
            "failures": 0,
            "last_error": None,
            **values,
        }
        if changed:
            row |= {"changes": page.changes + 1, "last_change_at": now}
        await self._records.submit((page.id, row))

    async def _failed(self, page: PageState, now: datetime, error: Exception) -> PageOutcome:
        status = error.status if isinstance(error, FetchError) else None
        message = str(error) if isinstance(error, MonitorError) else f"internal error: {type(error).__name__}: {error}"
        failures = page.failures + 1
        values: PageValues = {
            "failures": failures,
            "last_error": message,
            "last_status": status,
            "last_checked_at": now,
            "checks": page.checks + 1,
        }
        log.warning("page.failed url=%s failures=%d error=%s", page.url, failures, message)
        in_a_row_404 = 2 if status == 404 and page.last_status == 404 else 1
        if decide.page_gone(status, in_a_row_404):
            await asyncio.to_thread(self._end_watch, page, PageStatus.GONE, now, values)
            return PageOutcome(page.id, page.url, PageResult.GONE, 1, message)
        if failures >= decide.GIVE_UP_AFTER:
            await asyncio.to_thread(self._end_watch, page, PageStatus.FAILED, now, values)
            return PageOutcome(page.id, page.url, PageResult.FAILED, 0, message)
        schedule = self._schedule(now, float(page.interval_s), False, failures)
        retry_after = error.retry_after if isinstance(error, FetchError) else None
        due = max(schedule.next_at, now + timedelta(seconds=retry_after)) if retry_after else schedule.next_at
        await self._records.submit((page.id, {**values, "next_check_at": due}))
        return PageOutcome(page.id, page.url, PageResult.ERROR, 0, message)

    def _end_watch(self, page: PageState, status: PageStatus, now: datetime, values: PageValues) -> None:
        """End the page's watch; a gone page's ``story.page_gone`` (decided by ``core.decide``, for the
        receivers of the story's watchlists) is written in the same transaction, by the first instance only."""
        with story_store.ingest_transaction(self.db) as tx:
            if not page_store.end_watch(tx, page, status, values) or status != PageStatus.GONE:
                return
            story = tx.lock_story(page.story_id)
            if story is None:
                return
            decision = decide_page_gone(story.state(), now, events.new_event_id())
            event = decision.event
            gone = {"url": page.url, "final_url": page.final_url, "status": values.get("last_status")}
            body = events.page_gone_payload(event, decision.story, gone)
            tx.add_event(event, body, events.story_receivers(Rules.of(self.config).by_name, event.hits))
            tx.update_story(story.id, **story_values(decision.story))
        log.warning("story.page_gone story=%s url=%s", story.id, page.url)
