"""Article pages for full text: conditional GET, the SSRF guard, and the optional extractor."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from monitor.errors import FetchError
from monitor.sources.fetch import Fetched, NotModified
from monitor.sources.fulltext import extract_main_text, fetch_article_page, fulltext_available
from tests.servers import FeedServer

PAGE = "<html><body><nav>Home</nav><article><p>The fire was contained by noon.</p></article></body></html>"


def fetch(url: str, **kwargs: object) -> Fetched | NotModified:
    async def run() -> Fetched | NotModified:
        async with httpx.AsyncClient() as client:
            return await fetch_article_page(client, url, where="page", **kwargs)  # type: ignore[arg-type]

    return asyncio.run(run())


def test_a_loopback_page_is_refused_by_default(feed_server: FeedServer) -> None:
    feed_server.set("/story", PAGE, content_type="text/html")
    with pytest.raises(FetchError, match=r"non-public address 127\.0\.0\.1"):
        fetch(feed_server.url("/story"))
    assert feed_server.requests_to("/story") == []  # refused before any request


def test_allowed_private_page_is_fetched_conditionally(feed_server: FeedServer) -> None:
    feed_server.set("/story", PAGE, content_type="text/html")
    first = fetch(feed_server.url("/story"), allow_private=True)
    assert isinstance(first, Fetched) and b"contained by noon" in first.body
    again = fetch(feed_server.url("/story"), allow_private=True, etag=first.etag)
    assert isinstance(again, NotModified)


def test_a_redirect_to_a_private_address_is_refused(feed_server: FeedServer) -> None:
    async def run() -> None:
        def handler(request: httpx.Request) -> httpx.Response:
            return httpx.Response(302, headers={"Location": feed_server.url("/admin")})

        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            await fetch_article_page(client, "http://93.184.215.14/story", where="page")

    with pytest.raises(FetchError, match=r"refusing to fetch http://127\.0\.0\.1"):
        asyncio.run(run())


def test_extraction_works_with_or_without_the_extra() -> None:
    available, why = fulltext_available()
    text = extract_main_text(PAGE.encode(), "http://x.test/story")
    if available:
        assert text is not None and "contained by noon" in text
    else:
        assert text is None and "reinstall news-monitor" in why
