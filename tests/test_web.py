"""The web pages and Atom feeds of the HTTP listener, on a story built from the seed scenario.

The story is made the way the daemon makes it (the pipeline scans a seed folder: the flash, then the long
version), in a real SQLite database; requests go through the ASGI app with httpx's ASGI transport, and
one test runs the real uvicorn listener on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import feedparser
import httpx
import pytest

from monitor.config import parse_config
from monitor.errors import ConfigError, MonitorError
from monitor.service import http as http_listener
from monitor.store import stories as story_store
from monitor.store.db import Database
from tests.support import SeedStory
from tests.support.web import Built, app_for, get, serving

# --- pages ----------------------------------------------------------------------------------------------


def test_story_list_newest_first_with_watchlists_and_outlets(built: Built) -> None:
    page = get(app_for(built), "/")
    assert page.status_code == 200
    html = page.text
    assert html.index("Syria&#39;s army retakes all of Aleppo") < html.index("Stocks edge higher")
    assert f'href="/stories/{built.story_id}"' in html
    assert ">syria</span>" in html and ">markets</span>" in html
    assert "seed folder" in html  # the outlet of the seed articles
    assert "1h ago" in html  # last update, against the injected clock


def test_story_list_filters_by_watchlist(built: Built) -> None:
    html = get(app_for(built), "/?watchlist=markets").text
    assert "Stocks edge higher" in html
    assert f"/stories/{built.story_id}" not in html
    assert f"/stories/{built.other_id}" in html
    assert "No open stories in nobody" in get(app_for(built), "/?watchlist=nobody").text


def test_timeline_highlights_what_each_version_added(built: Built, seed_story: SeedStory) -> None:
    page = get(app_for(built), f"/stories/{built.story_id}")
    assert page.status_code == 200
    v1, v2 = page.text.split('id="v1"')[1].split('id="v2"')
    flash_sentence = "The last group of rebels and their families holed up in a small enclave"
    # Version 1 added its sentences; version 2 repeats them as known and highlights only what is new.
    assert f'<mark class="added">{flash_sentence}' in v1
    assert f'<span class="known">{flash_sentence}' in v2
    assert '<mark class="added">At least 34,000 people' in v2
    assert '<span class="boilerplate">Check back for updates' in v2  # never news, told apart
    assert "opened this story" in v1.split("Why matched")[1]
    assert "2 known" in v2  # the flash's two sentences, repeated
    assert "34,000 people" in v2.split("New facts")[1]  # the extracted facts
    assert "Staffan de Mistura" in v2.split("New facts")[1]
    assert "same item" in v2.split("Why matched")[1]  # why it was matched
    assert "headline changed" in v2


def test_timeline_of_a_missing_story_is_a_404_page(built: Built) -> None:
    page = get(app_for(built), "/stories/st_nope")
    assert page.status_code == 404
    assert "No such story." in page.text
    assert "content-security-policy" in page.headers


def test_feeds_page_shows_health(built: Built) -> None:
    from monitor.store import feed_state

    feed_state.sync_feeds(built.db, [("wire", "http://127.0.0.1:9/wire.rss", 300)], built.clock())
    page = get(app_for(built), "/feeds")
    assert page.status_code == 200
    assert ">wire</td>" in page.text and "status-new" in page.text


def test_everything_from_feeds_is_escaped_and_no_script_runs(built: Built) -> None:
    evil = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    with story_store.ingest_transaction(built.db) as tx:
        tx.update_story(built.story_id, title=evil, url="javascript:alert(3)")
    app = app_for(built)
    for path in ("/", f"/stories/{built.story_id}"):
        html = get(app, path).text
        assert "<script" not in html and "<img" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "javascript:" not in html
        assert " style=" not in html  # the CSP allows our stylesheet only: no inline styles


def test_strict_csp_on_every_response(built: Built) -> None:
    app = app_for(built)
    for path in ("/", f"/stories/{built.story_id}", "/feeds", "/updates.atom", "/static/style.css", "/nope"):
        csp = get(app, path).headers["content-security-policy"]
        assert "default-src 'none'" in csp and "style-src 'self'" in csp and "script-src" not in csp


def test_read_only_no_method_changes_state(built: Built) -> None:
    before = story_store.counts(built.db)
    app = app_for(built)
    for path in ("/", f"/stories/{built.story_id}", "/feeds", "/updates.atom", "/metrics", "/readyz"):
        for method in ("POST", "PUT", "DELETE", "PATCH"):
            assert get(app, path, method).status_code == 405, (method, path)
        assert get(app, path).status_code == 200
    assert story_store.counts(built.db) == before


# --- Atom -----------------------------------------------------------------------------------------------


def test_atom_feed_has_one_entry_per_update_and_parses_cleanly(built: Built) -> None:
    response = get(app_for(built), "/updates.atom")
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert len(feed.entries) == 1  # story.opened is not an update; the one story.updated is
    entry = feed.entries[0]
    assert entry.id.startswith("tag:news-monitor,2024:event/evt_")
    assert entry.updated == "2024-01-05T10:00:00Z"  # the event's time: a new update is a new entry
    assert entry.link == f"http://127.0.0.1:8080/stories/{built.story_id}#v2"
    assert "Update 2" in entry.title
    content = entry.content[0].value
    assert "At least 34,000 people" in content
    assert "The last group of rebels and their families holed up" not in content  # known, not added
    assert [t.term for t in entry.tags] == ["syria"]


def test_atom_feed_per_watchlist(built: Built) -> None:
    app = app_for(built)
    syria = feedparser.parse(get(app, "/watchlists/syria/updates.atom").content)
    markets = feedparser.parse(get(app, "/watchlists/markets/updates.atom").content)
    assert not syria.bozo and not markets.bozo
    assert len(syria.entries) == 1 and markets.entries == []
    assert syria.feed.id != markets.feed.id
    assert get(app, "/updates.atom").content == get(app, "/updates.atom").content  # stable for readers


# --- the listener ----------------------------------------------------------------------------------------


def test_listener_serves_over_a_real_socket(built: Built) -> None:
    with serving(app_for(built)) as url:
        assert url.startswith("http://127.0.0.1:")
        assert httpx.get(url + "healthz").text == "ok\n"
        assert "Open stories" in httpx.get(url).text


def test_listener_in_the_event_loop_keeps_the_daemons_signals(built: Built) -> None:
    async def go() -> tuple[object, object, object]:
        before = signal.getsignal(signal.SIGTERM)
        listener = await http_listener.start("127.0.0.1:0", built.db, ready=lambda: {"scheduler": True})
        assert listener is not None
        during = signal.getsignal(signal.SIGTERM)
        async with httpx.AsyncClient() as client:
            ready = await client.get(listener.url + "readyz")
        assert ready.json() == {"ready": True, "checks": {"database": True, "scheduler": True}}
        await http_listener.stop(listener)
        return before, during, signal.getsignal(signal.SIGTERM)

    before, during, after = asyncio.run(go())
    assert before is during is after


def test_listener_off_when_not_configured(built: Built) -> None:
    assert asyncio.run(http_listener.start("", built.db)) is None


def test_a_taken_port_is_a_monitor_error_naming_the_address(built: Built) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(MonitorError, match=f"http_listen 127.0.0.1:{port}: cannot listen"):
            asyncio.run(http_listener.start(f"127.0.0.1:{port}", built.db))


@pytest.mark.parametrize("value", ["8080", "127.0.0.1", "127.0.0.1:http", "127.0.0.1:70000", "a b:80"])
def test_config_rejects_a_bad_listen_address(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config({"monitor": {"http_listen": value}}, base=tmp_path)
    assert any(p.startswith("monitor.http_listen: must be 'host:port'") for p in err.value.problems)


@pytest.mark.parametrize("value", ["", "127.0.0.1:8080", "[::1]:8080", "localhost:9100"])
def test_config_accepts_listen_addresses(tmp_path: Path, value: str) -> None:
    assert parse_config({"monitor": {"http_listen": value}}, base=tmp_path).monitor.http_listen == value


def test_the_daemon_runs_the_listener_and_stops_it(built: Built) -> None:
    from monitor.service.daemon import Daemon

    raw = {"monitor": {"database": built.db.url, "http_listen": "127.0.0.1:0", "poll_interval": "1h"}}
    daemon = Daemon(parse_config(raw, base=built.tmp), Database(built.db.url))

    async def go() -> tuple[int, str, bool]:
        task = asyncio.create_task(daemon.run())
        for _ in range(500):
            if daemon.http is not None and daemon.http.server.started:
                break
            await asyncio.sleep(0.01)
        assert daemon.http is not None, "the daemon did not start its listener"
        url = daemon.http.url
        async with httpx.AsyncClient() as client:
            ready = await client.get(url + "readyz")
            scrape = (await client.get(url + "metrics")).text
        daemon.request_stop()
        await asyncio.wait_for(task, 30)
        with pytest.raises(httpx.ConnectError):
            httpx.get(url + "healthz")
        return ready.status_code, scrape, daemon.scheduler.running

    code, scrape, running = asyncio.run(go())
    assert code == 200
    assert 'news_monitor_config_reloads_total{result="ok"} 0.0' in scrape
    assert 'news_monitor_stories{status="open"} 2.0' in scrape
    assert not running
