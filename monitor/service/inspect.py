"""``news-monitor inspect URL``: fetch one page once, as a page check would, and say what it sees.

The daemon's client and guards (size cap, deadline, the private-address refusal) apply; nothing is stored.
A ``FetchError`` reaches the CLI, which turns it into a message and an exit code.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from monitor.config import Config
from monitor.core.developing import developing_markers
from monitor.sources.feeds import build_client
from monitor.sources.fetch import Fetched, NotModified
from monitor.sources.pages import PageView, fetch_page, read_page


@dataclass(frozen=True)
class Inspection:
    url: str  # as asked
    fetched: Fetched
    view: PageView
    markers: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        fetched, view = self.fetched, self.view
        return {
            "url": self.url,
            "final_url": fetched.url,
            "status": fetched.status,
            "bytes": len(fetched.body),
            "etag": fetched.etag,
            "last_modified": fetched.last_modified,
            "canonical": view.canonical,
            "title": view.title,
            "developing_markers": list(self.markers),
            "text": view.text,
            "live_posts": [{"time": p.time, "id": p.id, "text": p.text} for p in view.live_posts],
        }


def inspect_page(config: Config, url: str) -> Inspection:
    m = config.monitor

    async def go() -> Fetched | NotModified:
        client = build_client(m.user_agent, m.fetch_timeout)
        try:
            return await fetch_page(
                client, url, where=f"page {url}", allow_private=m.allow_private_addresses, deadline=m.fetch_timeout
            )
        finally:
            await client.aclose()

    fetched = asyncio.run(go())
    assert not isinstance(fetched, NotModified)  # no validators were sent
    view = read_page(fetched.body, fetched.url)
    markers = developing_markers(view.title or "", view.text or "", view.markers)
    return Inspection(url, fetched, view, tuple(markers))
