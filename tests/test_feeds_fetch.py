"""Defensive fetching: size caps on decompressed bytes, redirects, Retry-After, SSRF guard.

Unit tests run on ``httpx.MockTransport``; the streamed gzip bomb goes over a real socket (tests/servers.py).
"""

from __future__ import annotations

import asyncio
import gzip
import zlib
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from monitor.errors import FetchError
from monitor.sources.fetch import (
    MAX_REDIRECTS,
    Fetched,
    NotModified,
    build_client,
    fetch_feed,
    fetch_url,
)
from monitor.sources.safety import ensure_public_url, is_public_address
from tests.servers import FeedServer

RSS = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'


class Chunks(httpx.AsyncByteStream):
    """A body that arrives in chunks, as from a socket (``content=`` bytes would be read eagerly)."""

    def __init__(self, body: bytes, size: int = 16384) -> None:
        self.body, self.size = body, size

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for i in range(0, len(self.body), self.size):
            yield self.body[i : i + self.size]


def body(status: int, data: bytes, **headers: str) -> httpx.Response:
    return httpx.Response(status, stream=Chunks(data), headers={k.replace("_", "-"): v for k, v in headers.items()})


def client_for(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(handler), follow_redirects=True, max_redirects=MAX_REDIRECTS)


def fetch(handler: Callable[[httpx.Request], httpx.Response], **kwargs: object) -> Fetched | NotModified:
    async def run() -> Fetched | NotModified:
        async with client_for(handler) as client:
            return await fetch_feed(client, "http://feeds.test/a.rss", where="feed 'a'", **kwargs)  # type: ignore[arg-type]

    return asyncio.run(run())


def test_conditional_get_sends_validators_and_304_is_a_value() -> None:
    seen: list[httpx.Headers] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers)
        return httpx.Response(304)

    assert isinstance(fetch(handler, etag='"x"', last_modified="Tue, 01 Jan 2030 00:00:00 GMT"), NotModified)
    assert seen[0]["If-None-Match"] == '"x"' and seen[0]["If-Modified-Since"].startswith("Tue")


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "raw-deflate"])
def test_compressed_bodies_are_decoded(encoding: str) -> None:
    if encoding == "gzip":
        data = gzip.compress(RSS)
    elif encoding == "deflate":
        data = zlib.compress(RSS)
    else:  # some servers send raw deflate under "deflate"
        c = zlib.compressobj(wbits=-15)
        data = c.compress(RSS) + c.flush()
    header = "gzip" if encoding == "gzip" else "deflate"
    result = fetch(lambda r: body(200, data, Content_Encoding=header))
    assert isinstance(result, Fetched) and result.body == RSS


def test_gzip_bomb_stops_at_the_decompressed_cap() -> None:
    bomb = gzip.compress(b"\0" * (50 * 1024 * 1024))  # 50 MiB of zeros -> ~50 KB on the wire
    handler = lambda r: body(200, bomb, Content_Encoding="gzip")  # noqa: E731
    with pytest.raises(FetchError, match=r"feed 'a': response larger than 1,048,576 bytes \(after decompression\)"):
        fetch(handler, max_bytes=1024 * 1024)


def test_gzip_bomb_over_a_real_socket_never_holds_more_than_the_cap(feed_server: FeedServer) -> None:
    bomb = gzip.compress(b"A" * (200 * 1024 * 1024), compresslevel=9)  # ~200 KB on the wire
    assert len(bomb) < 300 * 1024
    feed_server.set("/bomb.rss", bomb, headers={"Content-Encoding": "gzip"})

    async def run() -> None:
        async with httpx.AsyncClient() as client:
            await fetch_feed(client, feed_server.url("/bomb.rss"), where="feed 'bomb'", max_bytes=2 * 1024 * 1024)

    with pytest.raises(FetchError, match="larger than 2,097,152 bytes"):
        asyncio.run(run())


def test_the_daemons_client_caps_a_gzip_bomb_and_keeps_no_cookies(feed_server: FeedServer) -> None:
    """``build_client`` (httpx on aiohttp connections): the transport hands over raw bytes, so the cap still
    applies to what inflates; a cookie a site sets is not sent back on the next poll."""
    bomb = gzip.compress(b"A" * (50 * 1024 * 1024), compresslevel=9)
    feed_server.set("/bomb.rss", bomb, headers={"Content-Encoding": "gzip"})
    feed_server.set("/a.rss", "<rss/>", headers={"Set-Cookie": "session=abc; Path=/"})

    async def run() -> None:
        async with build_client("news-monitor-test", 10.0) as client:
            with pytest.raises(FetchError, match="larger than 1,048,576 bytes"):
                await fetch_feed(client, feed_server.url("/bomb.rss"), where="feed 'bomb'", max_bytes=1024 * 1024)
            for _ in range(2):
                got = await fetch_feed(client, feed_server.url("/a.rss"), where="feed 'a'")
                assert isinstance(got, Fetched) and got.body == b"<rss/>"
            with pytest.raises(TypeError):
                client.cookies = {"session": "abc"}

    asyncio.run(run())
    assert all("cookie" not in r["headers"] for r in feed_server.requests_to("/a.rss"))
    assert feed_server.requests_to("/a.rss")[0]["headers"]["user-agent"] == "news-monitor-test"


