"""What operators see of page checks: ``news-monitor pages``, ``stories show``, ``inspect URL``, the story
page of the web UI and /metrics. The state is made by the real pipeline against a page on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from monitor.service import metrics
from monitor.store import stories
from monitor.web.app import create_app
from tests.servers import FeedServer
from tests.support import Clock, run_cli
from tests.support.pages import ARTICLE, T0, World, html, live_page, open_story


@pytest.fixture
def world(tmp_path: Path, feed_server: FeedServer) -> World:
    return World(feed_server, Clock(T0), tmp_path, {})


MORE = [*ARTICLE, "Ferries across the Douro will run every 15 minutes until the bridge reopens, officials said."]


def grown(world: World) -> Any:
    """A tracked story whose page grew once (one version found by a page check)."""
    p = open_story(world, "BREAKING: Porto closes Luiz I bridge", ARTICLE[0], html("Porto bridge", ARTICLE))
    world.later(p)
    world.server.set("/story", html("Porto bridge", MORE), content_type="text/html")
    assert [o.result for o in world.later(p)] == ["changed"]
    return p


def config_file(world: World, allow_private: bool = True) -> Path:
    path = world.tmp / "monitor.toml"
    path.write_text(
        f'[monitor]\ndatabase = "sqlite:///m.db"\nallow_private_addresses = {str(allow_private).lower()}\n',
        encoding="utf-8",
    )
    return path


def test_pages_lists_watched_pages(world: World) -> None:
    p = grown(world)
    [story] = stories.list_stories(p.db)
    out = run_cli("pages", "--config", str(config_file(world)), "--json")
    assert out.returncode == 0, out.stderr
    [row] = json.loads(out.stdout)
    assert row["story"] == story.id and row["url"] == world.server.url("/story")
    assert row["changes"] == 1 and row["checks"] == 2 and row["failures"] == 0 and row["status"] == "watching"
    assert row["last_change"] and row["next_check"]
    text = run_cli("pages", "--config", str(config_file(world)), env={"COLUMNS": "300"})
    assert world.server.url("/story") in text.stdout and "watching" in text.stdout


def test_stories_show_lists_the_storys_pages(world: World) -> None:
    p = grown(world)
    [story] = stories.list_stories(p.db)
    out = run_cli("stories", "show", story.id, "--config", str(config_file(world)), env={"COLUMNS": "300"})
    assert out.returncode == 0, out.stderr
    assert "pages:" in out.stdout and world.server.url("/story") in out.stdout
    shown = json.loads(run_cli("stories", "show", story.id, "--config", str(config_file(world)), "--json").stdout)
    assert [pg["url"] for pg in shown["pages"]] == [world.server.url("/story")]


def test_inspect_prints_what_a_page_check_sees(world: World, feed_server: FeedServer) -> None:
    posts = [("p1", "2026-03-01T10:00:00Z", "Divers reached the second pier and found no new damage.")]
    feed_server.set("/live", live_page(posts, "/live-canonical"), content_type="text/html")
    out = run_cli("inspect", feed_server.url("/live"), "--config", str(config_file(world)), "--json")
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout)
    assert seen["title"] == "LIVE: Porto bridge" and seen["canonical"] == feed_server.url("/live-canonical")
    assert "markup:LiveBlogPosting" in seen["developing_markers"]
    assert [x["text"] for x in seen["live_posts"]] == [posts[0][2]]
    human = run_cli("inspect", feed_server.url("/live"), "--config", str(config_file(world)))
    assert "live posts: 1" in human.stdout and "Divers reached" in human.stdout


def test_inspect_keeps_the_ssrf_guard(world: World, feed_server: FeedServer) -> None:
    feed_server.set("/p", html("x", ARTICLE), content_type="text/html")
    out = run_cli("inspect", feed_server.url("/p"), "--config", str(config_file(world, allow_private=False)))
    assert out.returncode == 1 and "non-public address" in out.stderr
    assert feed_server.requests_to("/p") == []


def get(app: Any, path: str) -> httpx.Response:
    async def go() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            return await client.get(path)

    return asyncio.run(go())


def test_the_story_page_marks_versions_found_by_a_page_check(world: World) -> None:
    p = grown(world)
    [story] = stories.list_stories(p.db)
    app = create_app(p.db, clock=world.clock, registry=metrics.registry_for(p.db, world.clock, base=metrics.Metrics()))
    page = get(app, f"/stories/{story.id}").text
    assert page.count('class="badge page-check"') == 1  # the feed's two versions carry no mark


def test_metrics_count_page_checks(world: World) -> None:
    before = {r: metrics.METRICS.page_checks.labels(result=r)._value.get() for r in ("changed", "not-modified")}
    p = grown(world)
    world.later(p)  # a 304
    after = {r: metrics.METRICS.page_checks.labels(result=r)._value.get() for r in ("changed", "not-modified")}
    assert after["changed"] - before["changed"] == 1
    assert after["not-modified"] - before["not-modified"] == 1
    app = create_app(p.db, clock=world.clock, registry=metrics.registry_for(p.db, world.clock))
    exposed = get(app, "/metrics").text
    assert 'news_monitor_page_checks_total{result="changed"}' in exposed


def test_inspect_prints_no_control_characters(world: World, feed_server: FeedServer) -> None:
    feed_server.set("/esc", html("Title \x1b[2J", [*ARTICLE, "Bridge \x1b]0;owned\x07 closed for repairs."]),
                    content_type="text/html")  # fmt: skip
    out = run_cli("inspect", feed_server.url("/esc"), "--config", str(config_file(world)))
    assert out.returncode == 0, out.stderr
    assert "\x1b" not in out.stdout and "\x07" not in out.stdout and "closed for repairs" in out.stdout
