"""Who gets an event, its id, and its body: the one place ingest, page checks, housekeeping and feed events
turn a decision (``core.decide``) into an outbox row.

Receivers are webhook names; ``LOG_RECEIVER`` stands for "write it to the log" where no webhook is
configured. The payloads themselves are ``alerts.payload`` (the documented JSON, field by field).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from monitor.alerts import payload as payloads
from monitor.core.decide import JoinEvent, NewEvent, StoryState
from monitor.core.model import Article, Novelty, WatchHit
from monitor.core.states import EventType
from monitor.core.watchlist import Watchlist

LOG_RECEIVER = "@log"  # pseudo-webhook: the event is written to the log as a JSON line


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:20]}"


def new_event_id() -> str:
    return new_id("evt")


def effective_watchlists(watchlists: Sequence[Watchlist], webhooks: Sequence[str]) -> tuple[Watchlist, ...]:
    """The configured watchlists; with none, one catch-all list that sends to every webhook (or the log)."""
    if watchlists:
        return tuple(watchlists)
    return (Watchlist.build(name="all", regex=(r"\w",), webhooks=tuple(webhooks)),)


def story_receivers(watchlists: Mapping[str, Watchlist], hits: Iterable[WatchHit]) -> tuple[str, ...]:
    """The receivers of the watchlists of ``hits`` that are still configured (a list without webhooks
    sends to the log); the log when none is left."""
    named = (watchlists[h.name] for h in hits if h.name in watchlists)
    hooks = dict.fromkeys(hook for wl in named for hook in (wl.webhooks or (LOG_RECEIVER,)))
    return tuple(hooks) or (LOG_RECEIVER,)


def feed_receivers(webhooks: Sequence[str]) -> tuple[str, ...]:
    """Feed events are an operator's concern: every webhook, or the log."""
    return tuple(webhooks) or (LOG_RECEIVER,)


def story_ref(story: StoryState) -> dict[str, Any]:
    return {
        "id": story.id,
        "title": story.title,
        "url": story.url,
        "status": str(story.status),
        "developing": story.developing,
    }


def hits_json(hits: Iterable[WatchHit]) -> list[dict[str, Any]]:
    return [{"name": h.name, "matched": list(h.matched)} for h in hits]


def version_payload(
    event: NewEvent | JoinEvent,
    story: StoryState,
    seq: int,
    article: Article,
    novelty: Novelty,
    match: Mapping[str, Any],
    now: datetime,
) -> dict[str, Any]:
    """The body of ``story.opened`` / ``story.updated`` for a new event, or the merged body of the event it
    joins (same id, sequence and previous id; combined novelty, every article listed)."""
    if isinstance(event, NewEvent):
        event_id, sequence, previous = event.id, event.sequence, event.previous_event_id
    else:
        held = event.into
        event_id, sequence = held.event_id, held.sequence
        previous = held.previous_event_id if event.type == EventType.STORY_UPDATED else None
    body = payloads.story_event(
        event_id=event_id,
        type_=str(event.type),
        created_at=now,
        story=story_ref(story),
        event_seq=sequence,
        previous_event_id=previous,
        version_seq=seq,
        article=article,
        novelty=novelty,
        hits=event.hits,
        match=dict(match),
        markers=story.markers,
    )
    if isinstance(event, NewEvent):
        return body
    merged = payloads.merge_updates(dict(event.into.payload), body)
    return {**merged, "type": str(event.type)} if event.type == EventType.STORY_OPENED else merged


def closed_payload(event: NewEvent, story: StoryState) -> dict[str, Any]:
    """``story.closed``: every watchlist that matched the story, with the terms."""
    return payloads.story_closed(
        event_id=event.id,
        created_at=event.created_at,
        story=story_ref(story),
        event_seq=event.sequence,
        previous_event_id=event.previous_event_id,
        versions=story.version_count,
        watchlists=hits_json(story.watchlists),
    )


def page_gone_payload(event: NewEvent, story: StoryState, page: dict[str, Any]) -> dict[str, Any]:
    """``story.page_gone``: the page (url, final url, status) and every watchlist that matched the story."""
    return payloads.page_gone(
        event_id=event.id,
        created_at=event.created_at,
        story=story_ref(story),
        event_seq=event.sequence,
        previous_event_id=event.previous_event_id,
        page=page,
        watchlists=hits_json(story.watchlists),
    )


def feed_payload(
    event_id: str, type_: EventType, now: datetime, name: str, url: str, detail: dict[str, Any]
) -> dict[str, Any]:
    """``feed.failing`` / ``feed.recovered`` / ``feed.anomaly``."""
    feed = {"name": name, "url": url}
    return payloads.feed_event(event_id=event_id, type_=str(type_), created_at=now, feed=feed, detail=detail)
