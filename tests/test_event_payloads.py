"""The JSON body of every event type, pinned field by field (README, "Alert payload"): receivers parse these,
so a refactor of how events are decided and built must leave every byte of them as it was.

Driven through the real ingest, housekeeping and feed-event code on a real SQLite file with an injected
time; the texts are invented here. Random ids become ``<evt1>``, ``<st1>``... in order of appearance. The
matcher's own reasons (score, overlaps) are the matcher's business, pinned by its tests: only their
``signal`` is kept here. ``story.page_gone`` is pinned in tests/test_pages.py (it needs a page server).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.config import Config, parse_config
from monitor.core.model import Article
from monitor.service import feed_events
from monitor.service.housekeeping import run_housekeeping
from monitor.service.ingest import Ingestor
from monitor.store import outbox
from monitor.store.db import Database
from monitor.store.records import FeedState

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
URL = "http://x.test/bridge"
TITLE = "BREAKING: Porto closes Luiz I bridge"
LEAD = "The Luiz I bridge in Porto was closed on Monday after inspectors found a crack, the mayor said."
MORE = "Engineers counted 3 cracks in the upper deck, said chief engineer Ana Souto."
LAST = "Ferries across the Douro will run every 15 minutes until the bridge reopens, the operator said."


def article(*paragraphs: str, source: str = "wire", guid: str = "g1", **extra: Any) -> Article:
    text = "\n\n".join([*paragraphs, "This is a developing story."])
    return Article(source, guid, TITLE, text, url=URL, published=T0, outlet="Wire", **extra)


def config(tmp_path: Path, **monitor: Any) -> Config:
    raw = {
        "monitor": {"database": "sqlite:///m.db", "quiet_after": "6h", "close_after": "2d", **monitor},
        "webhooks": [
            {"name": "desk", "url": "http://127.0.0.1:9/desk"},
            {"name": "ops", "url": "http://127.0.0.1:9/o"},
        ],
        "watchlists": [
            {"name": "porto", "keywords": ["Porto"], "webhooks": ["desk"]},
            {"name": "bridges", "keywords": ["bridge", "Ferries"]},
        ],
    }
    return parse_config(raw, base=tmp_path)


def normalised(payloads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Random ids as ``<evtN>``/``<stN>`` in order of appearance; the matcher's reasons reduced to the signal."""
    names: dict[str, str] = {}

    def name(m: re.Match[str]) -> str:
        kind = m.group(1)
        return names.setdefault(m.group(0), f"<{kind}{sum(v.startswith(f'<{kind}') for v in names.values()) + 1}>")

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            if value.get("signal") == "matcher":
                return {"signal": "matcher"}
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, str):
            return re.sub(r"\b(evt|st)_[0-9a-f]{20}\b", name, value)
        return value

    return [walk(p) for p in payloads]


def pinned(payloads: Any) -> str:
    """The JSON text receivers get, keys in their order (a dict comparison alone would not see a reorder)."""
    return json.dumps(payloads, indent=1, ensure_ascii=False)


def outbox_of(db: Database) -> list[tuple[str, tuple[str, ...], dict[str, Any]]]:
    """(status, receivers, payload) per event, oldest first."""
    by_event: dict[str, tuple[str, list[str], dict[str, Any]]] = {}
    for d in sorted(outbox.list_deliveries(db, ("pending", "held", "delivered")), key=lambda d: (d.created_at, d.id)):
        by_event.setdefault(d.event_id, (d.status, [], d.payload))[1].append(d.webhook)
    return [(s, tuple(sorted(hooks)), p) for s, hooks, p in by_event.values()]


STORY = {"id": "<st1>", "title": TITLE, "url": URL, "status": "open", "developing": True}
ARTICLE = {"url": URL, "title": TITLE, "source": "wire", "outlet": "Wire", "published": "2026-03-01T12:00:00Z"}
HITS = [{"name": "porto", "matched": ["Porto"]}, {"name": "bridges", "matched": ["bridge"]}]
MARKERS = ["breaking", "developing-story"]
LEAD_FACTS = {"numbers": [], "quotes": [], "names": ["Luiz", "Porto"]}


