"""Page checks: the pure schedule and change decision by tables, page reading, and the job end to end
against real HTTP servers on 127.0.0.1 with an injected clock (no test sleeps for a schedule)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.core import pagecheck as pc
from monitor.sources.pages import read_page
from monitor.store import outbox, stories
from monitor.store import pages as page_store
from tests.servers import FeedServer
from tests.support import Clock, SeedStory
from tests.support.pages import ARTICLE, T0, World, events_of, html, live_page, open_story

# --- the schedule, by table --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("interval", "changed", "failures", "jitter", "expect"),
    [
        (0, False, 0, 0.0, 120),  # never checked: the minimum
        (120, False, 0, 0.0, 240),  # unchanged: doubles
        (240, False, 0, 0.0, 480),
        (2400, False, 0, 0.0, 3600),  # ...up to the maximum
        (3600, False, 0, 0.0, 3600),
        (3600, True, 0, 0.0, 120),  # a change: back to the minimum
        (480, False, 1, 0.0, 120),  # failing: from the minimum, by powers of two
        (480, False, 3, 0.0, 480),
        (480, False, 30, 0.0, 3600),  # ...capped
        (120, False, 0, 0.1, 264),  # jitter moves the time, not the interval
        (120, False, 0, -0.1, 216),
    ],
)
def test_next_page_check(interval: float, changed: bool, failures: int, jitter: float, expect: float) -> None:
    s = pc.next_page_check(T0, interval, changed, failures, jitter, min_interval=120, max_interval=3600)
    assert s.next_at == T0 + timedelta(seconds=expect)
    assert s.interval == pytest.approx(expect / (1 + jitter))


def test_page_gone_rules() -> None:
    assert pc.page_gone(410, 1)
    assert not pc.page_gone(404, 1) and pc.page_gone(404, 2)
    assert not pc.page_gone(500, 5) and not pc.page_gone(None, 9)


# --- what counts as a change -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("after", "material"),
    [
        ([*ARTICLE, "Updated 5 minutes ago"], False),
        ([*ARTICLE, "132 comments"], False),
        (["Advertisement", *ARTICLE, "Last updated: 26 Nov 2026 10:32 GMT"], False),
        (list(reversed(ARTICLE)), False),  # re-ordered
        (ARTICLE[:1], False),  # shortened
        ([*ARTICLE, "Ferries will run every 15 minutes until the bridge reopens."], True),
        ([*ARTICLE, "Updated figures show 34 people were hurt in the collapse."], True),  # a real "Updated"
    ],
)
def test_page_change(after: list[str], material: bool) -> None:
    known = [pc.fingerprint(p) for p in ARTICLE]
    assert pc.page_change(known, "\n\n".join(after)).material is material


def test_a_correction_is_flagged() -> None:
    known = [pc.fingerprint(p) for p in ARTICLE]
    note = "Correction: An earlier version of this story misstated the number of cracks. There were two."
    change = pc.page_change(known, "\n\n".join([*ARTICLE, note]))
    assert change.material and change.correction
    assert not pc.page_change(known, "\n\n".join([*ARTICLE, "The mayor said more later."])).correction


def test_new_live_posts_come_oldest_first_wherever_the_page_lists_them() -> None:
    old = [pc.LivePost("First post.", "2026-03-01T10:00:00Z", "p1")]
    top = [pc.LivePost("Newest.", "2026-03-01T10:20:00Z", "p3"), pc.LivePost("Second.", "2026-03-01T10:10:00Z", "p2")]
    assert [p.id for p in pc.new_live_posts(["p1"], [*top, *old])] == ["p2", "p3"]
    assert [p.id for p in pc.new_live_posts(["p1"], [*old, *reversed(top)])] == ["p2", "p3"]


# --- reading a page ----------------------------------------------------------------------------------------


def test_read_page_finds_live_posts_canonical_and_markers() -> None:
    posts = [("p2", "2026-03-01T10:10:00Z", "Divers reached the piers."), ("p1", "2026-03-01T10:00:00Z", "Closed.")]
    view = read_page(live_page(posts, "/live/porto").encode(), "http://x.test/live/porto?ref=rss")
    assert view.title == "LIVE: Porto bridge"
    assert view.canonical == "http://x.test/live/porto"
    assert view.markers == ("LiveBlogPosting",)
    assert [(p.id, p.text) for p in view.live_posts] == [("p2", "Divers reached the piers."), ("p1", "Closed.")]


def test_read_page_survives_broken_json_ld_and_garbage() -> None:
    view = read_page(b"<html><script type='application/ld+json'>{oops</script><p>x</p></html>", "http://x.test/")
    assert view.live_posts == () and view.canonical is None
    assert read_page(b"", "http://x.test/").text is None


# --- the job against real servers --------------------------------------------------------------------------


@pytest.fixture
def world(tmp_path: Path, feed_server: FeedServer) -> Iterator[World]:
    yield World(feed_server, Clock(T0), tmp_path, {})


def test_seed_flash_then_full_version_at_the_same_url(world: World, seed_story: SeedStory) -> None:
    """The seed scenario: the flash at a URL, then the full version at the same URL, the feed unchanged:
    exactly one story.updated, listing what was added (today nothing is reported)."""
    flash = seed_story.flash.split("\n\n")
    full = seed_story.full.split("\n\n")
    p = open_story(world, seed_story.headline, seed_story.flash, html(seed_story.headline, flash))
    assert [o.result for o in world.later(p)] == ["unchanged"]  # the flash: nothing new, no version
    world.server.set("/story", html(seed_story.headline, full), content_type="text/html; charset=utf-8")
    outcomes = world.later(p, 300)
    assert [o.result for o in outcomes] == ["changed"]
    updates = [e for e in events_of(p) if e["type"] == "story.updated"]
    assert len(updates) == 1
    update = updates[0]["update"]
    added = " ".join(update["added"])
    assert "34,000 people" in added and "Staffan de Mistura" in added
    assert "holed up in a small enclave" not in added  # the flash is not reported again
    assert update["article"]["via"] == "page" and update["article"]["url"] == world.server.url("/story")
    assert update["correction"] is False
    # Checked again: a 304, nothing new.
    assert [o.result for o in world.later(p, 200)] == ["not-modified"]
    assert len([e for e in events_of(p) if e["type"] == "story.updated"]) == 1
    assert len(world.server.requests_to("/f.rss")) == 1  # the feed was never polled again


def test_churn_only_makes_no_version_and_no_event(world: World) -> None:
    paras = [*ARTICLE, "The mayor said the bridge would stay closed for at least 10 days. Check back for updates."]
    p = open_story(world, "BREAKING: Porto closes Luiz I bridge", ARTICLE[0], html("Porto bridge", paras, "<li>A</li>"))
    world.later(p)
    for i in range(5):
        churn = f"<li>Headline {i}</li><li>{i * 17} comments</li><li>Updated {i + 1} minutes ago</li>"
        inside = [f"Updated {i + 1} minutes ago", *paras, f"{i * 3} comments"]  # churn inside the article too
        world.server.set("/story", html("Porto bridge", inside, churn), content_type="text/html")
        world.later(p, 4000)
    [story] = stories.list_stories(p.db)
    versions = story.version_count
    assert [e["type"] for e in events_of(p)] == ["story.opened"]
    assert versions == 2  # the feed's summary and its full text; nothing from the checks
    [page] = page_store.list_pages(p.db)
    assert page.checks == 6 and page.changes == 0 and page.interval_s == 3600


def test_a_live_page_gaining_posts_at_the_top(world: World) -> None:
    posts = [("p1", "2026-03-01T10:00:00Z", "LIVE: Porto bridge closed after inspectors found a crack in the deck.")]
    p = open_story(world, "LIVE: Porto bridge closed", "Porto bridge closed.", live_page(posts))
    world.later(p)
    posts = [
        ("p3", "2026-03-01T10:20:00Z", "Divers have reached the second pier and found no new damage there."),
        ("p2", "2026-03-01T10:10:00Z", "The metro operator says trains will turn back at both ends of the bridge."),
        *posts,
    ]
    world.server.set("/story", live_page(posts), content_type="text/html")
    assert [o.result for o in world.later(p)] == ["changed"]
    [update] = [e for e in events_of(p) if e["type"] == "story.updated"]
    live = update["update"]["live_posts"]
    assert [x["time"] for x in live] == ["2026-03-01T10:10:00Z", "2026-03-01T10:20:00Z"]
    assert "metro operator" in live[0]["text"] and "second pier" in live[1]["text"]


def test_404_twice_ends_the_watch_with_one_page_gone(world: World) -> None:
    p = open_story(world, "BREAKING: Porto closes bridge", ARTICLE[0], html("Porto", ARTICLE))
    world.server.set("/story", "gone", status=404, content_type="text/html")
    assert [o.result for o in world.later(p)] == ["error"]
    assert [o.result for o in world.later(p, 400)] == ["gone"]
    assert world.later(p, 4000) == []  # no more checks, no retries forever
    gone = [e for e in events_of(p) if e["type"] == "story.page_gone"]
    assert len(gone) == 1 and gone[0]["page"]["status"] == 404 and gone[0]["sequence"] == 2
    [page] = page_store.list_pages(p.db)
    assert page.status == "gone"


def test_410_ends_the_watch_at_once(world: World) -> None:
    p = open_story(world, "BREAKING: Porto closes bridge", ARTICLE[0], html("Porto", ARTICLE))
    world.server.set("/story", "gone", status=410, content_type="text/html")
    assert [o.result for o in world.later(p)] == ["gone"]
    assert [e["type"] for e in events_of(p)] == ["story.opened", "story.page_gone"]


def test_page_gone_payload_is_pinned(world: World) -> None:
    """The body of ``story.page_gone``, field by field (receivers parse it; tests/test_event_payloads.py pins
    the other event types)."""
    p = open_story(world, "BREAKING: Porto closes bridge", ARTICLE[0], html("Porto", ARTICLE))
    world.server.set("/story", "gone", status=410, content_type="text/html")
    assert [o.result for o in world.later(p)] == ["gone"]
    [opened, gone] = outbox.list_deliveries(p.db, ("pending", "delivered"))
    story = stories.get_story(p.db, gone.story_id or "")
    assert story is not None and story.last_event_id == gone.event_id and story.event_seq == 2
    assert gone.webhook == "@log"
    url = world.server.url("/story")
    assert gone.payload == {
        "schema": "news-monitor/event/v1",
        "id": gone.event_id,
        "type": "story.page_gone",
        "created_at": (T0 + timedelta(seconds=130)).isoformat().replace("+00:00", "Z"),
        "story": {"id": story.id, "title": "BREAKING: Porto closes bridge", "url": url, "status": "open",
                  "developing": True},
        "sequence": 2,
        "previous_event_id": opened.event_id,
        "update": None,
        "page": {"url": url, "final_url": None, "status": 410},
        "watchlists": [{"name": "syria", "matched": ["Porto"]}],
    }  # fmt: skip
    assert list(gone.payload) == ["schema", "id", "type", "created_at", "story", "sequence", "previous_event_id",
                                  "update", "page", "watchlists"]  # fmt: skip
    assert list(gone.payload["story"]) == ["id", "title", "url", "status", "developing"]


def test_a_redirect_is_followed_and_recorded(world: World) -> None:
    p = open_story(world, "BREAKING: Porto closes bridge", ARTICLE[0], html("Porto", ARTICLE))
    world.server.set("/story", "", status=301, headers={"Location": "/story-v2"}, conditional=False)
    more = [*ARTICLE, "Ferries across the Douro will run every 15 minutes until the bridge reopens."]
    world.server.set("/story-v2", html("Porto", more), content_type="text/html")
    assert [o.result for o in world.later(p)] == ["changed"]
    [page] = page_store.list_pages(p.db)
    assert page.final_url == world.server.url("/story-v2")


def test_a_slow_page_fails_alone_and_backs_off(world: World) -> None:
    p = open_story(world, "BREAKING: Porto closes bridge", ARTICLE[0], html("Porto", ARTICLE))
    world.server.set("/story", html("Porto", ARTICLE), content_type="text/html", delay=3.0)
    [outcome] = world.later(p)
    assert outcome.result == "error" and "timed out" in (outcome.error or "")
    [page] = page_store.list_pages(p.db)
    assert page.failures == 1 and page.last_error and page.next_check_at > world.clock.now


def test_page_checks_off(world: World) -> None:
    world.extra["page_checks"] = False
    p = open_story(world, "BREAKING: Porto closes bridge", ARTICLE[0], html("Porto", ARTICLE))
    assert world.later(p) == []
    assert page_store.list_pages(p.db) == []


def test_a_quiet_story_stops_its_checks(world: World) -> None:
    p = open_story(world, "BREAKING: Porto closes bridge", ARTICLE[0], html("Porto", ARTICLE))
    world.later(p)
    [story] = stories.list_stories(p.db)
    with p.db.write() as conn:
        from sqlalchemy import update

        from monitor.store.schema import stories as table

        conn.execute(update(table).where(table.c.id == story.id).values(status="quiet"))
    assert world.later(p, 4000) == []


def test_a_correction_added_to_the_page_is_flagged(world: World) -> None:
    p = open_story(world, "BREAKING: Porto closes bridge", ARTICLE[0], html("Porto", ARTICLE))
    world.later(p)
    note = "Correction: An earlier version of this story said three cracks were found; inspectors found two."
    world.server.set("/story", html("Porto", [*ARTICLE, note]), content_type="text/html")
    assert [o.result for o in world.later(p)] == ["changed"]
    [update] = [e for e in events_of(p) if e["type"] == "story.updated"]
    assert update["update"]["correction"] is True and update["update"]["article"]["via"] == "page"


def test_a_canonical_link_is_watched_too(world: World) -> None:
    page = html("Porto", ARTICLE).replace("<head>", f"<head><link rel='canonical' href='{world.server.url('/c')}'>")
    world.server.set("/c", html("Porto", ARTICLE), content_type="text/html")
    p = open_story(world, "BREAKING: Porto closes bridge", ARTICLE[0], page)
    world.later(p)
    assert sorted(pg.url for pg in page_store.list_pages(p.db)) == [world.server.url("/c"), world.server.url("/story")]
    assert sorted(o.result for o in world.later(p, 4000)) == ["not-modified", "unchanged"]
    assert [e["type"] for e in events_of(p)] == ["story.opened"]  # the same text twice is not news


def test_live_posts_from_markup_without_json_ld() -> None:
    page = (
        "<html><head><title>LIVE: Porto bridge</title></head><body><div class='liveblog'>"
        "<article class='live-post' id='post-2'><time datetime='2026-03-01T10:10:00Z'>10:10</time>"
        "<p>Trains turn back at both ends.</p></article>"
        "<article class='live-post' id='post-1'><time datetime='2026-03-01T10:00:00Z'>10:00</time>"
        "<p>The bridge is closed.</p><div class='live-post__share'>Share</div></article></div></body></html>"
    )
    view = read_page(page.encode(), "http://x.test/live")
    assert [(p.id, p.time, p.text) for p in view.live_posts] == [
        ("post-2", "2026-03-01T10:10:00Z", "Trains turn back at both ends."),
        ("post-1", "2026-03-01T10:00:00Z", "The bridge is closed."),
    ]
    assert view.markers == ()  # markup posts alone do not claim LiveBlogPosting
