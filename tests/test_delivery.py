"""Delivery from the outbox to real receivers on 127.0.0.1: retries, Retry-After, dead letters, per-story
order, coalescing. Time is an injected clock: retries come due by moving it, not by sleeping."""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.config import parse_config
from monitor.core.model import Article
from monitor.service.pipeline import Pipeline
from monitor.store import outbox
from tests.servers import Receiver, running
from tests.support import SECRET, Clock, SeedStory, make_pipeline, pipeline_for, run_cli
from tests.support.delivery import T0, drain


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pipeline(tmp_path: Path, url: str, clock: Clock, **monitor: Any) -> Pipeline:
    raw = {
        "monitor": {"database": "sqlite:///m.db", **monitor},
        "webhooks": [{"name": "desk", "url": url, "secret": SECRET}],
        "watchlists": [{"name": "all", "regex": ["."], "webhooks": ["desk"]}],
    }
    return make_pipeline(tmp_path, raw, clock)


STORIES = [
    (
        "Warehouse fire in Dayton",
        "A fire broke out at a warehouse on Keowee Street in Dayton, Ohio, fire chief Jeffrey Payne said.",
        "Crews rescued {k} workers from the roof.",
    ),
    (
        "Flooding closes Route 9 in Vermont",
        "Heavy rain flooded Route 9 near Brattleboro, state police said on Monday.",
        "Officials reported {k} homes evacuated along the Whetstone Brook.",
    ),
    (
        "Dockworkers strike at the port of Antwerp",
        "Unions at the port of Antwerp began a strike over pensions.",
        "Shipping agents counted {k} vessels waiting at anchor off Zeebrugge.",
    ),
]


def developing(n: int, extra: int = 0) -> Article:
    title, lede, more = STORIES[n]
    body = lede + (" " + more.format(k=extra) if extra else "") + "\n\nThis is a developing story."
    return Article("seeds", f"story{n}.txt", title, body)


async def deliver_once(p: Pipeline) -> None:
    await p.deliver()
    await p.aclose()


def test_down_then_503_retry_after_then_200_every_event_once_in_order(tmp_path: Path) -> None:
    port = free_port()
    clock = Clock(T0)
    p = pipeline(tmp_path, f"http://127.0.0.1:{port}/hook", clock)
    for n in range(3):  # three stories, each opened then updated
        p.ingestor.ingest(developing(n), clock())
        p.ingestor.ingest(developing(n, extra=n + 7), clock())
    asyncio.run(deliver_once(p))  # nothing listens yet: connection refused, all retried later
    assert {d.attempts for d in outbox.list_deliveries(p.db, ("pending",))} <= {0, 1}

    receiver = Receiver(port)  # the receiver comes up on the address that refused connections
    receiver.script = [(503, {"Retry-After": "120"}), (503, {"Retry-After": "120"})]
    with running(receiver):
        before = clock.now
        drain(p, clock)
        events = receiver.accepted()
    assert len(events) == 6 and len({e["id"] for e in events}) == 6
    assert clock.now - before >= timedelta(seconds=120)  # Retry-After was honoured
    for story in {e["story"]["id"] for e in events}:
        mine = [e for e in events if e["story"]["id"] == story]
        assert [e["type"] for e in mine] == ["story.opened", "story.updated"]  # per-story order
        assert mine[1]["previous_event_id"] == mine[0]["id"]
    assert not outbox.list_deliveries(p.db, ("pending", "dead"))


def test_400_is_dead_lettered_and_visible(tmp_path: Path, receiver: Receiver) -> None:
    receiver.script = [400]
    clock = Clock(T0)
    p = pipeline(tmp_path, receiver.url, clock)
    p.ingestor.ingest(developing(1), clock())
    drain(p, clock)
    assert [post["status"] for post in receiver.all_posts()] == [400]  # permanent: not retried
    config = tmp_path / "c.toml"
    config.write_text(
        f'[monitor]\ndatabase = "sqlite:///m.db"\n\n[[webhooks]]\nname = "desk"\nurl = "{receiver.url}"\n'
    )
    result = run_cli("deliveries", "--config", str(config), "--json")
    listed = json.loads(result.stdout)
    assert listed["summary"]["by_status"] == {"dead": 1}
    assert "HTTP 400" in listed["deliveries"][0]["last_error"]
    text = run_cli("deliveries", "--config", str(config)).stdout
    assert "dead" in text and "HTTP 400" in text
    assert run_cli("deliveries", "retry", "--dead", "--config", str(config)).returncode == 0
    assert outbox.list_deliveries(p.db, ("pending",))


