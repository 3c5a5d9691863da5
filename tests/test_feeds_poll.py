"""The real poll path (Pipeline -> Poller -> fetch/parse -> ingest -> feed row) on a real SQLite file.

Politeness and resilience: errors end as values on the feed's row, Retry-After is honoured, a
publisher that regenerates GUIDs makes no duplicates, a feed carrying a developing story is polled faster,
and no more than ``host_concurrency`` requests go to one host at once.
"""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from monitor.store import stories
from monitor.store.db import Database
from tests.servers import FeedServer, rss
from tests.support import Clock
from tests.support.polling import NOW, make_config, poll, state

DEVELOPING = (
    "<p>Firefighters are battling a large blaze at a chemical plant near Rotterdam harbour, "
    "officials said.</p>"
    "<p>This is a developing story. Check back for updates.</p>"
)


def test_regenerated_guids_make_no_duplicates(tmp_path: Path, feed_server: FeedServer) -> None:
    items = [
        {
            "title": f"Story {i}",
            "link": f"http://news.test/{i}?utm_source=rss",
            "guid": f"v1-{i}",
            "description": f"<p>Body of story number {i} with enough words to stand alone.</p>",
        }
        for i in range(3)
    ]
    feed_server.set("/a.rss", rss(items))
    config, clock = make_config(tmp_path, {"a": feed_server.url("/a.rss")}), Clock(NOW)
    assert poll(config, clock)[0].new_articles == 3
    for it in items:  # the publisher's CMS migration: every GUID changes, nothing else does
        it["guid"] = it["guid"].replace("v1", "v2")
    feed_server.set("/a.rss", rss(items))
    clock.now += timedelta(minutes=10)
    [outcome] = poll(config, clock)
    assert outcome.result == "changed" and outcome.new_articles == 0
    db = Database(config.monitor.database)
    assert stories.counts(db)["articles"] == 3
    db.close()


def test_429_retry_after_is_honoured_and_recorded(tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.set("/busy.rss", "slow down", status=429, content_type="text/plain", headers={"Retry-After": "7200"})
    config, clock = make_config(tmp_path, {"busy": feed_server.url("/busy.rss")}), Clock(NOW)
    [outcome] = poll(config, clock)
    assert outcome.result == "error"
    row = state(config, "busy")
    assert row.status == "retrying" and row.failures == 1 and row.last_status == 429
    assert "HTTP 429" in str(row.last_error) and "feed 'busy'" in str(row.last_error)
    assert row.next_poll_at == NOW + timedelta(hours=2)


def test_failures_back_off_and_keep_retrying(tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.set("/gone.rss", "no", status=500, content_type="text/plain")
    config, clock = make_config(tmp_path, {"gone": feed_server.url("/gone.rss")}, max_backoff="1h"), Clock(NOW)
    for _ in range(6):
        poll(config, clock)
    row = state(config, "gone")
    assert row.status == "failing"  # past feed_failing_after: the same rule as the feed.failing event
    assert row.failures == 6 and row.next_poll_at == NOW + timedelta(hours=1)  # capped, still scheduled
    feed_server.set("/gone.rss", rss([{"title": "Back", "link": "http://news.test/back", "description": "ok"}]))
    poll(config, clock)
    row = state(config, "gone")
    assert row.status == "ok" and row.failures == 0 and row.last_error is None


def test_gzip_bomb_is_an_error_on_the_feed_not_a_crash(tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.set(
        "/bomb.rss", gzip.compress(b"<rss>" + b" " * (64 * 1024 * 1024)), headers={"Content-Encoding": "gzip"}
    )
    config = make_config(tmp_path, {"bomb": feed_server.url("/bomb.rss")}, max_feed_bytes=1024 * 1024)
    [outcome] = poll(config, Clock(NOW))
    assert "response larger than 1,048,576 bytes (after decompression)" in str(outcome.error)
    assert state(config, "bomb").status == "retrying"  # "failing" from feed_failing_after (3) failures


def test_a_feed_carrying_a_developing_story_is_polled_faster_then_decays(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    item = {
        "title": "Fire at Rotterdam chemical plant",
        "link": "http://news.test/fire",
        "description": DEVELOPING,
    }
    feed_server.set("/live.rss", rss([item]))
    config = make_config(
        tmp_path, {"live": feed_server.url("/live.rss")}, developing_interval="1m", developing_window="1h"
    )
    clock = Clock(NOW)
    poll(config, clock)
    row = state(config, "live")
    assert row.next_poll_at == NOW + timedelta(minutes=1)  # fast right after the developing article
    clock.now = NOW + timedelta(minutes=30)  # half the window later, nothing new (304): half-way back
    poll(config, clock)
    assert state(config, "live").next_poll_at == clock.now + timedelta(minutes=5.5)
    clock.now = NOW + timedelta(hours=2)  # the story went quiet: back to the feed's own interval
    poll(config, clock)
    assert state(config, "live").next_poll_at == clock.now + timedelta(minutes=10)


def test_an_ordinary_feed_keeps_its_interval(tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.set("/plain.rss", rss([{"title": "Markets", "link": "http://news.test/m", "description": "Calm day."}]))
    config, clock = make_config(tmp_path, {"plain": feed_server.url("/plain.rss")}), Clock(NOW)
    poll(config, clock)
    assert state(config, "plain").next_poll_at == NOW + timedelta(minutes=10)


def counting_transport(body: bytes) -> tuple[httpx.AsyncClient, Callable[[], dict[str, int]]]:
    in_flight: dict[str, int] = {}
    peak: dict[str, int] = {}

    async def handler(request: httpx.Request) -> httpx.Response:
        host = request.url.host
        in_flight[host] = in_flight.get(host, 0) + 1
        peak[host] = max(peak.get(host, 0), in_flight[host])
        await asyncio.sleep(0.02)
        in_flight[host] -= 1
        return httpx.Response(200, stream=httpx.ByteStream(b""), headers={"Content-Type": "application/rss+xml"})

    return httpx.AsyncClient(transport=httpx.MockTransport(handler)), lambda: dict(peak)


def test_per_host_concurrency_limit(tmp_path: Path) -> None:
    feeds = {f"a{i}": f"http://one.test/{i}.rss" for i in range(8)} | {
        f"b{i}": f"http://two.test/{i}.rss" for i in range(8)
    }
    config = make_config(tmp_path, feeds, host_concurrency=2, poll_concurrency=16)
    client, peak = counting_transport(b"")
    poll(config, Clock(NOW), client)
    assert peak() == {"one.test": 2, "two.test": 2}


@pytest.mark.parametrize("processes", [0, 1])
def test_big_feeds_parse_in_a_worker_process(tmp_path: Path, feed_server: FeedServer, processes: int) -> None:
    text = "<p>" + "words " * 200 + "</p>"
    items = [{"title": f"Item {i}", "link": f"http://news.test/{i}", "description": text} for i in range(40)]
    body = rss(items)
    assert len(body) > 32 * 1024
    feed_server.set("/big.rss", body)
    config = make_config(tmp_path, {"big": feed_server.url("/big.rss")}, parse_processes=processes)
    [outcome] = poll(config, Clock(NOW))
    assert outcome.result == "changed" and state(config, "big").items_seen == 40
