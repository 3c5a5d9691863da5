"""Feed events through the real poll path (feed server and receiver on 127.0.0.1): feed.failing after N
consecutive failures, feed.recovered on the next success, and one feed.anomaly (no flood) when every GUID
of a feed changes between two polls."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from monitor.core.anomaly import looks_anomalous
from monitor.service.pipeline import Pipeline
from monitor.store import outbox
from tests.servers import FeedServer, Receiver, rss
from tests.support import Clock, make_pipeline
from tests.support.delivery import T0, drain
from tests.support.polling import poll_due


def make(tmp_path: Path, feed_url: str, hook_url: str, clock: Clock) -> Pipeline:
    raw = {
        "monitor": {"database": "sqlite:///m.db", "feed_failing_after": 2, "allow_private_addresses": True},
        "feeds": [{"name": "wire", "url": feed_url, "interval": "1m"}],
        "webhooks": [{"name": "desk", "url": hook_url}],
        "watchlists": [{"name": "all", "regex": ["."], "webhooks": ["desk"]}],
    }
    return make_pipeline(tmp_path, raw, clock, sync_feeds=True)


def items(prefix: str, n: int = 8, extra: str = "") -> str:
    stories = [
        (
            f"Storm {i} hits coast town {i}",
            f"Officials in Port{i} said {i + 3} boats sank. {extra.format(i=i)} This is a developing story.",
        )
        for i in range(n)
    ]
    return rss(
        [
            {"title": t, "link": f"http://wire.test/{i}", "guid": f"{prefix}-{i}", "description": d}
            for i, (t, d) in enumerate(stories)
        ]
    )


def test_anomaly_thresholds() -> None:
    assert not looks_anomalous(known_before=0, total=20, unseen=20)  # first poll
    assert not looks_anomalous(known_before=20, total=20, unseen=3)  # normal news flow
    assert looks_anomalous(known_before=20, total=20, unseen=20)
    assert not looks_anomalous(known_before=3, total=3, unseen=3)  # tiny feeds turn over


def test_failing_then_recovered(tmp_path: Path, feed_server: FeedServer, receiver: Receiver) -> None:
    clock = Clock(T0)
    p = make(tmp_path, feed_server.url("/f.rss"), receiver.url, clock)
    feed_server.set("/f.rss", "oops", status=500, content_type="text/plain")
    for _ in range(3):
        poll_due(p)
        clock.now += timedelta(minutes=5)
    drain(p, clock)
    assert [e["type"] for e in receiver.accepted()] == ["feed.failing"]  # once, at the 2nd failure
    failing = receiver.accepted()[0]
    assert failing["feed"]["name"] == "wire" and "HTTP 500" in failing["detail"]["error"]
    feed_server.set("/f.rss", items("a", 2))
    poll_due(p)
    poll_due(p)
    drain(p, clock)
    kinds = [e["type"] for e in receiver.accepted()]
    assert kinds.count("feed.recovered") == 1 and kinds[0] == "feed.failing"


def test_every_guid_changing_sends_one_anomaly_and_holds_the_flood(
    tmp_path: Path, feed_server: FeedServer, receiver: Receiver
) -> None:
    clock = Clock(T0)
    p = make(tmp_path, feed_server.url("/f.rss"), receiver.url, clock)
    feed_server.set("/f.rss", items("first"))
    poll_due(p)
    drain(p, clock)
    opened = len(receiver.accepted())
    assert opened == 8  # eight developing stories, each opened once
    # The publisher regenerates every GUID and every item changes at once (a template bug, an error page
    # injected into each item): without the breaker that is eight story.updated alerts in one poll.
    changed = items("second", extra="Template notice {i} from Webmaster Jones applies to 40{i} pages.")
    feed_server.set("/f.rss", changed)
    clock.now += timedelta(minutes=2)
    poll_due(p)
    drain(p, clock)
    new = receiver.accepted()[opened:]
    assert [e["type"] for e in new] == ["feed.anomaly"]
    assert new[0]["detail"]["unseen_guids"] == 8
    held = outbox.list_deliveries(p.db, ("held",))
    assert held, "the poll's alerts should be held, not dropped"
    assert outbox.retry(p.db, clock(), held=True) == len(held)
    drain(p, clock)
    assert len(receiver.accepted()) == opened + 1 + len(held)