def test_coalescing_folds_updates_within_the_window(tmp_path: Path, receiver: Receiver, seed_story: SeedStory) -> None:
    clock = Clock(T0)
    p = pipeline(tmp_path, receiver.url, clock, coalesce_window="5m")
    parts = seed_story.full.split("\n\n")
    p.ingestor.ingest(Article("seeds", "a.txt", seed_story.headline, seed_story.flash), clock())
    drain(p, clock)
    assert [e["type"] for e in receiver.accepted()] == ["story.opened"]
    for k in (8, 12, 16):  # three growing versions within a minute
        clock.now += timedelta(seconds=20)
        first = p.ingestor.ingest(Article("seeds", "a.txt", seed_story.headline, "\n\n".join(parts[:k])), clock())
        assert first.status == "new-version"
    asyncio.run(deliver_once(p))
    assert len(receiver.accepted()) == 1  # held for the window
    clock.now += timedelta(minutes=6)
    drain(p, clock)
    events = receiver.accepted()
    assert [e["type"] for e in events] == ["story.opened", "story.updated"]
    update = events[1]["update"]
    assert update["coalesced"] == 3 and update["seq"] == 4
    assert len(update["articles"]) == 3
    added = " ".join(update["added"])
    assert parts[9].split(".")[0] in added and parts[14].split(".")[0] in added  # from the 2nd and 3rd


def test_replay_resends_delivered_events_with_the_same_ids(tmp_path: Path, receiver: Receiver) -> None:
    clock = Clock(T0)
    p = pipeline(tmp_path, receiver.url, clock)
    p.ingestor.ingest(developing(1), clock())
    drain(p, clock)
    assert outbox.replay(p.db, clock(), clock() - timedelta(hours=1)) == 1
    drain(p, clock)
    posts = receiver.all_posts()
    assert len(posts) == 2 and posts[0]["headers"]["webhook-id"] == posts[1]["headers"]["webhook-id"]


def test_410_gone_disables_the_endpoint_until_an_operator_enables_it(tmp_path: Path, receiver: Receiver) -> None:
    receiver.script = [410]
    clock = Clock(T0)
    p = pipeline(tmp_path, receiver.url, clock)
    p.ingestor.ingest(developing(0), clock())
    asyncio.run(deliver_once(p))
    p.ingestor.ingest(developing(1), clock())
    clock.now += timedelta(hours=1)
    asyncio.run(deliver_once(p))
    assert len(receiver.all_posts()) == 1  # nothing more was sent after the 410
    assert outbox.disabled_webhooks(p.db) == {"desk": "HTTP 410 Gone: ok"}
    assert len(outbox.list_deliveries(p.db, ("pending",))) == 2  # kept, not lost
    config = tmp_path / "c.toml"
    config.write_text('[monitor]\ndatabase = "sqlite:///m.db"\n')
    listing = run_cli("deliveries", "--config", str(config))
    assert "DISABLED" in listing.stdout
    assert run_cli("deliveries", "enable", "desk", "--config", str(config)).returncode == 0
    assert run_cli("deliveries", "enable", "desk", "--config", str(config)).returncode == 4
    drain(p, clock)
    assert len(receiver.accepted()) == 2


def test_a_disabled_endpoint_is_counted_in_the_report(tmp_path: Path, receiver: Receiver) -> None:
    """A 410 disables the receiver: the pass's report says so (it used to count it nowhere, so a pass that
    claimed one delivery reported none of delivered, retrying or dead)."""
    receiver.script = [410]
    clock = Clock(T0)
    p = pipeline(tmp_path, receiver.url, clock)
    p.ingestor.ingest(developing(0), clock())
    report = asyncio.run(deliver_once_report(p))
    assert (report.claimed, report.disabled, report.delivered, report.retrying, report.dead) == (1, 1, 0, 0, 0)
    assert (report + report).disabled == 2


