"""What to write and send about a story, decided from values. Pure: no store, no clock, no ids of its own.

reader's ``Decider`` is the model: the service reads what a decision needs in one go (the story's row, the
version's novelty, the events still waiting to be sent), calls one function here, and writes the intents it
gets back in the same transaction. Nothing here builds a payload or knows a receiver's address: that is
``alerts.events``; an event names the watchlists whose receivers get it.

- ``decide_version``: a new version of a story -> its number and materiality, the story's next state, and
  one event: ``story.opened`` (a watchlist starts tracking the story), ``story.updated`` (a material update
  of a tracked story), or that update joined to an event still waiting (the first sighting's
  ``story.opened`` when ``fold`` brings the page's full text; else a ``story.updated`` within the
  coalescing window), or none;
- ``decide_status``: open -> quiet -> closed (``core.lifecycle``), with ``story.closed`` for a tracked story;
- ``decide_page_gone``: ``story.page_gone`` when a watched page of the story is gone;
- ``feed_failing`` / ``feed_recovered``: when a feed's failures call for an event.

Ids and times are arguments: the caller hands in a fresh event id, used only when a new event is decided.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from monitor.core.lifecycle import next_status
from monitor.core.model import Article, Novelty, WatchHit
from monitor.core.novelty import is_material
from monitor.core.states import EventType, StoryStatus
from monitor.core.watchlist import Watchlist, check_all


@dataclass(frozen=True)
class StoryState:
    """A story's row as the decisions need it (read under the ingest lock), and as they leave it."""

    id: str
    title: str
    url: str | None
    status: StoryStatus
    developing: bool
    markers: tuple[str, ...]
    tracked: bool  # a watchlist has sent an event about it
    watchlists: tuple[WatchHit, ...]  # every watchlist that matched it, with the terms
    updated_at: datetime
    version_count: int
    event_seq: int  # the sequence number of its latest event
    last_event_id: str | None


@dataclass(frozen=True)
class Pending:
    """An event of the story that no receiver has been sent or has claimed yet: a later version can join it.
    ``payload`` is carried for the builder that merges into it (``alerts.events``), never looked into here."""

    event_id: str
    sequence: int
    previous_event_id: str | None
    receivers: frozenset[str]
    payload: Mapping[str, Any] = field(compare=False, repr=False)


@dataclass(frozen=True)
class NewEvent:
    """Write a new outbox event about ``story_id`` for the receivers of ``hits``' watchlists."""

    id: str
    type: EventType
    story_id: str
    sequence: int
    previous_event_id: str | None
    hits: tuple[WatchHit, ...]  # the watchlists it is for (and what its payload lists)
    created_at: datetime
    send_at: datetime  # its deliveries wait until then (a deferred story.opened, the coalescing window)
    held: bool = False


@dataclass(frozen=True)
class JoinEvent:
    """Merge this version into ``into``, an event not sent yet; the receivers it lacks get it as well."""

    into: Pending
    type: EventType  # what the merged event stays: story.opened (fold) or story.updated (coalesce)
    hits: tuple[WatchHit, ...]
    send_at: datetime


@dataclass(frozen=True)
class VersionFacts:
    """What the version decision needs, read in one go inside the ingest transaction."""

    story: StoryState
    article: Article
    novelty: Novelty
    markers: tuple[str, ...]  # developing markers of this article
    now: datetime
    event_id: str  # a fresh id for the event, should one be decided
    hold: bool = False  # the feed's circuit breaker: write events as held
    defer: float = 0.0  # a story.opened may wait this long for the page's full text
    coalesce_window: float = 0.0
    unsent_opened: Pending | None = None  # the story's unsent story.opened (read when folding)
    unsent_update: Pending | None = None  # its unsent story.updated from within the coalescing window


@dataclass(frozen=True)
class VersionDecision:
    seq: int  # the version's number in its story
    material: bool  # material for at least one watchlist tracking the story
    story: StoryState  # the story's row after this version
    event: NewEvent | JoinEvent | None


@dataclass(frozen=True)
class StoryMove:
    """A story's move along its lifecycle: its row after it, and the ``story.closed`` it may send."""

    story: StoryState
    event: NewEvent | None


@dataclass(frozen=True)
class StoryEvent:
    """An event about a story that is not a version (``story.page_gone``): the story's row after it, and it."""

    story: StoryState
    event: NewEvent


def merge_hits(stored: Sequence[WatchHit], new: Sequence[WatchHit]) -> tuple[WatchHit, ...]:
    """The story's watchlist hits with this version's: every list once, its terms in first-seen order."""
    merged: dict[str, dict[str, None]] = {h.name: dict.fromkeys(h.matched) for h in stored}
    for hit in new:
        merged.setdefault(hit.name, {}).update(dict.fromkeys(hit.matched))
    return tuple(WatchHit(name, tuple(terms)) for name, terms in merged.items())