def update(seq: int, added: list[str], facts: dict[str, list[str]], match: dict[str, Any], **more: Any) -> Any:
    return {
        "seq": seq,
        "article": ARTICLE,
        "added": added,
        "changed": [],
        "removed": [],
        "facts": facts,
        "headline_changed": False,
        "repeated_sentences": more.pop("repeated", 0),
        "developing_markers": MARKERS,
        "match": match,
        "correction": False,
        **more,
    }


def event(n: int, kind: str, seq: int, previous: int | None, at: datetime, **rest: Any) -> dict[str, Any]:
    return {
        "schema": "news-monitor/event/v1",
        "id": f"<evt{n}>",
        "type": kind,
        "created_at": at.isoformat().replace("+00:00", "Z"),
        "story": STORY,
        "sequence": seq,
        "previous_event_id": f"<evt{previous}>" if previous else None,
        **rest,
    }


@pytest.fixture
def opened_then_updated(tmp_path: Path) -> tuple[Config, Database, list[Any]]:
    cfg = config(tmp_path)
    db = Database(cfg.monitor.database)
    ingestor = Ingestor(cfg, db)
    results = [ingestor.ingest(article(LEAD), T0), ingestor.ingest(article(LEAD, MORE), T0 + timedelta(minutes=5))]
    return cfg, db, results


def test_opened_and_updated(opened_then_updated: tuple[Config, Database, list[Any]]) -> None:
    _, db, results = opened_then_updated
    assert [r.events for r in results] == [("story.opened",), ("story.updated",)]
    rows = outbox_of(db)
    assert [(s, hooks) for s, hooks, _ in rows] == [("pending", ("@log", "desk"))] * 2
    more_facts = {"numbers": ["3 cracks"], "quotes": [], "names": ["Ana Souto"]}
    same_item = {"signal": "same item", "source": "wire", "guid": "g1"}
    assert pinned(normalised([p for _, _, p in rows])) == pinned(
        [
            event(
                1,
                "story.opened",
                1,
                None,
                T0,
                update=update(1, [LEAD], LEAD_FACTS, {"signal": "matcher"}),
                watchlists=HITS,
            ),
            event(
                2,
                "story.updated",
                2,
                1,
                T0 + timedelta(minutes=5),
                update=update(2, [MORE], more_facts, same_item, repeated=1),
                watchlists=HITS,
            ),
        ]
    )


def test_closed(opened_then_updated: tuple[Config, Database, list[Any]]) -> None:
    cfg, db, _ = opened_then_updated
    later = T0 + timedelta(days=3)
    assert run_housekeeping(cfg, db, later).closed == 1
    rows = outbox_of(db)
    assert [(s, hooks) for s, hooks, _ in rows][-1] == ("pending", ("@log", "desk"))
    assert pinned(normalised([p for _, _, p in rows])[-1:]) == pinned(
        [
            {
                **event(3, "story.closed", 3, 2, later, update=None),
                "story": {**STORY, "status": "closed"},
                "versions": 2,
                "watchlists": HITS,
            }
        ]
    )


def test_coalesced_update(tmp_path: Path) -> None:
    cfg = config(tmp_path, coalesce_window="10m")
    db = Database(cfg.monitor.database)
    ingestor = Ingestor(cfg, db)
    ingestor.ingest(article(LEAD), T0)
    ingestor.ingest(article(LEAD, MORE), T0 + timedelta(minutes=1))
    third = ingestor.ingest(article(LEAD, MORE, LAST, guid="g1"), T0 + timedelta(minutes=2))
    assert third.events == ()  # folded into the unsent update
    rows = outbox_of(db)
    assert len(rows) == 2
    _, hooks, body = rows[1]
    assert hooks == ("@log", "desk")
    second = {**ARTICLE}
    last_facts = {"numbers": ["3 cracks", "15 minutes"], "quotes": [], "names": ["Ana Souto", "Douro"]}
    merged = update(
        3,
        [MORE, LAST],
        last_facts,
        {"signal": "same item", "source": "wire", "guid": "g1"},
        repeated=3,
        articles=[ARTICLE, second],
        coalesced=2,
    )
    hits = [HITS[0], {"name": "bridges", "matched": ["bridge", "Ferries"]}]
    assert pinned(normalised([rows[0][2], body])[1]) == pinned(
        event(2, "story.updated", 2, 1, T0 + timedelta(minutes=1), update=merged, watchlists=hits)
    )