def test_apprise_format_goes_through_the_same_outbox(tmp_path: Path, receiver: Receiver) -> None:
    pytest.importorskip("apprise", reason="the apprise extra is not installed")
    receiver.script = [500]  # the first attempt fails: retried like any webhook
    clock = Clock(T0)
    raw = {
        "monitor": {"database": "sqlite:///m.db"},
        "webhooks": [{"name": "chat", "url": f"json://127.0.0.1:{receiver.port}/hook", "format": "apprise"}],
        "watchlists": [{"name": "all", "regex": ["."], "webhooks": ["chat"]}],
    }
    config = parse_config(raw, base=tmp_path)
    p = pipeline_for(config, clock)
    p.ingestor.ingest(developing(2, extra=9), clock())
    drain(p, clock)
    posts = receiver.all_posts()
    assert [post["status"] for post in posts] == [500, 200]
    body = json.loads(posts[-1]["body"])
    assert "Dockworkers strike" in body["title"] and "9 vessels" in body["message"]
    assert outbox.list_deliveries(p.db, ("delivered",))


def test_apprise_config_checks() -> None:
    from monitor.errors import ConfigError

    base = {"name": "chat", "format": "apprise"}
    with pytest.raises(ConfigError) as info:
        parse_config({"webhooks": [{**base, "url": "not a url", "secret": "x"}]}, base=Path("/tmp"))
    assert info.value.problems == [
        "webhooks[0].url: must be an Apprise URL (scheme://...)",
        "webhooks[0].secret: format 'apprise' cannot sign requests; remove 'secret'",
    ]


def test_a_busy_story_drains_in_order_in_one_pass(tmp_path: Path, receiver: Receiver) -> None:
    clock = Clock(T0)
    p = pipeline(tmp_path, receiver.url, clock)
    facts = [
        "Crews rescued 11 workers from the roof.",
        "Payne said 3 firefighters were treated for smoke.",
        "The blaze was under control by 9 p.m., officials said.",
        "Investigators from the state fire marshal arrived.",
        "Keowee Street stays closed between Third and Fifth.",
    ]
    title, lede, _ = STORIES[0]
    for k in range(1, 6):  # opened + 4 updates, each adding a sentence, all due at once
        body = " ".join([lede, *facts[:k]]) + "\n\nThis is a developing story."
        p.ingestor.ingest(Article("seeds", "story0.txt", title, body), clock())
    asyncio.run(deliver_once(p))
    events = receiver.accepted()
    assert [e["sequence"] for e in events] == [1, 2, 3, 4, 5]
    assert all(b["previous_event_id"] == a["id"] for a, b in itertools.pairwise(events))


def test_an_event_held_behind_an_earlier_one_is_not_charged_an_attempt(tmp_path: Path, receiver: Receiver) -> None:
    receiver.script = [500]
    clock = Clock(T0)
    p = pipeline(tmp_path, receiver.url, clock)
    title, lede, more = STORIES[1]
    p.ingestor.ingest(Article("seeds", "s.txt", title, lede + "\n\nThis is a developing story."), clock())
    p.ingestor.ingest(
        Article("seeds", "s.txt", title, f"{lede} {more.format(k=40)}\n\nThis is a developing story."), clock()
    )
    asyncio.run(deliver_once(p))
    attempts = {d.type: d.attempts for d in outbox.list_deliveries(p.db, ("pending",))}
    assert attempts == {"story.opened": 1, "story.updated": 0}


def test_a_backlog_larger_than_one_claim_drains_in_one_tick(tmp_path: Path, receiver: Receiver) -> None:
    from monitor.service.delivering import CLAIM_BATCH
    from monitor.store.stories import ingest_transaction

    clock = Clock(T0)
    p = pipeline(tmp_path, receiver.url, clock)
    with ingest_transaction(p.db) as tx:  # a backlog, e.g. after the receiver was down for a while
        for i in range(CLAIM_BATCH + 50):
            tx.insert_event(f"evt_{i:04d}", "feed.failing", None, None, clock(), {"id": f"evt_{i:04d}"}, ("desk",))
    report = asyncio.run(deliver_once_report(p))
    assert report.delivered == CLAIM_BATCH + 50 and len(receiver.accepted()) == CLAIM_BATCH + 50


async def deliver_once_report(p: Pipeline) -> Any:
    try:
        return await p.deliver()
    finally:
        await p.aclose()
