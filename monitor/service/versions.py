"""A new version of a chosen story: read what the decision needs in one go, decide in core, write once.

Inside the ingest transaction (``service.ingest`` has chosen the story and holds the ingest lock):
 1. read: what the story holds (``KnownCache``), the version's novelty with furniture out
    (``service.updates``), and, for a tracked story, the events still waiting that it could join;
 2. decide: ``core.decide.decide_version`` (pure) says the version's number and materiality, the story's
    next row and the event (new, joined to a waiting one, or none);
 3. write: article, the sentences it brought, version, event (built by ``alerts.events``) and story row,
    in that order, all in the caller's transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from monitor.alerts import events
from monitor.config import Config
from monitor.core.decide import NewEvent, Pending, VersionDecision, VersionFacts, decide_version
from monitor.core.developing import developing_markers
from monitor.core.model import Article, Novelty
from monitor.core.watchlist import Watchlist
from monitor.service import updates
from monitor.service.known_cache import KnownCache
from monitor.store.records import ArticleRecord, StoryRecord
from monitor.store.stories import IngestTx
from monitor.store.values import story_values

log = logging.getLogger("monitor.ingest")


@dataclass(frozen=True)
class Arrival:
    """One article to ingest and how: ``hold`` (the feed circuit breaker) writes its events held; ``defer``
    lets a ``story.opened`` wait for the page's full text; ``fold`` merges the full text's update into that
    unsent ``story.opened`` (docs/pages.md: first sighting is one alert)."""

    article: Article
    now: datetime
    hold: bool = False
    defer: float = 0.0
    fold: bool = False


@dataclass(frozen=True)
class Rules:
    """What the decision takes from the config."""

    watchlists: tuple[Watchlist, ...]
    coalesce_window: float

    @classmethod
    def of(cls, config: Config) -> Rules:
        """With no watchlist configured, one catch-all list sends to every webhook (or the log)."""
        hooks = tuple(w.name for w in config.webhooks)
        return cls(events.effective_watchlists(config.watchlists, hooks), config.monitor.coalesce_window)

    @property
    def by_name(self) -> dict[str, Watchlist]:
        return {wl.name: wl for wl in self.watchlists}


@dataclass(frozen=True)
class Learnt:
    """What the in-memory indexes take in once the version is committed."""

    article: ArticleRecord  # for the match index
    seq: int  # the version's number in its story
    sentences: list[str]  # the sentences it brought to the story (``KnownCache.learned``)


@dataclass(frozen=True)
class Written:
    decision: VersionDecision
    novelty: Novelty
    learnt: Learnt


def add_version(
    tx: IngestTx, arrival: Arrival, story: StoryRecord, prior: ArticleRecord | None, match: dict[str, Any],
    known: KnownCache, rules: Rules, *, new_story: bool = False,
) -> Written:  # fmt: skip
    """Version ``story.version_count + 1`` of ``story`` from ``arrival``; ``prior`` is the same item's
    previous version, ``match`` how the story was found (for the version row and the event). ``new_story``:
    ``story`` is not stored yet (``StoryRecord.opening``) and is written here, once, with this version."""
    article, now = arrival.article, arrival.now
    text = known.current(tx, story)
    novelty = updates.version_novelty(tx, story.id, article, prior, now, text)  # furniture out, changes in
    fresh = text.unseen(article.title, article.text)
    markers = developing_markers(article.title, article.text, article.html_markers)
    opened, update = _pending(tx, story, arrival, rules.coalesce_window)
    facts = VersionFacts(
        story.state(), article, novelty, markers, now, events.new_event_id(), arrival.hold, arrival.defer,
        rules.coalesce_window, opened, update,
    )  # fmt: skip
    decision = decide_version(facts, rules.watchlists)
    row = story_values(decision.story)
    row["last_published"] = article.published
    if new_story:  # before the article and the event, which refer to it
        tx.insert_story(story, **row)
    article_id = tx.insert_article(article, story.id, now, bool(markers))
    tx.insert_known_sentences(story.id, decision.seq, fresh)
    tx.insert_version(
        story.id,
        decision.seq,
        article_id,
        now,
        added=list(novelty.added),
        facts=novelty.facts.as_dict(),
        headline_changed=novelty.headline_changed,
        material=decision.material,
        match=match,
    )
    _write_event(tx, decision, article, novelty, match, now, rules.by_name)
    if not new_story:
        tx.update_story(story.id, **row)
    rec = ArticleRecord(article_id, article.source, article.guid, article.content_hash, article.url,
                        article.title, article.text, article.outlet, article.published, now, story.id)  # fmt: skip
    return Written(decision, novelty, Learnt(rec, decision.seq, fresh))


def _pending(
    tx: IngestTx, story: StoryRecord, arrival: Arrival, window: float
) -> tuple[Pending | None, Pending | None]:
    """The story's events still waiting that this version could join: only a tracked story can send an
    update, and held events (``hold``) join nothing. The coalescing window is asked only when folding
    into the first sighting found nothing."""
    if not story.tracked or arrival.hold:
        return None, None
    opened = tx.unsent_opened(story.id) if arrival.fold else None
    if opened is not None or window <= 0:
        return opened, None
    return None, tx.unsent_update(story.id, arrival.now - timedelta(seconds=window))


def _write_event(
    tx: IngestTx, decision: VersionDecision, article: Article, novelty: Novelty, match: dict[str, Any],
    now: datetime, watchlists: Mapping[str, Watchlist],
) -> None:  # fmt: skip
    event = decision.event
    if event is None:
        return
    story = decision.story
    receivers = events.story_receivers(watchlists, event.hits)
    body = events.version_payload(event, story, decision.seq, article, novelty, match, now)
    if isinstance(event, NewEvent):
        tx.add_event(event, body, receivers)
        log.info("event %s %s story=%s seq=%d added=%d", event.type, event.id, story.id, decision.seq,
                 len(novelty.added))  # fmt: skip
        return
    held = event.into
    tx.merge_into_event(held.event_id, body, tuple(h for h in receivers if h not in held.receivers), event.send_at)
    how = "carries the full text" if event.type == "story.opened" else f"coalesced into {held.event_id}"
    log.info("event %s %s story=%s seq=%d", event.type, how, story.id, decision.seq)
