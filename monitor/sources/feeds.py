"""Feeds: bytes -> ``Article``s with feedparser (RSS, Atom, RDF, CDF) or our JSON Feed reader.

The only module that knows feedparser objects: a ``FeedParserDict`` never leaves it. ``parse_feed`` is a
pure function of bytes (picklable in and out), so the service can run it in a worker process. Fetching
lives in ``sources/fetch.py`` (re-exported here for callers that think of "the feed source" as one thing).

What it defends against: feedparser's habit of fetching URLs or opening local paths when handed
a string (we only ever hand it bytes), and entity declarations that expand or read files
(``sources/safety.py`` refuses them before feedparser sees the body). Encodings declared wrongly or not at
all are feedparser's job (it falls back through the declared, sniffed and windows-1252 encodings); what it
says about them is kept as the parse ``warning``.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import feedparser
from feedparser.encodings import convert_to_utf8

from monitor.core import text as textmod
from monitor.core.model import Article
from monitor.core.urls import canonical_url
from monitor.errors import FeedParseError
from monitor.sources.clean import clean_article
from monitor.sources.fetch import MAX_REDIRECTS, Fetched, NotModified, build_client, fetch_feed
from monitor.sources.safety import check_xml_entities

__all__ = [
    "MAX_REDIRECTS",
    "Fetched",
    "NotModified",
    "ParsedFeed",
    "build_client",
    "canonical_url",
    "fetch_feed",
    "in_publication_order",
    "parse_feed",
    "parse_json_feed",
]


@dataclass(frozen=True)
class ParsedFeed:
    title: str | None
    articles: tuple[Article, ...]
    warning: str | None  # feedparser's complaint about a feed it could still read
    # Items not taken, and items taken with a change, counted by reason (never silent).
    skipped: tuple[tuple[str, int], ...] = ()
    changed: tuple[tuple[str, int], ...] = ()

    @property
    def skipped_count(self) -> int:
        return sum(n for _, n in self.skipped)


NO_WORDS = "no title or text"


def _take(
    entries: Iterable[Any], build: Callable[[Any], Article | None]
) -> tuple[list[Article], Counter[str], Counter[str]]:
    """Every entry that yields an article, cleaned (``sources/clean.py``); one bad entry never sinks the rest."""
    articles: list[Article] = []
    skipped: Counter[str] = Counter()
    changed: Counter[str] = Counter()
    for entry in entries:
        try:
            article = build(entry)
        except (ValueError, TypeError, AttributeError, OverflowError) as e:
            skipped[f"unreadable ({type(e).__name__})"] += 1
            continue
        if article is None:
            skipped[NO_WORDS] += 1
            continue
        clean, changes = clean_article(article)
        changed.update(changes)
        articles.append(clean)
    return articles, skipped, changed


def _when(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), UTC)
            except (OverflowError, ValueError, TypeError):
                continue
    return None


def _body_html(entry: Any) -> str:
    contents = [c.get("value", "") for c in entry.get("content", []) or [] if isinstance(c, dict)]
    best = max(contents, key=len, default="")
    summary = entry.get("summary", "") or ""
    return best if len(best) >= len(summary) else summary


# C0 controls other than tab/newline/CR are illegal in XML 1.0; some publishers still send them in titles.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACE = re.compile(r"[ \t\r\n]+")  # not str.split(): a no-break space in a title is meant


def _title(entry: Any) -> str:
    raw = entry.get("title", "") or ""
    detail = entry.get("title_detail") or {}
    # An Atom type="text" title is literal: "History of the <blink> tag" is not markup (RFC 4287 3.1.1.1).
    plain = detail.get("type") == "text/plain"
    text = _SPACE.sub(" ", raw) if plain else textmod.html_to_text(raw)
    return _CONTROL.sub("", text).strip()


def _http(link: object) -> str | None:
    """Only http(s) links are article URLs (an ``at://`` or ``javascript:`` link is not)."""
    return link if isinstance(link, str) and link.strip().lower().startswith(("http://", "https://")) else None


def _content_guid(title: str, body: str) -> str:
    return "sha256:" + hashlib.sha256(f"{title}\n{body}".encode()).hexdigest()[:32]


def _entry_article(entry: Any, feed_name: str, outlet: str | None) -> Article | None:
    title = _title(entry)
    raw = _body_html(entry)
    body = textmod.html_to_text(raw)
    links = [entry.get("link"), *(x.get("href") for x in entry.get("links", []) or [] if isinstance(x, dict))]
    link = next((x for x in map(_http, links) if x), None)
    url = canonical_url(link) if link else None
    if not title and not body.strip():
        return None
    # Identity: the publisher's GUID, else the canonical URL, else the content itself.
    guid = (entry.get("id") or "").strip() or url or _content_guid(title, body)
    markers = ("LiveBlogPosting",) if "LiveBlogPosting" in raw else ()
    return Article(feed_name, guid, title or "(untitled)", body, url, _when(entry), outlet, markers)


def in_publication_order(articles: Sequence[Article]) -> tuple[Article, ...]:
    """The order to ingest one poll's items in: dated items oldest first, then undated ones in feed order.

    Feeds list newest first; ingested that way, a backlog read after downtime would compare each version
    with its successor. The sort is stable: items with the same date keep their feed order.
    """
    dated = sorted((a for a in articles if a.published is not None), key=lambda a: a.published or _EPOCH)
    return (*dated, *(a for a in articles if a.published is None))


_EPOCH = datetime.fromtimestamp(0, UTC)


def _iso(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _json_item(item: Any, feed_name: str, outlet: str | None) -> Article | None:
    if not isinstance(item, dict):
        raise TypeError("a JSON Feed item must be an object")
    raw = str(item.get("content_html") or item.get("content_text") or item.get("summary") or "")
    body = textmod.html_to_text(raw)
    title = _CONTROL.sub("", textmod.html_to_text(str(item.get("title") or ""))).strip()
    link = _http(item.get("url")) or _http(item.get("external_url"))
    url = canonical_url(link) if link else None
    if not title and not body.strip():
        return None
    guid = str(item.get("id") or "").strip() or url or _content_guid(title, body)
    when = _iso(item.get("date_published")) or _iso(item.get("date_modified"))
    return Article(feed_name, guid, title or "(untitled)", body, url, when, outlet)


def parse_json_feed(body: bytes, *, feed_name: str, url: str) -> ParsedFeed:
    """JSON Feed 1.0/1.1 (jsonfeed.org): feedparser 6 does not read it."""
    where = f"feed {feed_name!r}"
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise FeedParseError(where, f"looks like JSON but is not valid JSON: {e}") from e
    # Lenient on "version" (some publishers write "1.0" instead of the jsonfeed.org URL), strict on shape.
    items = doc.get("items") if isinstance(doc, dict) else None
    if not isinstance(doc, dict) or not isinstance(items, list):
        kind = "a JSON object without an 'items' list" if isinstance(doc, dict) else f"a JSON {type(doc).__name__}"
        raise FeedParseError(where, f"not a JSON Feed: {kind}")
    outlet = str(doc.get("title") or "") or urlsplit(url).hostname
    articles, skipped, changed = _take(items, lambda i: _json_item(i, feed_name, outlet))
    return ParsedFeed(outlet, tuple(articles), None, tuple(sorted(skipped.items())), tuple(sorted(changed.items())))


def _as_feedparser_reads(body: bytes, headers: dict[str, str]) -> bytes:
    """The bytes feedparser looks for entity declarations in: the body in UTF-8, decoded the way feedparser
    decodes it (HTTP charset, XML declaration, BOM, fallbacks). Checked as sent, a UTF-16 or UTF-7 body
    could hide its declarations from the guard."""
    converted = convert_to_utf8(dict(headers), body, {})
    return converted if isinstance(converted, bytes) else body


def _looks_like(body: bytes) -> str:
    """What a body that is not a feed seems to be, in words that quote none of it."""
    head = body.lstrip()[:512].lower()
    kind = "an HTML page" if head.startswith((b"<!doctype html", b"<html")) or b"<body" in head else None
    if kind is None:
        kind = "XML that is not a feed" if head.startswith(b"<") else "text or binary data"
    return f"{kind}, {len(body):,} bytes"


def parse_feed(body: bytes, *, feed_name: str, url: str, content_type: str | None = None) -> ParsedFeed:
    """Bytes -> articles. Raises ``FeedParseError`` when the bytes are not a feed at all."""
    if body.lstrip()[:1] == b"{":
        return parse_json_feed(body, feed_name=feed_name, url=url)
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    check_xml_entities(_as_feedparser_reads(body, headers), f"feed {feed_name!r}")
    # Bytes only: given a str, feedparser would itself fetch URLs or open local paths.
    # No sanitising or link resolution: we turn the HTML into plain text anyway (2.7x faster).
    parsed = feedparser.parse(body, response_headers=headers, sanitize_html=False, resolve_relative_uris=False)
    version = parsed.get("version", "")
    entries = parsed.get("entries", [])
    problem = parsed.get("bozo_exception") if parsed.get("bozo") else None
    if not version and not entries:
        detail = f": {type(problem).__name__}: {problem}" if problem else ""
        # Described, never quoted: a redirect or a wrong URL may hand us any internal page.
        raise FeedParseError(f"feed {feed_name!r}", f"not an RSS/Atom/RDF/JSON feed{detail} ({_looks_like(body)})")
    outlet = parsed.get("feed", {}).get("title") or urlsplit(url).hostname
    articles, skipped, changed = _take(entries, lambda e: _entry_article(e, feed_name, outlet))
    warning = f"{type(problem).__name__}: {problem}" if problem else None
    return ParsedFeed(outlet, tuple(articles), warning, tuple(sorted(skipped.items())), tuple(sorted(changed.items())))
