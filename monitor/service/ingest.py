"""One article in, one story decision out: the ingest lock, batches, and which story an article is about.

The order inside one ingest transaction:
 1. an item we already hold with the same content is skipped (a re-poll writes nothing);
 2. the story: same item (source + GUID) > same URL > same content > the matcher's decision;
 3. the version: read what it adds, decide what to send (``core.decide``), write it all at once
    (``service.versions``); the store's ingest lock makes this safe across instances;
 4. the in-memory indexes (match index, ``KnownCache``) learn the article only after the commit.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

from monitor.config import Config
from monitor.core.decide import NewEvent
from monitor.core.match import Matcher, MatchInput, MatchSettings
from monitor.core.model import Article, Novelty
from monitor.core.novelty import KnownText
from monitor.core.states import IngestStatus, StoryStatus
from monitor.service import metrics
from monitor.service.known_cache import KnownCache
from monitor.service.versions import Arrival, Learnt, Rules, add_version
from monitor.store import stories as story_store
from monitor.store.db import Database
from monitor.store.records import ArticleRecord, StoryRecord

log = logging.getLogger("monitor.ingest")
# Articles of one poll decided in one transaction: one BEGIN/COMMIT and catch-up for these many instead of
# one each, while another instance waits for the ingest lock at most this many decisions (~0.1 s).
BATCH = 16


@dataclass(frozen=True)
class IngestResult:
    status: IngestStatus
    story_id: str | None = None
    seq: int | None = None
    events: tuple[str, ...] = ()
    novelty: Novelty | None = None
    match: dict[str, Any] = field(default_factory=dict)
    tracked: bool = False  # the story is a tracked developing story (after this article)


def new_story_id() -> str:
    return f"st_{uuid.uuid4().hex[:20]}"


T = TypeVar("T")


class Ingestor:
    """Holds the match index; ``ingest`` is thread-safe (one decision at a time in this process)."""

    def __init__(self, config: Config, db: Database) -> None:
        self.db = db
        self.config = config
        self.rules = Rules.of(config)
        # The daemon's matcher is the backtest's: default settings, with the configured time window.
        base, weights = MatchSettings(), config.monitor.match_weights
        if weights:  # checked when the config loaded
            from monitor.service.fit import load_settings

            base = load_settings(weights)
        self.matcher = Matcher(replace(base, window_days=config.monitor.match_window / 86400))
        self._window = timedelta(seconds=config.monitor.match_window)
        self._high_water = 0
        self._lock = threading.Lock()
        self.known = KnownCache()  # what each story holds, for novelty (kept in step with story_sentences)

    def reconfigure(self, config: Config) -> None:
        with self._lock:
            self.config = config
            self.rules = Rules.of(config)

    def _learn(self, rec: ArticleRecord) -> None:
        self.matcher.add(rec.story_id, self._input(rec.guid, rec.title, rec.text, rec.fetched_at, rec.url, rec.source))
        self._high_water = max(self._high_water, rec.id)

    @staticmethod
    def _input(key: str, title: str, text: str, seen: datetime, url: str | None, source: str) -> MatchInput:
        # The time window runs on when we *saw* an article: publishers' dates are often missing or wrong,
        # and what matters to a live tracker is that an update arrives within days of the last one.
        return MatchInput(key=key, title=title, text=text, published=seen, url=url, source=source)

    def catch_up(self, now: datetime) -> int:
        """Teach the index the articles stored since we last looked (by us or another instance), outside
        any lock. A warm-up only: the bulk (the whole match window at start-up) is read here so that the
        catch-up under the ingest lock (``ingest``) has just the last few articles to learn."""
        since = None if self._high_water else now - self._window
        recs = story_store.articles_after(self.db, self._high_water, since)
        for rec in recs:
            self._learn(rec)
        return len(recs)

    def _catch_up_locked(self, tx: story_store.IngestTx) -> int:
        """The authoritative catch-up, inside the ingest transaction: an article another instance committed
        after ``catch_up`` read (and before we got the lock) would otherwise be missed by the matcher, and
        its story opened a second time (two instances racing on one story's articles)."""
        recs = tx.articles_after(self._high_water)
        for rec in recs:
            self._learn(rec)
        return len(recs)

    def ingest(
        self, article: Article, now: datetime, *, hold: bool = False, defer: float = 0.0, fold: bool = False
    ) -> IngestResult:
        """Decide and store one article; ``hold`` writes its events as held (the feed circuit breaker).

        First sighting is one alert (docs/pages.md): ``defer`` holds a ``story.opened`` back this many seconds
        while the article's page is fetched, and ``fold`` merges the full text's ``story.updated`` into that
        unsent ``story.opened`` instead of sending both in the same second."""
        with self._lock:
            self.catch_up(now)
            with story_store.ingest_transaction(self.db) as tx:
                self._catch_up_locked(tx)
                result, learned = self._decide_and_write(tx, article, now, hold, defer, fold)
            # Learned only after the commit: a rolled-back article must not be matched against.
            if learned is not None:
                self._learn(learned.article)
                self.known.learned(learned.article.story_id, learned.seq, article.title, learned.sentences)
            metrics.record_ingest(result.status)
            return result

    def with_known(self, story_id: str, read: Callable[[KnownText], T]) -> T:
        """``read`` what the story's versions hold (an empty ``KnownText`` for a story that is gone), as the
        next ingest would see it: under the ingest lock, from the cache kept in step with ``story_sentences``
        (``KnownCache``), so it costs the sentences of the versions it has not seen yet, not the story's size.
        ``read`` runs under the lock (the cache's entries are only touched there) and must not keep ``known``."""
        with self._lock, story_store.ingest_transaction(self.db) as tx:
            story = tx.lock_story(story_id)
            return read(self.known.current(tx, story) if story is not None else KnownText())

    def ingest_many(
        self,
        articles: Sequence[Article],
        clock: Callable[[], datetime],
        *,
        hold: bool = False,
        defer: Callable[[Article], float] | None = None,
        one_by_one: bool = True,
    ) -> list[IngestResult]:
        """``ingest`` for a poll's articles, ``BATCH`` to a transaction. Inside a batch each article sees the
        ones before it (the in-memory indexes learn them before the commit); if the batch fails they are
        rebuilt from the database and its articles ingested one by one, so a bad article costs only itself
        (and raises from ``ingest``, as it would have on its own). ``defer`` says, per article, how long its
        ``story.opened`` may wait for the page's full text (see ``ingest``). ``one_by_one=False`` raises when a
        batch fails instead, for a caller that goes one by one itself (the poller, which keeps the rest)."""
        results: list[IngestResult] = []
        wait = defer or (lambda _article: 0.0)
        for start in range(0, len(articles), BATCH):
            chunk = articles[start : start + BATCH]
            try:
                results += self._ingest_batch(chunk, clock, hold, wait)
            except Exception as e:
                if not one_by_one:
                    raise
                log.warning("ingest.batch_failed articles=%d error=%s: one by one", len(chunk), e)
                results += [self.ingest(a, clock(), hold=hold, defer=wait(a)) for a in chunk]
        return results

    def _ingest_batch(
        self, chunk: Sequence[Article], clock: Callable[[], datetime], hold: bool, defer: Callable[[Article], float]
    ) -> list[IngestResult]:
        with self._lock:
            self.catch_up(clock())
            results, taught = [], False
            try:
                with story_store.ingest_transaction(self.db) as tx:
                    self._catch_up_locked(tx)
                    for article in chunk:
                        result, learned = self._decide_and_write(tx, article, clock(), hold, defer(article))
                        if learned is not None:
                            taught = True
                            self._learn(learned.article)
                            self.known.learned(learned.article.story_id, learned.seq, article.title, learned.sentences)
                        results.append(result)
            except BaseException:
                if taught:
                    self._forget()
                raise
            for result in results:
                metrics.record_ingest(result.status)
            return results

    def _forget(self) -> None:
        """Drop what the in-memory indexes learnt (a batch rolled back): the next catch-up reads the match
        window again, and each story's known text is read again on its next version."""
        self.matcher = Matcher(self.matcher.settings)
        self._high_water = 0
        self.known = KnownCache(self.known.max_sentences)

    def _pick_story(
        self, article: Article, earlier: story_store.Earlier, now: datetime
    ) -> tuple[str | None, dict[str, Any]]:
        if earlier.item is not None:
            return earlier.item.story_id, {"signal": "same item", "source": article.source, "guid": article.guid}
        if article.url and earlier.url is not None:
            return earlier.url.story_id, {"signal": "same url", "url": article.url}
        if earlier.content is not None:
            return earlier.content.story_id, {"signal": "same content", "article": earlier.content.id}
        res = self.matcher.match(
            self._input(article.guid, article.title, article.text, now, article.url, article.source)
        )
        return res.story, {"signal": "matcher", "score": res.score, **res.reasons}

    def _decide_and_write(
        self,
        tx: story_store.IngestTx,
        article: Article,
        now: datetime,
        hold: bool = False,
        defer: float = 0.0,
        fold: bool = False,
    ) -> tuple[IngestResult, Learnt | None]:
        earlier = tx.earlier(article)
        prior = earlier.item
        if prior is not None and prior.content_hash == article.content_hash:
            return IngestResult(IngestStatus.UNCHANGED, prior.story_id), None
        if prior is None and (same := earlier.elsewhere) is not None:
            # The publisher regenerated GUIDs: an item of the same source with the same content.
            return IngestResult(IngestStatus.UNCHANGED, same.story_id), None
        story_id, match = self._pick_story(article, earlier, now)
        story = tx.lock_story(story_id) if story_id else None
        if story is not None and story.status == StoryStatus.CLOSED:
            match = {**match, "closed_story": story.id}  # a closed story stays closed: this starts a new one
            story = None
        new = story is None
        if story is None:  # written with its first version (``add_version``), in this transaction
            story = StoryRecord.opening(new_story_id(), article.title, article.url, now)
        arrival = Arrival(article, now, hold, defer, fold)
        written = add_version(tx, arrival, story, prior, match, self.known, self.rules, new_story=new)
        decision = written.decision
        status = IngestStatus.NEW_STORY if story.version_count == 0 else IngestStatus.NEW_VERSION
        sent = (decision.event.type,) if isinstance(decision.event, NewEvent) else ()
        result = IngestResult(status, story.id, decision.seq, sent, written.novelty, match, decision.story.tracked)
        return result, written.learnt