def test_held_and_deferred_opened_takes_the_full_text(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    db = Database(cfg.monitor.database)
    ingestor = Ingestor(cfg, db)
    ingestor.ingest(article(LEAD), T0, defer=60)
    page = article(LEAD, MORE, source="page", guid=f"page:{URL}", page={"via": "page", "live_posts": []})
    folded = ingestor.ingest(page, T0 + timedelta(seconds=20), fold=True)
    assert folded.events == ()
    [(status, hooks, body)] = outbox_of(db)
    assert (status, hooks) == ("pending", ("@log", "desk"))
    via_page = {**ARTICLE, "source": "page", "via": "page"}
    first = {**ARTICLE}
    facts = {"numbers": ["3 cracks"], "quotes": [], "names": ["Luiz", "Porto", "Ana Souto"]}
    match = {"signal": "same url", "url": URL}
    merged = {
        **update(2, [LEAD, MORE], facts, match, repeated=1, articles=[first, via_page], coalesced=2),
        "article": via_page,
    }
    assert pinned(normalised([body])) == pinned([event(1, "story.opened", 1, None, T0, update=merged, watchlists=HITS)])

    held = Ingestor(cfg, Database(config(tmp_path / "b").monitor.database))
    held.ingest(article(LEAD, guid="g9"), T0, hold=True)
    assert [s for s, _, _ in outbox_of(held.db)] == ["held"]


def test_feed_events(tmp_path: Path) -> None:
    cfg = config(tmp_path, feed_failing_after=2)
    db = Database(cfg.monitor.database)
    state = FeedState(
        "wire", "http://x.test/f.rss", True, 300, None, None, None, "failing", 2, "HTTP 503", 503, T0, None, T0, 7, 3
    )
    feed_events.after_failure(cfg, db, state, 2, "HTTP 503", T0)
    feed_events.after_success(cfg, db, state, T0 + timedelta(minutes=1))
    feed_events.anomaly(cfg, db, state, 20, 20, T0 + timedelta(minutes=2))
    rows = outbox_of(db)
    assert [hooks for _, hooks, _ in rows] == [("desk", "ops")] * 3
    feed = {"name": "wire", "url": "http://x.test/f.rss"}

    def feed_event(n: int, kind: str, minutes: int, detail: dict[str, Any]) -> dict[str, Any]:
        at = (T0 + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")
        return {
            "schema": "news-monitor/event/v1",
            "id": f"<evt{n}>",
            "type": kind,
            "created_at": at,
            "story": None,
            "sequence": None,
            "previous_event_id": None,
            "feed": feed,
            "detail": detail,
        }

    action = "alerts from this poll are held: news-monitor deliveries retry --held releases them"
    assert pinned(normalised([p for _, _, p in rows])) == pinned(
        [
            feed_event(1, "feed.failing", 0, {"failures": 2, "error": "HTTP 503"}),
            feed_event(2, "feed.recovered", 1, {"failures_before": 2, "last_error": "HTTP 503"}),
            feed_event(3, "feed.anomaly", 2, {"items": 20, "unseen_guids": 20, "known_before": 7, "action": action}),
        ]
    )


def test_feed_events_without_webhooks_go_to_the_log(tmp_path: Path) -> None:
    cfg = parse_config({"monitor": {"database": "sqlite:///m.db", "feed_failing_after": 1}}, base=tmp_path)
    db = Database(cfg.monitor.database)
    state = FeedState("wire", "http://x.test/f.rss", True, 300, None, None, None, "new", 0, None, None, T0, None, T0,
                      0, 0)  # fmt: skip
    feed_events.after_failure(cfg, db, state, 1, "HTTP 503", T0)
    assert [hooks for _, hooks, _ in outbox_of(db)] == [("@log",)]
