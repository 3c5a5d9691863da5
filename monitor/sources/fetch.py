"""HTTP for feeds and article pages: conditional GET, streamed size cap, redirects, typed outcomes.

The only module that knows httpx responses. What it defends against: slow servers (connect/read
timeouts plus a total deadline), huge or endless bodies and decompression bombs (we decompress ourselves and
cap the *decompressed* size while streaming: httpx's decoded stream let 67 MB of a 200 KB gzip bomb through
before a cap checked on it fired), and redirect loops (a redirect cap). With a ``guard``, each redirect hop
is checked before it is requested (the SSRF guard for URLs found inside feeds).

Every failure is a ``FetchError`` naming the feed or page; a 304 is the value ``NotModified``.
"""

from __future__ import annotations

import asyncio
import hashlib
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from monitor.core.redact import redact_url
from monitor.core.retry_after import retry_after_seconds
from monitor.errors import FetchError
from monitor.sources.safety import ensure_public_url
from monitor.sources.transport import Transport

MAX_REDIRECTS = 5
FEED_ACCEPT = "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, */*;q=0.5"
Guard = Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class NotModified:
    """The server answered 304: nothing to parse."""

    status: int = 304


@dataclass(frozen=True)
class Fetched:
    body: bytes
    status: int
    url: str  # after redirects
    content_type: str | None
    etag: str | None
    last_modified: str | None

    @property
    def body_hash(self) -> str:
        return hashlib.sha256(self.body).hexdigest()[:32]


