"""Page checks against a feed server on 127.0.0.1 with an injected clock: the world of tests/test_pages*.py."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from monitor.service.pagecheck import PageOutcome
from monitor.service.pipeline import Pipeline
from monitor.store import outbox
from tests.servers import FeedServer, rss
from tests.support import Clock, make_pipeline

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


ARTICLE = [
    "The Luiz I bridge in Porto was closed on Monday after inspectors found a crack, the mayor said.",
    "Engineers counted three cracks in the upper deck and stopped the metro at both ends.",
]


def live_page(posts: list[tuple[str, str, str]], canonical: str = "") -> str:
    ld = ",".join(
        f'{{"@type":"BlogPosting","@id":"{i}","datePublished":"{t}","articleBody":"{body}"}}' for i, t, body in posts
    )
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    html_posts = "".join(f'<div class="live-post" id="{i}"><time datetime="{t}"></time><p>{b}</p></div>'
                         for i, t, b in posts)  # fmt: skip
    return (
        f"<html><head><title>LIVE: Porto bridge</title>{link}<script type='application/ld+json'>"
        f'{{"@context":"https://schema.org","@type":"LiveBlogPosting","headline":"Porto bridge",'
        f'"liveBlogUpdate":[{ld}]}}</script></head><body><nav>Home | World</nav><main>{html_posts}</main></body></html>'
    )


def html(title: str, paras: list[str], churn: str = "") -> str:
    body = "".join(f"<p>{p}</p>" for p in paras)
    return (
        f"<html><head><title>{title}</title></head><body><nav>Home | World | Sport</nav>"
        f"<aside class='most-read'><h3>Most read</h3><ul>{churn}</ul></aside>"
        f"<article><h1>{title}</h1>{body}</article><footer>Subscribe to our newsletter</footer></body></html>"
    )


@dataclass
class World:
    server: FeedServer
    clock: Clock
    tmp: Path
    extra: dict[str, Any]

    def pipeline(self, **monitor: Any) -> Pipeline:
        raw = {
            "monitor": {
                "database": "sqlite:///m.db",
                "allow_private_addresses": True,
                "fetch_timeout": "2s",
                "jitter": 0,
                **self.extra,
                **monitor,
            },
            "feeds": [{"name": "wire", "url": self.server.url("/f.rss")}],
            "watchlists": [{"name": "syria", "keywords": ["Aleppo", "Porto"]}],
        }
        return make_pipeline(self.tmp, raw, self.clock, sync_feeds=True)

    def run(self, p: Pipeline, what: str) -> Any:
        async def go() -> Any:
            try:
                if what == "poll":
                    return await p.poll_due(every_feed=True)
                return await p.check_pages()
            finally:
                await p.aclose()

        return asyncio.run(go())

    def later(self, p: Pipeline, seconds: float = 130) -> list[PageOutcome]:
        self.clock.now += timedelta(seconds=seconds)
        result: list[PageOutcome] = self.run(p, "pages")
        return result


def events_of(p: Pipeline) -> list[dict[str, Any]]:
    return [d.payload for d in outbox.list_deliveries(p.db, ("pending", "delivered"))]


def open_story(world: World, title: str, summary: str, page: str) -> Pipeline:
    item = {"title": title, "link": world.server.url("/story"), "description": summary}
    world.server.set("/f.rss", rss([item]))
    world.server.set("/story", page, content_type="text/html; charset=utf-8")
    p = world.pipeline()
    world.run(p, "poll")
    assert [e["type"] for e in events_of(p)] == ["story.opened"]
    return p
