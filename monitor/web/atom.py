"""An Atom feed (RFC 4287) of story updates: one entry per ``story.updated`` event. Pure.

Why an entry is one *event*, not one story: readers decide "new or seen" by the entry ``id``, and only
re-show a story whose entry is edited if they track ``updated`` (many do not). Giving every update its own
id (the event id, stable across replays) and its creation time as ``updated`` makes each update show up as
a new item, with what it added in the content (changedetection.io issues 16, 239, 327).

Built with ElementTree so every feed-supplied string is escaped by the XML writer, never by hand.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from xml.etree import ElementTree as ET

from monitor.alerts.payload import summary_line
from monitor.store.views import EventRecord

NS = "http://www.w3.org/2005/Atom"
# RFC 4151 tag URIs: globally unique, never dereferenced, and independent of where the listener runs.
TAG = "tag:news-monitor,2024:"


def _time(when: datetime) -> str:
    return when.isoformat(timespec="seconds").replace("+00:00", "Z")


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, f"{{{NS}}}{tag}", attrs)
    if text is not None:
        el.text = text
    return el


def entry_html(payload: dict[str, Any]) -> str:
    """The entry body: where the update came from, then the sentences it added, as escaped HTML."""
    update = payload.get("update") or {}
    article = update.get("article") or {}
    outlet = article.get("outlet") or article.get("source") or ""
    parts = [f"<p>{html.escape(outlet)}: <b>{html.escape(article.get('title') or '')}</b></p>"]
    added = update.get("added") or []
    if added:
        parts.append("<p>New in this update:</p><ul>")
        parts += [f"<li>{html.escape(s)}</li>" for s in added]
        parts.append("</ul>")
    url = article.get("url")
    if url:
        parts.append(f'<p><a href="{html.escape(url, quote=True)}">Read the article</a></p>')
    return "".join(parts)


def _entry(feed: ET.Element, event: EventRecord, base_url: str) -> None:
    payload = event.payload
    story = payload.get("story") or {}
    entry = _sub(feed, "entry")
    _sub(entry, "id", f"{TAG}event/{event.id}")
    _sub(entry, "title", summary_line(payload))
    _sub(entry, "updated", _time(event.created_at))
    _sub(entry, "published", _time(event.created_at))
    seq = (payload.get("update") or {}).get("seq")
    _sub(entry, "link", rel="alternate", type="text/html", href=f"{base_url}stories/{story.get('id')}#v{seq}")
    article_url = ((payload.get("update") or {}).get("article") or {}).get("url")
    if article_url:
        _sub(entry, "link", rel="related", href=str(article_url))
    for hit in payload.get("watchlists") or []:
        _sub(entry, "category", term=str(hit.get("name")))
    _sub(entry, "content", entry_html(payload), type="html")


def build_feed(
    events: Sequence[EventRecord], *, title: str, feed_id: str, self_url: str, base_url: str, now: datetime
) -> bytes:
    """The feed document. ``updated`` is the newest entry's time (``now`` only when there is none), so an
    unchanged feed is byte-identical and readers' conditional requests stay cheap."""
    ET.register_namespace("", NS)
    feed = ET.Element(f"{{{NS}}}feed")
    _sub(feed, "id", f"{TAG}{feed_id}")
    _sub(feed, "title", title)
    _sub(feed, "updated", _time(max((e.created_at for e in events), default=now)))
    _sub(feed, "link", rel="self", type="application/atom+xml", href=self_url)
    _sub(feed, "link", rel="alternate", type="text/html", href=base_url)
    author = _sub(feed, "author")
    _sub(author, "name", "news-monitor")
    _sub(feed, "generator", "news-monitor")
    for event in events:
        _entry(feed, event, base_url)
    return bytes(ET.tostring(feed, encoding="utf-8", xml_declaration=True))