class _NoCookies(httpx.Cookies):
    """A cookie jar that keeps nothing."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


class _Client(httpx.AsyncClient):
    """httpx without a cookie jar. A feed reader keeps no state a site can set for its next poll (or for
    another feed on the same site), and httpx parses every response's cookies through ``http.cookiejar``:
    ~0.1 ms of a ~1 ms 304 poll (bench/bench_feeds.py)."""

    _jar = _NoCookies()

    @property
    def cookies(self) -> httpx.Cookies:
        return self._jar

    @cookies.setter
    def cookies(self, cookies: object) -> None:
        raise TypeError("this client keeps no cookies")


def build_client(user_agent: str, timeout: float, max_connections: int = 100) -> httpx.AsyncClient:
    """The one shared HTTP client (the daemon builds it and passes it in, tests inject a transport).

    httpx is the API; the connections are aiohttp's, through ``httpx_aiohttp.AiohttpTransport`` (from httpx's
    maintainer). httpx's own pool (httpcore) spends ~1 ms of CPU per request and stays near 1,000-1,300
    requests/s on loopback whatever the setup; the aiohttp transport does 3,000+ at a third of the CPU
    (bench/bench_feeds.py measures them side by side). The transport is told not to decompress and not to
    follow redirects: ``CappedDecoder`` caps decompressed bytes, and redirects stay httpx's (or ours, hop by
    hop, behind the SSRF guard). HTTP/1.1 only: HTTP/2 buys nothing for one small GET per feed.
    ``sources.transport.Transport`` corrects two faults of the transport (redirect hops, error names).
    """
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
    return _Client(
        headers={"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate"},
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        transport=Transport(limits=limits),
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
    )


def _cause(e: httpx.HTTPError) -> tuple[str, str]:
    """What went wrong (error name, detail). ``sources.transport`` names the aiohttp transport's errors
    for what they are (a refused connection is a ``ConnectError`` saying so, not a ``ConnectTimeout``)."""
    return type(e).__name__, str(e) or "no detail"


def _timed_out(e: httpx.HTTPError) -> bool:
    return isinstance(e, httpx.TimeoutException)


class CappedDecoder:
    """Decompresses gzip/deflate ourselves so the cap applies to decompressed bytes as they appear."""

    def __init__(self, encoding: str, cap: int, where: str) -> None:
        self.cap, self.where = cap, where
        self.size = 0
        self.parts: list[bytes] = []
        enc = encoding.strip().lower()
        if enc not in ("", "identity", "gzip", "x-gzip", "deflate"):
            raise FetchError(where, f"unsupported Content-Encoding {encoding!r}")
        self._z = zlib.decompressobj(47) if enc in ("gzip", "x-gzip", "deflate") else None
        self._raw_deflate_retry = enc == "deflate"

    def _take(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.cap:
            raise FetchError(self.where, f"response larger than {self.cap:,} bytes (after decompression)")
        self.parts.append(data)

    def feed(self, chunk: bytes) -> None:
        if self._z is None:
            self._take(chunk)
            return
        try:
            # max_length bounds what one call may inflate: a bomb never sits in memory beyond the cap.
            self._take(self._z.decompress(chunk, self.cap - self.size + 1))
            while self._z.unconsumed_tail:
                self._take(self._z.decompress(self._z.unconsumed_tail, self.cap - self.size + 1))
        except zlib.error as e:
            if self._raw_deflate_retry and not self.parts:  # some servers send raw deflate
                self._z, self._raw_deflate_retry = zlib.decompressobj(-15), False
                self.feed(chunk)
                return
            raise FetchError(self.where, f"corrupt compressed body: {e}") from e

    def body(self) -> bytes:
        return b"".join(self.parts)


def split_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """``https://user:pass@host/x`` -> (``https://host/x``, (user, pass)): the credentials go out as basic
    auth, never inside a URL that could end up in a message, a log line or a page."""
    if "@" not in url:  # the common case, without parsing the URL (a 304 poll costs ~1 ms in all)
        return url, None
    parsed = httpx.URL(url)
    if not parsed.userinfo:
        return url, None
    return str(parsed.copy_with(username=None, password=None)), (parsed.username, parsed.password)


def _site(url: httpx.URL) -> tuple[str, int | None]:
    default = {"http": 80, "https": 443}.get(url.scheme)
    return url.host.lower(), None if url.port in (None, default) else url.port


def same_site(a: str, b: str) -> bool:
    """Same host and port (an http -> https upgrade on the default ports counts as the same)."""
    return _site(httpx.URL(a)) == _site(httpx.URL(b))


def feed_hop_guard(configured: str, *, where: str, allow_private: bool) -> Guard:
    """The configured URL is the operator's, so it is not checked; every redirect hop that leaves its
    host (and port) is checked like a URL found inside a feed (a feed redirected to an internal
    host, and that host's page reached the feed's error, ``status`` and the logs)."""

    async def check(url: str) -> None:
        if url != configured and not same_site(url, configured):
            await ensure_public_url(url, where=where, allow_private=allow_private)

    return check


async def fetch_url(
    client: httpx.AsyncClient,
    url: str,
    *,
    where: str,
    accept: str = FEED_ACCEPT,
    etag: str | None = None,
    last_modified: str | None = None,
    max_bytes: int = 10 * 1024 * 1024,
    deadline: float = 60.0,
    guard: Guard | None = None,
) -> Fetched | NotModified:
    """GET conditionally. Raises ``FetchError`` (naming ``where``) on every failure.

    With ``guard`` (an async check that raises ``FetchError``), redirects are followed here, one hop at a
    time, and every hop is checked before it is requested. ``user:password@`` in ``url`` is sent as basic
    auth (to hops on the same host only) and appears in no message.
    """
    try:
        url, auth = split_credentials(url)
    except httpx.InvalidURL as e:
        raise FetchError(where, f"invalid URL {redact_url(url)}: {e}") from e
    shown = redact_url(url)
    headers = {"Accept": accept}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        async with asyncio.timeout(deadline):
            if guard is None:
                return await _get(client, url, headers, where, max_bytes, follow=True, auth=auth)
            return await _get_guarded(client, url, headers, where, max_bytes, guard, auth)
    except TimeoutError as e:
        raise FetchError(where, f"timed out: no complete answer within {deadline:g}s") from e
    except httpx.TooManyRedirects as e:
        raise FetchError(where, f"more than {MAX_REDIRECTS} redirects from {shown}") from e
    except httpx.InvalidURL as e:  # a redirect to something that is not a URL
        raise FetchError(where, f"invalid redirect from {shown}: {e}") from e
    except httpx.HTTPError as e:
        name, detail = _cause(e)
        if _timed_out(e):
            raise FetchError(where, f"timed out ({name}) fetching {shown}") from e
        raise FetchError(where, f"{name} fetching {shown}: {detail}") from e


async def fetch_feed(
    client: httpx.AsyncClient,
    url: str,
    *,
    where: str,
    etag: str | None = None,
    last_modified: str | None = None,
    max_bytes: int = 10 * 1024 * 1024,
    deadline: float = 60.0,
    allow_private: bool = False,
) -> Fetched | NotModified:
    """GET a feed conditionally: its URL comes from the config, the redirects it answers with do not
    (``feed_hop_guard``)."""
    return await fetch_url(
        client,
        url,
        where=where,
        etag=etag,
        last_modified=last_modified,
        max_bytes=max_bytes,
        deadline=deadline,
        guard=feed_hop_guard(url, where=where, allow_private=allow_private),
    )


async def _get_guarded(
    client: httpx.AsyncClient,
    url: str,
    headers: dict[str, str],
    where: str,
    max_bytes: int,
    guard: Guard,
    auth: tuple[str, str] | None,
) -> Fetched | NotModified:
    first = url
    for _ in range(MAX_REDIRECTS + 1):
        await guard(url)
        # credentials never follow a redirect to another host
        hop_auth = auth if auth and (url == first or same_site(url, first)) else None
        outcome = await _get(client, url, headers, where, max_bytes, follow=False, auth=hop_auth)
        if isinstance(outcome, Fetched) and outcome.status in (301, 302, 303, 307, 308):
            url = outcome.url
            continue
        return outcome
    raise FetchError(where, f"more than {MAX_REDIRECTS} redirects from {redact_url(first)}")


async def _get(
    client: httpx.AsyncClient,
    url: str,
    headers: dict[str, str],
    where: str,
    max_bytes: int,
    *,
    follow: bool,
    auth: tuple[str, str] | None = None,
) -> Fetched | NotModified:
    request_auth: httpx.Auth | None = httpx.BasicAuth(*auth) if auth else None
    async with client.stream("GET", url, headers=headers, follow_redirects=follow, auth=request_auth) as resp:
        if resp.status_code == 304:
            return NotModified()
        if not follow and resp.is_redirect and "Location" in resp.headers:
            target, _ = split_credentials(str(resp.url.join(resp.headers["Location"])))
            return Fetched(b"", resp.status_code, target, None, None, None)
        if resp.status_code >= 400 or resp.status_code in (204, 205) or resp.is_redirect:
            raise FetchError(
                where,
                f"HTTP {resp.status_code} {resp.reason_phrase} from {redact_url(url)}",
                status=resp.status_code,
                retry_after=retry_after_seconds(resp.headers.get("Retry-After"), datetime.now(UTC)),
            )
        declared = resp.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > max_bytes and not resp.headers.get("Content-Encoding"):
            raise FetchError(where, f"response declares {int(declared):,} bytes, over the {max_bytes:,} cap")
        decoder = CappedDecoder(resp.headers.get("Content-Encoding", ""), max_bytes, where)
        async for chunk in resp.aiter_raw():
            decoder.feed(chunk)
        return Fetched(
            body=decoder.body(),
            status=resp.status_code,
            url=str(resp.url),
            content_type=resp.headers.get("Content-Type"),
            etag=resp.headers.get("ETag"),
            last_modified=resp.headers.get("Last-Modified"),
        )
