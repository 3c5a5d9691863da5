"""The acceptance scenario of the end-to-end issue, driven from outside through ``news-monitor once``,
with a config in exactly the documented keys, a feed server and a webhook receiver on 127.0.0.1.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from tests.servers import FeedServer, Receiver, rss
from tests.support import SECRET, SeedStory, run_cli
from tests.support.e2e import UNRELATED, write_config

pytestmark = pytest.mark.e2e


def once(config: Path) -> None:
    result = run_cli("once", "--config", str(config), "--flush-timeout", "20s")
    assert result.returncode == 0, result.stderr


def html(body: str) -> str:
    return "".join(f"<p>{p.strip()}</p>" for p in body.split("\n\n") if p.strip())


def verified(receiver: Receiver) -> list[dict[str, Any]]:
    """Every accepted event, each checked with the independent Standard Webhooks implementation."""
    hook = Webhook(SECRET)
    for post in receiver.all_posts():
        hook.verify(post["body"], post["headers"])  # raises on a bad signature
    return receiver.accepted()


def of_type(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == kind]


def test_seed_flash_then_long_version_by_feed(
    tmp_path: Path, feed_server: FeedServer, receiver: Receiver, seed_story: SeedStory
) -> None:
    feed_server.set("/news.rss", rss(UNRELATED))
    config = write_config(
        tmp_path, {"news": feed_server.url("/news.rss"), "wire": feed_server.url("/wire.rss")}, receiver
    )
    feed_server.set("/wire.rss", rss([]))
    (tmp_path / "seeds" / "aleppo.txt").write_text(f"{seed_story.headline}\n\n{seed_story.flash}\n", encoding="utf-8")

    # 1. The flash in the seed folder opens a tracked story; unrelated news sends nothing more.
    once(config)
    events = verified(receiver)
    assert [e["type"] for e in events] == ["story.opened"]
    opened = events[0]
    assert opened["watchlists"] == [{"name": "syria", "matched": ["Aleppo"]}]

    # 2. The long version arrives under another URL and headline: exactly one story.updated.
    long_item = {
        "title": "Syria's army retakes all of Aleppo; U.N. warns Idlib may be next",
        "link": "http://news.test/world/aleppo-full",
        "description": html(seed_story.full),
    }
    feed_server.set("/news.rss", rss([*UNRELATED, long_item]))
    once(config)
    events = verified(receiver)
    updates = of_type(events, "story.updated")
    assert len(updates) == 1
    update = updates[0]
    assert update["story"]["id"] == opened["story"]["id"]
    assert update["previous_event_id"] == opened["id"]
    assert update["sequence"] == 2
    added = " ".join(update["update"]["added"])
    assert "34,000 people" in added
    assert "Staffan de Mistura" in added and "Idlib" in added
    flash_sentence = "The last group of rebels and their families holed up in a small enclave"
    assert flash_sentence not in added, "the flash's sentences were reported again"
    assert "Check back for updates" not in added
    facts = update["update"]["facts"]
    assert any(n.startswith("34,000") for n in facts["numbers"])
    assert any("Many of them have gone to Idlib" in q for q in facts["quotes"])
    assert "Staffan de Mistura" in " ".join(facts["names"])
    assert update["update"]["headline_changed"] is True
    assert update["update"]["article"]["url"] == "http://news.test/world/aleppo-full"

    # 3. Polled again unchanged, then answered with a 304: no new event.
    once(config)
    assert len(verified(receiver)) == 2
    feed_server.set("/news.rss", rss([*UNRELATED, long_item]))  # same bytes: the ETag matches -> 304
    before = len(feed_server.requests_to("/news.rss"))
    once(config)
    conditional = feed_server.requests_to("/news.rss")[before:]
    assert conditional and conditional[-1]["headers"].get("if-none-match")
    assert len(verified(receiver)) == 2

    # 4. The same long text from a second feed, under a new URL: nothing new, no event.
    copy = {**long_item, "link": "http://wire.test/aleppo-copy"}
    feed_server.set("/wire.rss", rss([copy]))
    once(config)
    assert len(verified(receiver)) == 2
    stories = json.loads(run_cli("stories", "--config", str(config), "--json").stdout)
    assert len(stories) == 1 and stories[0]["version_count"] == 3


def test_reverse_order_flash_by_feed_first(
    tmp_path: Path, feed_server: FeedServer, receiver: Receiver, seed_story: SeedStory
) -> None:
    flash = {
        "title": seed_story.headline,
        "link": "http://wire.test/flash",
        "description": html(seed_story.flash),
    }
    feed_server.set("/news.rss", rss([*UNRELATED, flash]))
    config = write_config(tmp_path, {"news": feed_server.url("/news.rss")}, receiver)
    once(config)
    assert [e["type"] for e in verified(receiver)] == ["story.opened"]

    full = {
        "title": "Aleppo evacuation nears end as U.N. warns on Idlib",
        "link": "http://other.test/aleppo",
        "description": html(seed_story.full),
    }
    feed_server.set("/news.rss", rss([*UNRELATED, flash, full]))
    once(config)
    events = verified(receiver)
    assert [e["type"] for e in events] == ["story.opened", "story.updated"]
    assert "34,000 people" in " ".join(events[1]["update"]["added"])


def test_receiver_500_first_is_retried_with_the_same_id(
    tmp_path: Path, feed_server: FeedServer, receiver: Receiver, seed_story: SeedStory
) -> None:
    receiver.script = [500]
    config = write_config(tmp_path, {}, receiver)
    (tmp_path / "seeds" / "aleppo.txt").write_text(f"{seed_story.headline}\n\n{seed_story.flash}\n", encoding="utf-8")
    once(config)
    posts = receiver.all_posts()
    assert [p["status"] for p in posts] == [500, 200]
    assert posts[0]["headers"]["webhook-id"] == posts[1]["headers"]["webhook-id"]
    assert posts[0]["body"] == posts[1]["body"]
    assert len(verified(receiver)) == 1
    once(config)  # nothing left to send
    assert len(receiver.all_posts()) == 2


def test_changed_seed_file_is_a_new_version(tmp_path: Path, receiver: Receiver, seed_story: SeedStory) -> None:
    config = write_config(tmp_path, {}, receiver)
    seed = tmp_path / "seeds" / "aleppo.txt"
    seed.write_text(f"{seed_story.headline}\n\n{seed_story.flash}\n", encoding="utf-8")
    once(config)
    seed.write_text(f"{seed_story.headline}\n\n{seed_story.full}\n", encoding="utf-8")
    once(config)
    seed.unlink()  # a deleted seed file is not an error
    result = run_cli("once", "--config", str(config), "--strict")
    assert result.returncode == 0, result.stderr
    assert [e["type"] for e in verified(receiver)] == ["story.opened", "story.updated"]
