"""One article in, one story decision out: which story, what is new, which events to write.

The order inside one ingest transaction:
 1. an item we already hold with the same content is skipped (a re-poll writes nothing);
 2. the story: same item (source + GUID) > same URL > same content > the matcher's decision;
 3. novelty against everything known of that story; developing markers; watchlist hits;
 4. article, version and outbox events are written together (the store's ingest lock makes this safe
    across instances); the in-memory match index learns the article only after the commit.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

from monitor.alerts import payload as payloads
from monitor.config import Config
from monitor.core.developing import developing_markers
from monitor.core.match import Matcher, MatchInput, MatchSettings
from monitor.core.model import Article, Novelty, WatchHit
from monitor.core.novelty import KnownText, is_material
from monitor.core.watchlist import Watchlist, check_all
from monitor.service import metrics, updates
from monitor.service.known_cache import KnownCache
from monitor.store import pages as page_store
from monitor.store import stories as story_store
from monitor.store.db import Database
from monitor.store.records import ArticleRecord, StoryRecord

log = logging.getLogger("monitor.ingest")
LOG_RECEIVER = "@log"  # pseudo-webhook: the event is written to the log as a JSON line
# Articles of one poll decided in one transaction: one BEGIN/COMMIT and catch-up for these many instead of
# one each, while another instance waits for the ingest lock at most this many decisions (~0.1 s).
BATCH = 16


@dataclass(frozen=True)
class IngestResult:
    status: str  # unchanged | new-story | new-version
    story_id: str | None = None
    seq: int | None = None
    events: tuple[str, ...] = ()
    novelty: Novelty | None = None
    match: dict[str, Any] = field(default_factory=dict)
    tracked: bool = False  # the story is a tracked developing story (after this article)


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:20]}"


def effective_watchlists(config: Config) -> tuple[Watchlist, ...]:
    """The configured watchlists; with none, one catch-all list that sends to every webhook (or the log)."""
    if config.watchlists:
        return config.watchlists
    hooks = tuple(w.name for w in config.webhooks)
    return (Watchlist.build(name="all", regex=(r"\w",), webhooks=hooks),)


def _merge_hits(stored: list[dict[str, Any]], new: tuple[WatchHit, ...]) -> tuple[WatchHit, ...]:
    merged: dict[str, dict[str, None]] = {h["name"]: dict.fromkeys(h.get("matched", [])) for h in stored}
    for hit in new:
        merged.setdefault(hit.name, {}).update(dict.fromkeys(hit.matched))
    return tuple(WatchHit(name, tuple(terms)) for name, terms in merged.items())


T = TypeVar("T")


class Ingestor:
    """Holds the match index; ``ingest`` is thread-safe (one decision at a time in this process)."""

    def __init__(self, config: Config, db: Database) -> None:
        self.db = db
        self.config = config
        self.watchlists = effective_watchlists(config)
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
            self.watchlists = effective_watchlists(config)

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
        its story opened a second time (issue 7)."""
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
        self, tx: story_store.IngestTx, article: Article, prior: ArticleRecord | None, now: datetime
    ) -> tuple[str | None, dict[str, Any]]:
        if prior is not None:
            return prior.story_id, {"signal": "same item", "source": article.source, "guid": article.guid}
        if article.url and (same := tx.with_url(article.url)) is not None:
            return same.story_id, {"signal": "same url", "url": article.url}
        if (dup := tx.with_content(article.content_hash)) is not None:
            return dup.story_id, {"signal": "same content", "article": dup.id}
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
    ) -> tuple[IngestResult, _Learnt | None]:
        prior = tx.latest_of_item(article.source, article.guid)
        if prior is not None and prior.content_hash == article.content_hash:
            return IngestResult("unchanged", prior.story_id), None
        if prior is None and (same := tx.same_item_elsewhere(article)) is not None:
            # The publisher regenerated GUIDs: same source, same canonical URL or same content.
            return IngestResult("unchanged", same.story_id), None
        story_id, match = self._pick_story(tx, article, prior, now)
        story = tx.lock_story(story_id) if story_id else None
        if story is not None and story.status == "closed":
            match = {**match, "closed_story": story.id}  # a closed story stays closed: this starts a new one
            story = None
        if story is None:
            story_id = new_id("st")
            tx.create_story(story_id, article.title, article.url, now)
            story = tx.lock_story(story_id)
            assert story is not None
        known = self.known.current(tx, story)
        novelty = updates.version_novelty(tx, story.id, article, prior, now, known)  # furniture out, changes in
        fresh = known.unseen(article.title, article.text)
        markers = developing_markers(article.title, article.text, article.html_markers)
        article_id = tx.insert_article(article, story.id, now, bool(markers))
        tx.insert_known_sentences(story.id, story.version_count + 1, fresh)
        events, tracked = self._write_version_and_events(
            tx, story, article, article_id, novelty, markers, match, now, hold, defer, fold
        )
        rec = ArticleRecord(
            article_id,
            article.source,
            article.guid,
            article.content_hash,
            article.url,
            article.title,
            article.text,
            article.outlet,
            article.published,
            now,
            story.id,
        )
        status = "new-story" if story.version_count == 0 else "new-version"
        seq = story.version_count + 1
        return IngestResult(status, story.id, seq, events, novelty, match, tracked), _Learnt(rec, seq, fresh)

    def _write_version_and_events(
        self,
        tx: story_store.IngestTx,
        story: StoryRecord,
        article: Article,
        article_id: int,
        novelty: Novelty,
        markers: tuple[str, ...],
        match: dict[str, Any],
        now: datetime,
        hold: bool = False,
        defer: float = 0.0,
        fold: bool = False,
    ) -> tuple[tuple[str, ...], bool]:
        """The version row, the event it calls for (if any), the story row; returns (events, tracked)."""
        all_markers = tuple(dict.fromkeys([*story.markers, *markers]))
        hits = _merge_hits(story.watchlists, check_all(self.watchlists, article.title, article.text, article.source))
        lists = {wl.name: wl for wl in self.watchlists}
        active = [h for h in hits if h.name in lists and (all_markers or not lists[h.name].developing_only)]
        material_for = [h for h in active if self._material(novelty, lists[h.name])]
        change = _Change(story, article, novelty, all_markers, match, story.version_count + 1, now)
        tx.insert_version(
            story.id,
            change.seq,
            article_id,
            now,
            added=list(novelty.added),
            facts=novelty.facts.as_dict(),
            headline_changed=novelty.headline_changed,
            material=bool(material_for),
            match=match,
        )
        kind, targets = None, []
        if active and not story.tracked:
            kind, targets = "story.opened", active
        elif active and story.tracked and material_for:
            kind, targets = "story.updated", material_for
        receivers = tuple(h for t in targets for h in (lists[t.name].webhooks or (LOG_RECEIVER,)))
        event_seq, last_event = story.event_seq, story.last_event_id
        if kind == "story.updated" and fold and not hold and self._fold(tx, change, tuple(targets), receivers):
            kind = None  # the full text joins the story.opened still waiting for it
        elif kind == "story.updated" and not hold and self._coalesce(tx, change, tuple(targets), receivers):
            kind = None  # folded into an event that is still waiting to be sent
        elif kind:
            event_seq += 1
            last_event = new_id("evt")
            body = change.payload(last_event, kind, event_seq, story.last_event_id, tuple(targets))
            delay = self.config.monitor.coalesce_window if kind == "story.updated" else defer
            send_at = now + timedelta(seconds=delay)
            tx.insert_event(last_event, kind, story.id, event_seq, now, body, receivers, send_at=send_at, held=hold)
            log.info("event %s %s story=%s seq=%d added=%d", kind, last_event, story.id, change.seq, len(novelty.added))
        tx.update_story(
            story.id,
            status="open",
            title=article.title,
            url=article.url or story.url,
            developing=bool(all_markers),
            markers=list(all_markers),
            tracked=story.tracked or bool(active),
            watchlists=[{"name": h.name, "matched": list(h.matched)} for h in hits],
            updated_at=now,
            last_published=article.published,
            version_count=change.seq,
            event_seq=event_seq,
            last_event_id=last_event,
        )
        return ((kind,) if kind else ()), story.tracked or bool(active)

    @staticmethod
    def _material(novelty: Novelty, wl: Watchlist) -> bool:
        return is_material(novelty, min_new_sentences=wl.min_new_sentences, min_new_facts=wl.min_new_facts)

    def _fold(
        self, tx: story_store.IngestTx, change: _Change, targets: tuple[WatchHit, ...], receivers: tuple[str, ...]
    ) -> bool:
        """Merge this update into the story's ``story.opened`` if no receiver has been sent it yet."""
        held = page_store.unsent_opened(tx.conn, change.story.id)
        if held is None:
            return False
        event_id, held_payload, known = held
        fresh = change.payload(event_id, "story.opened", held_payload["sequence"], None, targets)
        merged = {**payloads.merge_updates(held_payload, fresh), "type": "story.opened"}
        tx.merge_into_event(event_id, merged, tuple(h for h in receivers if h not in known), change.now)
        log.info("event story.opened carries the full text story=%s seq=%d", change.story.id, change.seq)
        return True

    def _coalesce(
        self, tx: story_store.IngestTx, change: _Change, targets: tuple[WatchHit, ...], receivers: tuple[str, ...]
    ) -> bool:
        """Fold this update into the story's unsent ``story.updated`` from within the coalescing window."""
        window = self.config.monitor.coalesce_window
        held = tx.unsent_update(change.story.id, change.now - timedelta(seconds=window)) if window > 0 else None
        if held is None:
            return False
        event_id, held_payload, known = held
        fresh = change.payload(
            event_id, "story.updated", held_payload["sequence"], held_payload["previous_event_id"], targets
        )
        merged = payloads.merge_updates(held_payload, fresh)
        send_at = change.now + timedelta(seconds=window)
        tx.merge_into_event(event_id, merged, tuple(h for h in receivers if h not in known), send_at)
        log.info("event story.updated coalesced into %s story=%s seq=%d", event_id, change.story.id, change.seq)
        return True


@dataclass(frozen=True)
class _Learnt:
    """What the in-memory indexes take in once the version is committed."""

    article: ArticleRecord  # for the match index
    seq: int  # the version's number in its story
    sentences: list[str]  # the sentences it brought to the story (``KnownCache.learned``)


@dataclass(frozen=True)
class _Change:
    """One version of one story, as the events about it describe it."""

    story: StoryRecord
    article: Article
    novelty: Novelty
    markers: tuple[str, ...]
    match: dict[str, Any]
    seq: int
    now: datetime

    def payload(
        self, event_id: str, kind: str, event_seq: int, previous: str | None, hits: tuple[WatchHit, ...]
    ) -> dict[str, Any]:
        ref = {
            "id": self.story.id,
            "title": self.article.title,
            "url": self.article.url or self.story.url,
            "status": "open",
            "developing": bool(self.markers),
        }
        return payloads.story_event(
            event_id=event_id,
            type_=kind,
            created_at=self.now,
            story=ref,
            event_seq=event_seq,
            previous_event_id=previous,
            version_seq=self.seq,
            article=self.article,
            novelty=self.novelty,
            hits=hits,
            match=self.match,
            markers=self.markers,
        )
