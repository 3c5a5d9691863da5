"""What a watched page shows: fetched with the feeds' client and guards, read into a ``PageView``.

``fetch_page`` is ``sources.fulltext.fetch_article_page`` (conditional GET, the SSRF guard on every redirect
hop, the page size cap, the deadline); ``read_page`` turns the HTML into what the page check decides on:
the title, the main text (trafilatura, as for full text), the ``<link rel=canonical>``, developing-story
markup, and a live page's posts (schema.org ``LiveBlogPosting``/``liveBlogUpdate`` JSON-LD, or the usual
live-post markup when there is no JSON-LD).

It decides nothing: whether the page changed is ``core.pagecheck``'s call.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import lxml.html

from monitor.core.pagecheck import LivePost
from monitor.core.text import paragraphs
from monitor.sources.fulltext import extract_main_text, fetch_article_page

__all__ = ["PageView", "fetch_page", "read_page"]
fetch_page = fetch_article_page

# Live-post containers in the markup of the common live-blog systems (when a page has no JSON-LD posts).
_LIVE_CLASS = re.compile(
    r"\b(?:live-?blog[-_]{0,2}(?:post|entry|update|item)|live[-_](?:post|update|entry|event)|lb-post"
    r"|liveblog__post|post-liveblog|block--live|live-update)\b",
    re.IGNORECASE,
)
MAX_POSTS = 500  # a live page with thousands of posts is read from its newest 500


@dataclass(frozen=True)
class PageView:
    url: str
    title: str | None
    text: str | None  # main text (None: nothing extractable)
    canonical: str | None
    markers: tuple[str, ...]  # developing-story hints in the markup (``LiveBlogPosting``)
    live_posts: tuple[LivePost, ...]


def read_page(html: bytes, url: str) -> PageView:
    """Read one fetched page (never raises on bad HTML: an unreadable page has no text)."""
    try:
        tree = lxml.html.fromstring(html)
    except (ValueError, lxml.etree.ParserError):
        return PageView(url, None, extract_main_text(html, url), None, (), ())
    title = _title(tree)
    canonical = _canonical(tree, url)
    blocks = list(_json_ld(tree))
    live = any("LiveBlogPosting" in _types(b) for b in blocks)
    posts = _ld_posts(blocks) or (_markup_posts(tree) if live or _has_live_markup(tree) else [])
    markers = ("LiveBlogPosting",) if live else ()
    return PageView(url, title, extract_main_text(html, url), canonical, markers, tuple(posts[:MAX_POSTS]))


def _title(tree: Any) -> str | None:
    for path in ('//meta[@property="og:title"]/@content', "//title/text()", "//h1//text()"):
        found = [str(t).strip() for t in tree.xpath(path) if str(t).strip()]
        if found:
            return found[0][:500]
    return None


def _canonical(tree: Any, url: str) -> str | None:
    for href in tree.xpath('//link[@rel="canonical"]/@href'):
        target = urljoin(url, str(href).strip())
        if target.startswith(("http://", "https://")):
            return target
    return None


def _json_ld(tree: Any) -> Iterator[dict[str, Any]]:
    for script in tree.xpath('//script[@type="application/ld+json"]/text()'):
        try:
            data = json.loads(str(script))
        except ValueError:
            continue  # a publisher's broken JSON-LD: the page is still read
        yield from _objects(data)


def _objects(data: Any) -> Iterator[dict[str, Any]]:
    if isinstance(data, list):
        for item in data:
            yield from _objects(item)
    elif isinstance(data, dict):
        yield data
        if isinstance(data.get("@graph"), list):
            yield from _objects(data["@graph"])


def _types(obj: dict[str, Any]) -> list[str]:
    t = obj.get("@type")
    return [str(x) for x in t] if isinstance(t, list) else [str(t)]


def _ld_posts(blocks: list[dict[str, Any]]) -> list[LivePost]:
    posts: list[LivePost] = []
    for block in blocks:
        if "LiveBlogPosting" not in _types(block):
            continue
        updates = block.get("liveBlogUpdate") or []
        for u in updates if isinstance(updates, list) else [updates]:
            if isinstance(u, dict):
                text = _plain(str(u.get("articleBody") or u.get("text") or u.get("headline") or ""))
                when = u.get("datePublished") or u.get("dateModified")
                ident = u.get("@id") or u.get("url")
                posts.append(LivePost(text, str(when) if when else None, str(ident) if ident else None))
    return [p for p in posts if p.text]


def _has_live_markup(tree: Any) -> bool:
    return any(_LIVE_CLASS.search(c) for c in tree.xpath("//@class")[:5000])


def _markup_posts(tree: Any) -> list[LivePost]:
    posts: list[LivePost] = []
    for el in tree.xpath("//*[@class]"):
        if not _LIVE_CLASS.search(el.get("class", "")):
            continue
        if any(_LIVE_CLASS.search(a.get("class", "")) for a in el.iterancestors() if a.get("class")):
            continue  # a post's inner parts are not posts of their own
        when = el.xpath(".//time/@datetime")
        text = _plain(" ".join(t.strip() for t in el.xpath(".//p//text() | .//p/text()")) or el.text_content())
        ident = el.get("id") or el.get("data-post-id")
        posts.append(LivePost(text, str(when[0]) if when else None, ident))
    return [p for p in posts if p.text]


def _plain(text: str) -> str:
    if "<" in text and ">" in text:
        with contextlib.suppress(ValueError, lxml.etree.ParserError):
            text = lxml.html.fromstring(f"<div>{text}</div>").text_content()
    return " ".join(" ".join(paragraphs(text)).split())
