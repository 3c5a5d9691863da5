"""core/decide.py by tables: values in, intents out, no database (the service's writes are tested end to end
in test_event_payloads.py and the ingest, page and lifecycle tests)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from monitor.core import decide
from monitor.core.decide import JoinEvent, NewEvent, Pending, StoryState, VersionFacts
from monitor.core.model import Article, Facts, Novelty, WatchHit
from monitor.core.states import EventType, StoryStatus
from monitor.core.watchlist import Watchlist

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LISTS = (
    Watchlist.build(name="porto", keywords=("Porto",), webhooks=("desk",)),
    Watchlist.build(name="any", keywords=("bridge",), developing_only=False),
)
NEW = StoryState("st_1", "", None, StoryStatus.OPEN, False, (), False, (), T0, 0, 0, None)
TRACKED = replace(NEW, tracked=True, version_count=1, event_seq=1, last_event_id="evt_1", markers=("breaking",),
                  watchlists=(WatchHit("porto", ("Porto",)),))  # fmt: skip
NEWS = Novelty(("Engineers found 3 cracks.",), Facts(numbers=("3 cracks",)), False, 0)
NOTHING = Novelty((), Facts(), False, 2)
PENDING = Pending("evt_9", 1, None, frozenset({"desk"}), {})


def facts(
    story: StoryState,
    novelty: Novelty = NEWS,
    text: str = "Porto closes its bridge.",
    markers: tuple[str, ...] = ("breaking",),
    **kw: Any,
) -> VersionFacts:
    article = Article("wire", "g1", "Porto news", text, url="http://x.test/a")
    return VersionFacts(story, article, novelty, markers, T0, "evt_new", **kw)


@pytest.mark.parametrize(
    ("story", "novelty", "kw", "expect"),
    [
        (NEW, NEWS, {}, ("new", EventType.STORY_OPENED)),  # a watchlist starts tracking it
        (NEW, NOTHING, {}, ("new", EventType.STORY_OPENED)),  # opened needs no materiality
        (TRACKED, NEWS, {}, ("new", EventType.STORY_UPDATED)),
        (TRACKED, NOTHING, {}, None),  # nothing material: no event, the version is still written
        (TRACKED, NEWS, {"unsent_opened": PENDING}, ("join", EventType.STORY_OPENED)),  # the full text folds in
        (TRACKED, NEWS, {"unsent_update": PENDING, "coalesce_window": 600}, ("join", EventType.STORY_UPDATED)),
        (TRACKED, NEWS, {"unsent_update": PENDING, "coalesce_window": 0}, ("new", EventType.STORY_UPDATED)),
        (TRACKED, NEWS, {"unsent_opened": PENDING, "hold": True}, ("new", EventType.STORY_UPDATED)),  # held
    ],
)
def test_decide_version(story: StoryState, novelty: Novelty, kw: dict[str, Any], expect: object) -> None:
    d = decide.decide_version(facts(story, novelty, **kw), LISTS)
    assert d.seq == story.version_count + 1
    kind = None
    if isinstance(d.event, NewEvent):
        kind = ("new", d.event.type)
        assert d.story.event_seq == story.event_seq + 1 and d.story.last_event_id == "evt_new"
        assert d.event.previous_event_id == story.last_event_id and d.event.held == bool(kw.get("hold"))
    elif isinstance(d.event, JoinEvent):
        kind = ("join", d.event.type)
        assert d.event.into is PENDING and d.story.event_seq == story.event_seq  # no new event: same sequence
    assert kind == expect
    assert d.story.status == StoryStatus.OPEN and d.story.version_count == d.seq and d.story.tracked


def test_a_developing_only_list_waits_for_markers() -> None:
    """Without a developing marker only the list that tracks any story opens it, and only its hits go."""
    d = decide.decide_version(facts(NEW, markers=()), LISTS)
    assert isinstance(d.event, NewEvent) and [h.name for h in d.event.hits] == ["any"]
    assert [h.name for h in d.story.watchlists] == ["porto", "any"]  # every hit is remembered
    quiet = decide.decide_version(facts(NEW, markers=(), text="Porto holds a festival."), LISTS)
    assert quiet.event is None and not quiet.story.tracked and not quiet.material


def test_deferred_opened_waits_and_updates_wait_for_the_window() -> None:
    opened = decide.decide_version(facts(NEW, defer=60), LISTS).event
    assert isinstance(opened, NewEvent) and opened.send_at == T0 + timedelta(seconds=60)
    update = decide.decide_version(facts(TRACKED, coalesce_window=300), LISTS).event
    assert isinstance(update, NewEvent) and update.send_at == T0 + timedelta(seconds=300)


@pytest.mark.parametrize(
    ("story", "idle_h", "expect", "event"),
    [
        (TRACKED, 1, None, False),
        (TRACKED, 7, StoryStatus.QUIET, False),
        (TRACKED, 72, StoryStatus.CLOSED, True),
        (replace(TRACKED, tracked=False), 72, StoryStatus.CLOSED, False),  # closed quietly: nobody was told
        (replace(TRACKED, status=StoryStatus.CLOSED), 72, None, False),
    ],
)
def test_decide_status(story: StoryState, idle_h: int, expect: StoryStatus | None, event: bool) -> None:
    move = decide.decide_status(story, T0 + timedelta(hours=idle_h), 6 * 3600, 48 * 3600, "evt_c")
    assert (move.story.status if move else None) == expect
    assert (move is not None and move.event is not None) == event
    if move is not None and move.event is not None:
        assert (move.event.type, move.event.sequence, move.event.previous_event_id) == (EventType.STORY_CLOSED, 2,
                                                                                          "evt_1")  # fmt: skip
        assert move.story.last_event_id == "evt_c" and move.story.updated_at == story.updated_at


def test_page_gone_is_the_story_next_event() -> None:
    gone = decide.decide_page_gone(TRACKED, T0, "evt_g")
    assert (gone.event.type, gone.event.sequence, gone.event.hits) == (EventType.STORY_PAGE_GONE, 2,
                                                                        TRACKED.watchlists)  # fmt: skip
    assert gone.story.status == TRACKED.status and gone.story.event_seq == 2


def test_feed_failing_once_and_recovered_after() -> None:
    assert [decide.feed_failing(n, 3) for n in (1, 2, 3, 4)] == [False, False, True, False]
    assert [decide.feed_recovered(n, 3) for n in (0, 2, 3, 9)] == [False, False, True, True]
