"""Full text for tracked developing stories whose feed carries only a summary.

After a poll, an article that changed a tracked developing story and is short (a summary) gets its page
fetched (conditional GET, SSRF-guarded by ``sources.fulltext``) and its main text extracted. The full
text is ingested as a sibling item (``<guid>#fulltext``, same URL, so the same story): the summary item
stays what the feed says, so the two never replace each other as versions, and the full text's new
sentences reach the desk as an ordinary update. Page validators are remembered per URL, so an unchanged
page costs a 304. Every failure is logged and skipped: the summary is still there.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from functools import partial

import httpx

from monitor.config import Config
from monitor.core.model import Article
from monitor.errors import MonitorError
from monitor.service.ingest import Ingestor, IngestResult
from monitor.sources.clean import clean_article
from monitor.sources.feeds import NotModified
from monitor.sources.fulltext import extract_main_text, fetch_article_page, fulltext_available
from monitor.store import pages as page_store

log = logging.getLogger("monitor.fulltext")
SUMMARY_CHARS = 800  # shorter than this, a feed item is a summary rather than the article
MAX_REMEMBERED = 5000  # page validators kept (URLs); the oldest are forgotten first
PAGES_AT_ONCE = 4  # article pages of one poll fetched concurrently (one publisher: stay polite)


class FullText:
    def __init__(self, config: Config, ingestor: Ingestor) -> None:
        self.config = config
        self.ingestor = ingestor
        self._validators: dict[str, tuple[str | None, str | None]] = {}
        self.available, why = fulltext_available()
        if config.monitor.fulltext and not self.available:
            log.info("fulltext.off %s", why)

    def _summary(self, article: Article) -> bool:
        return (
            self.config.monitor.fulltext
            and self.available
            and article.url is not None
            and len(article.text) < SUMMARY_CHARS
            and not article.guid.endswith("#fulltext")
        )

    def wanted(self, article: Article, result: IngestResult) -> bool:
        return self._summary(article) and result.tracked and result.status != "unchanged"

    def defer(self, article: Article) -> float:
        """How long a ``story.opened`` this article may write waits for its page (first sighting is one
        alert: the full text joins the opened event). ``enrich`` sends it as soon as the fetch is over; the
        deferral only matters should the poll die in between."""
        return self.config.monitor.fetch_timeout * 1.5 if self._summary(article) else 0.0

    async def enrich(
        self,
        client: httpx.AsyncClient,
        articles: Sequence[Article],
        results: Sequence[IngestResult],
        clock: Callable[[], datetime],
        hold: bool = False,
    ) -> int:
        """Fetch and ingest full texts where wanted; returns how many events they produced.

        The pages are fetched at the same time, at most ``PAGES_AT_ONCE`` (the poll waits for them: one slow
        article host or resolver must not cost each of the poll's articles its full delay in turn)."""
        wanted = [a for a, r in zip(articles, results, strict=True) if self.wanted(a, r)]
        if not wanted:
            return 0
        limit = asyncio.Semaphore(PAGES_AT_ONCE)

        async def one(article: Article) -> int:
            async with limit:
                return await self._one(client, article, clock, hold)

        try:
            return sum(await asyncio.gather(*(one(a) for a in wanted)))
        finally:
            opened = [r.story_id for r in results if isinstance(r, IngestResult) and "story.opened" in r.events]
            if opened:
                ids = [i for i in opened if i]
                await asyncio.to_thread(page_store.send_opened_now, self.ingestor.db, ids, clock())

    async def _one(self, client: httpx.AsyncClient, article: Article, clock: Callable[[], datetime], hold: bool) -> int:
        assert article.url is not None
        etag, modified = self._validators.get(article.url, (None, None))
        try:
            page = await fetch_article_page(
                client,
                article.url,
                where=f"article page {article.url}",
                etag=etag,
                last_modified=modified,
                allow_private=self.config.monitor.allow_private_addresses,
                deadline=self.config.monitor.fetch_timeout,
            )
        except MonitorError as e:
            log.warning("fulltext.failed %s", e)
            return 0
        if isinstance(page, NotModified):
            return 0
        self._remember(article.url, page.etag, page.last_modified)
        text = await asyncio.get_running_loop().run_in_executor(None, extract_main_text, page.body, page.url)
        if not text or len(text) <= len(article.text):
            return 0
        full, _ = clean_article(replace(article, guid=article.guid + "#fulltext", text=text))
        result = await asyncio.to_thread(partial(self.ingestor.ingest, full, clock(), hold=hold, fold=True))
        log.info("fulltext.ok url=%s chars=%d events=%d", article.url, len(text), len(result.events))
        return len(result.events)

    def _remember(self, url: str, etag: str | None, modified: str | None) -> None:
        self._validators.pop(url, None)
        self._validators[url] = (etag, modified)
        while len(self._validators) > MAX_REMEMBERED:
            self._validators.pop(next(iter(self._validators)))