def test_a_refused_connection_is_named_as_such_not_as_a_timeout() -> None:
    async def run() -> None:
        async with build_client("news-monitor-test", 5.0) as client:
            await fetch_feed(client, "http://127.0.0.1:9/feed.rss", where="feed 'gone'")

    refused = r"feed 'gone': ConnectError fetching http://127\.0\.0\.1:9/feed\.rss: connection refused"
    with pytest.raises(FetchError, match=refused) as e:
        asyncio.run(run())
    assert "timed out" not in str(e.value)


def test_corrupt_gzip_and_unknown_encoding_are_errors() -> None:
    with pytest.raises(FetchError, match="corrupt compressed body"):
        fetch(lambda r: body(200, b"not gzip at all", Content_Encoding="gzip"))
    with pytest.raises(FetchError, match="unsupported Content-Encoding 'br'"):
        fetch(lambda r: body(200, b"x", Content_Encoding="br"))


def test_declared_length_over_the_cap_is_refused_before_reading() -> None:
    handler = lambda r: httpx.Response(200, content=b"x" * 2000)  # noqa: E731
    with pytest.raises(FetchError, match="declares 2,000 bytes, over the 1,000 cap"):
        fetch(handler, max_bytes=1000)


def test_redirect_loop_is_capped() -> None:
    hops: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        hops.append(str(request.url))
        return httpx.Response(302, headers={"Location": f"/r{len(hops)}"})

    with pytest.raises(FetchError, match=f"more than {MAX_REDIRECTS} redirects"):
        fetch(handler)
    assert len(hops) == MAX_REDIRECTS + 1


def test_redirects_within_the_cap_are_followed_and_the_final_url_kept() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/a.rss":
            return httpx.Response(301, headers={"Location": "https://new.test/feed"})
        return body(200, RSS)

    # new.test resolves nowhere: the hop guard (tests/test_hostile_edges.py) is told to allow it
    result = fetch(handler, allow_private=True)
    assert isinstance(result, Fetched) and result.url == "https://new.test/feed"


@pytest.mark.parametrize("status", [429, 503])
def test_429_and_503_carry_retry_after(status: int) -> None:
    handler = lambda r: httpx.Response(status, headers={"Retry-After": "120"})  # noqa: E731
    with pytest.raises(FetchError) as info:
        fetch(handler)
    assert info.value.status == status and info.value.retry_after == 120.0
    assert f"HTTP {status}" in str(info.value)


def test_every_httpx_transport_error_is_mapped() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(FetchError, match=r"feed .a.: ConnectError fetching http://feeds\.test/a\.rss"):
        fetch(handler)
    with pytest.raises(FetchError, match="timed out"):
        fetch(lambda r: (_ for _ in ()).throw(httpx.ReadTimeout("slow", request=r)))


def test_total_deadline() -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(5)
        return httpx.Response(200, content=RSS)

    async def run() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(slow)) as client:
            await fetch_feed(client, "http://feeds.test/a.rss", where="feed 'a'", deadline=0.05)

    with pytest.raises(FetchError, match=r"timed out: no complete answer within 0.05s"):
        asyncio.run(run())


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2606:4700::1111", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("192.168.0.1", False),
        ("169.254.169.254", False),
        ("::1", False),
        ("fe80::1", False),
        ("::ffff:127.0.0.1", False),
        ("0.0.0.0", False),
        ("100.64.0.1", False),
        ("224.0.0.1", False),
    ],
)
def test_public_addresses(address: str, public: bool) -> None:
    assert is_public_address(address) is public


def test_ssrf_guard_refuses_loopback_unless_allowed() -> None:
    with pytest.raises(FetchError, match=r"non-public address 127\.0\.0\.1.*allow_private_addresses"):
        asyncio.run(ensure_public_url("http://127.0.0.1:8080/x", where="page"))
    with pytest.raises(FetchError, match="only http"):
        asyncio.run(ensure_public_url("file:///etc/passwd", where="page"))
    asyncio.run(ensure_public_url("http://127.0.0.1:8080/x", where="page", allow_private=True))


def test_guarded_fetch_checks_every_redirect_hop() -> None:
    checked: list[str] = []

    async def guard(url: str) -> None:
        checked.append(url)
        if "internal" in url:
            raise FetchError("page", f"refusing to fetch {url}")

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": "http://internal.test/admin"})

    async def run() -> None:
        async with client_for(handler) as client:
            await fetch_url(client, "http://public.test/story", where="page", guard=guard)

    with pytest.raises(FetchError, match=r"refusing to fetch http://internal\.test/admin"):
        asyncio.run(run())
    assert checked == ["http://public.test/story", "http://internal.test/admin"]