def decide_version(facts: VersionFacts, watchlists: tuple[Watchlist, ...]) -> VersionDecision:
    """The version's row, the story's next state and the event this version calls for (see the module)."""
    story, article = facts.story, facts.article
    markers = tuple(dict.fromkeys([*story.markers, *facts.markers]))
    hits = merge_hits(story.watchlists, check_all(watchlists, article.title, article.text, article.source))
    lists = {wl.name: wl for wl in watchlists}
    # A watchlist tracks developing stories only, unless it says otherwise.
    active = tuple(h for h in hits if h.name in lists and (markers or not lists[h.name].developing_only))
    material_for = tuple(h for h in active if _material(facts.novelty, lists[h.name]))
    event = _version_event(facts, active, material_for)
    fresh = isinstance(event, NewEvent)
    after = replace(
        story,
        title=article.title,
        url=article.url or story.url,
        status=StoryStatus.OPEN,
        developing=bool(markers),
        markers=markers,
        tracked=story.tracked or bool(active),
        watchlists=hits,
        updated_at=facts.now,
        version_count=story.version_count + 1,
        event_seq=story.event_seq + 1 if fresh else story.event_seq,
        last_event_id=facts.event_id if fresh else story.last_event_id,
    )
    return VersionDecision(story.version_count + 1, bool(material_for), after, event)


def _material(novelty: Novelty, wl: Watchlist) -> bool:
    return is_material(novelty, min_new_sentences=wl.min_new_sentences, min_new_facts=wl.min_new_facts)


def _version_event(
    facts: VersionFacts, active: tuple[WatchHit, ...], material_for: tuple[WatchHit, ...]
) -> NewEvent | JoinEvent | None:
    story, now = facts.story, facts.now
    if active and not story.tracked:
        send_at = now + timedelta(seconds=facts.defer)  # a first sighting may wait for its page's full text
        return _new(facts, EventType.STORY_OPENED, active, send_at)
    if not (active and material_for):
        return None
    window = facts.coalesce_window
    if not facts.hold and facts.unsent_opened is not None:
        # The page's full text joins the first sighting's story.opened still waiting for it (``fold``).
        return JoinEvent(facts.unsent_opened, EventType.STORY_OPENED, material_for, now)
    if not facts.hold and window > 0 and facts.unsent_update is not None:
        # Folded into an update still waiting to be sent: receivers see one event per window.
        return JoinEvent(facts.unsent_update, EventType.STORY_UPDATED, material_for, now + timedelta(seconds=window))
    return _new(facts, EventType.STORY_UPDATED, material_for, now + timedelta(seconds=window))


def _new(facts: VersionFacts, type_: EventType, hits: tuple[WatchHit, ...], send_at: datetime) -> NewEvent:
    story = facts.story
    seq, previous = story.event_seq + 1, story.last_event_id
    return NewEvent(facts.event_id, type_, story.id, seq, previous, hits, facts.now, send_at, facts.hold)


def decide_status(
    story: StoryState, now: datetime, quiet_after: float, close_after: float, event_id: str
) -> StoryMove | None:
    """The story's move along its lifecycle (None: it stays as it is); closing a tracked story sends
    ``story.closed`` to the receivers of the watchlists that matched it."""
    status = StoryStatus(next_status(story.status, story.updated_at, now, quiet_after, close_after))
    if status == story.status:
        return None
    if status != StoryStatus.CLOSED or not story.tracked:
        return StoryMove(replace(story, status=status), None)
    closed = _story_event(replace(story, status=status), EventType.STORY_CLOSED, now, event_id)
    return StoryMove(closed.story, closed.event)


def decide_page_gone(story: StoryState, now: datetime, event_id: str) -> StoryEvent:
    """A watched page of the story is gone (410, or 404 twice): ``story.page_gone``, once per page."""
    return _story_event(story, EventType.STORY_PAGE_GONE, now, event_id)


def _story_event(story: StoryState, type_: EventType, now: datetime, event_id: str) -> StoryEvent:
    """The next event of the story, for the receivers of every watchlist that matched it."""
    seq = story.event_seq + 1
    event = NewEvent(event_id, type_, story.id, seq, story.last_event_id, story.watchlists, now, now)
    return StoryEvent(replace(story, event_seq=seq, last_event_id=event_id), event)


def feed_failing(failures: int, failing_after: int) -> bool:
    """``feed.failing`` once: at the failure that reaches the configured count, not at every one after."""
    return failures == failing_after


def feed_recovered(failures_before: int, failing_after: int) -> bool:
    """``feed.recovered`` on the first success after a ``feed.failing``."""
    return failures_before >= failing_after
