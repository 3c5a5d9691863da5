"""Full text for a tracked developing story whose feed has only a summary: fetched once, conditionally,
ingested as a sibling item of the same story; refused for private addresses unless allowed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.config import parse_config
from monitor.service.pipeline import Pipeline
from monitor.sources.fulltext import extract_main_text
from monitor.store import outbox, stories
from tests.servers import FeedServer, rss
from tests.support import make_pipeline
from tests.support.polling import poll_due

PAGE = """<html><head><title>Bridge</title></head><body><nav>Home | World | Sport</nav><article>
<h1>BREAKING: Porto closes Luiz I bridge</h1>
<p>The Luiz I bridge in Porto was closed on Monday after inspectors found a crack, the mayor said.</p>
<p>Engineers from the city counted 3 cracks in the upper deck and ordered the metro to stop at both ends.</p>
<p>The mayor, Rui Moreira, said the bridge would stay closed for at least 10 days while divers inspect the piers.</p>
<p>Ferries across the Douro will run every 15 minutes until the bridge reopens, the transport authority said.</p>
</article><footer>Subscribe to our newsletter</footer></body></html>"""


def make(tmp_path: Path, feed_url: str, allow_private: bool) -> Pipeline:
    raw = {
        "monitor": {"database": "sqlite:///m.db", "allow_private_addresses": allow_private},
        "feeds": [{"name": "wire", "url": feed_url}],
        "watchlists": [{"name": "porto", "keywords": ["Porto"]}],
    }
    return make_pipeline(tmp_path, raw, sync_feeds=True)


def setup(server: FeedServer) -> None:
    item = {
        "title": "BREAKING: Porto closes Luiz I bridge",
        "link": server.url("/porto-bridge"),
        "description": "The Luiz I bridge in Porto was closed on Monday after inspectors found a crack.",
    }
    server.set("/f.rss", rss([item]))
    server.set("/porto-bridge", PAGE, content_type="text/html; charset=utf-8")


def test_summary_then_full_text_once(tmp_path: Path, feed_server: FeedServer) -> None:
    setup(feed_server)
    p = make(tmp_path, feed_server.url("/f.rss"), allow_private=True)
    poll_due(p)
    # First sighting is one alert: the summary's story.opened carries the page's full text, sent at once
    # (it used to be a story.opened and a story.updated in the same second).
    [delivery] = outbox.list_deliveries(p.db, ("pending", "delivered"))
    assert delivery.type == "story.opened"
    assert delivery.next_attempt_at <= datetime.now(UTC)
    update = delivery.payload
    added = " ".join(update["update"]["added"])
    assert "Rui Moreira" in added and "15 minutes" in added
    assert "inspectors found a crack" in added  # what the summary said is there too
    assert "Home | World" not in added and "newsletter" not in added
    [story] = stories.list_stories(p.db)
    assert story.version_count == 2
    poll_due(p)  # unchanged feed: no second page fetch, no new version
    feed_server.set("/f.rss", feed_server.routes["/f.rss"].body + b" ")  # new bytes, same item
    poll_due(p)
    assert len(feed_server.requests_to("/porto-bridge")) == 1
    assert stories.list_stories(p.db)[0].version_count == 2


def test_private_page_addresses_are_refused_by_default(tmp_path: Path, feed_server: FeedServer) -> None:
    setup(feed_server)
    p = make(tmp_path, feed_server.url("/f.rss"), allow_private=False)
    outcomes = poll_due(p)
    assert [o.result for o in outcomes] == ["changed"]  # the feed itself is configured: it may be local
    assert feed_server.requests_to("/porto-bridge") == []
    assert [d.type for d in outbox.list_deliveries(p.db, ("pending",))] == ["story.opened"]


def test_a_polls_pages_are_fetched_together_within_a_limit(tmp_path: Path) -> None:
    """Ten summaries in one poll: their pages go out at once, at most PAGES_AT_ONCE, not one after another
    (a slow article host used to cost each article its full delay in turn)."""
    import asyncio
    from datetime import UTC, datetime
    from typing import Any

    from monitor.service import enrich

    config = parse_config({"monitor": {"database": "sqlite:///m.db"}}, base=tmp_path)
    full = enrich.FullText(config, ingestor=None)  # type: ignore[arg-type]
    flight = {"now": 0, "most": 0}

    async def one(client: Any, article: Any, clock: Any, hold: bool) -> int:
        flight["now"] += 1
        flight["most"] = max(flight["most"], flight["now"])
        await asyncio.sleep(0.01)
        flight["now"] -= 1
        return 1

    full._one = one  # type: ignore[method-assign]
    full.wanted = lambda article, result: True  # type: ignore[method-assign]
    stand_ins: list[Any] = list(range(10))  # ``wanted`` and ``_one`` are replaced above
    events = asyncio.run(full.enrich(None, stand_ins, [None] * 10, lambda: datetime.now(UTC)))  # type: ignore[arg-type,list-item]
    assert events == 10
    assert flight["most"] == enrich.PAGES_AT_ONCE


def test_extractions_never_overlap_across_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """trafilatura on lxml crashes the process when two threads extract at once (upstream issues 840/925;
    seen here as "double free or corruption"): feed full text and page checks extract from executor
    threads, so extract_main_text lets one run at a time."""
    import threading
    import time

    import trafilatura

    inside, most = 0, 0
    guard = threading.Lock()

    def extract(html: bytes, **_options: object) -> str:
        nonlocal inside, most
        with guard:
            inside += 1
            most = max(most, inside)
        time.sleep(0.02)  # long enough for the other threads to arrive if nothing holds them back
        with guard:
            inside -= 1
        return "A long enough paragraph of main text. " * 10

    monkeypatch.setattr(trafilatura, "extract", extract)
    threads = [
        threading.Thread(target=extract_main_text, args=(b"<html></html>", "https://example.org/a")) for _ in range(6)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most == 1
