"""Event payloads: the documented JSON body of every alert (README, "Alert payload"). Pure.

Payloads are built once, when the event is written to the outbox, and stored as they will be sent: a retry
or a replay sends the very same body with the same ``id``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from monitor.core.model import Article, Novelty, WatchHit
from monitor.core.pagecheck import is_correction

SCHEMA = "news-monitor/event/v1"


def iso(when: datetime | None) -> str | None:
    return when.isoformat().replace("+00:00", "Z") if when else None


def _envelope(
    event_id: str,
    type_: str,
    created_at: datetime,
    story: dict[str, Any] | None,
    event_seq: int | None,
    previous_event_id: str | None,
) -> dict[str, Any]:
    """The fields every event has, in the documented order."""
    return {
        "schema": SCHEMA,
        "id": event_id,
        "type": type_,
        "created_at": iso(created_at),
        "story": story,
        "sequence": event_seq,
        "previous_event_id": previous_event_id,
    }


def article_ref(article: Article) -> dict[str, Any]:
    return {
        "url": article.url,
        "title": article.title,
        "source": article.source,
        "outlet": article.outlet,
        "published": iso(article.published),
    }


def story_event(
    *,
    event_id: str,
    type_: str,
    created_at: datetime,
    story: dict[str, Any],
    event_seq: int,
    previous_event_id: str | None,
    version_seq: int,
    article: Article,
    novelty: Novelty,
    hits: tuple[WatchHit, ...],
    match: dict[str, Any],
    markers: tuple[str, ...],
) -> dict[str, Any]:
    """``story.opened`` / ``story.updated``: the story, this update and what it added."""
    ref = article_ref(article)
    if article.page:  # found by a page check, not in a feed (docs/pages.md)
        ref["via"] = article.page.get("via", "page")
    update = {
        "seq": version_seq,
        "article": ref,
        "added": list(novelty.added),
        "changed": [c.as_dict() for c in novelty.changed],
        "removed": list(novelty.removed),
        "facts": novelty.facts.as_dict(),
        "headline_changed": novelty.headline_changed,
        "repeated_sentences": novelty.repeated,
        "developing_markers": list(markers),
        "match": match,
        "correction": is_correction(novelty.added),
    }
    if article.page and article.page.get("live_posts"):
        update["live_posts"] = list(article.page["live_posts"])
    return {
        **_envelope(event_id, type_, created_at, story, event_seq, previous_event_id),
        "update": update,
        "watchlists": [{"name": h.name, "matched": list(h.matched)} for h in hits],
    }


def summary_line(payload: dict[str, Any]) -> str:
    """One line a person reads first: what happened to which story."""
    story = payload.get("story") or {}
    update = payload.get("update") or {}
    added = len(update.get("added", []))
    kind = payload.get("type", "event")
    if kind == "story.opened":
        return f"Developing story: {story.get('title')}"
    if kind == "story.updated":
        return f"Update {update.get('seq')} to \u201c{story.get('title')}\u201d: {added} new sentence(s)"
    return f"{kind}: {story.get('title') or payload.get('feed', {}).get('name', '')}"


def feed_event(
    *,
    event_id: str,
    type_: str,
    created_at: datetime,
    feed: dict[str, Any],
    detail: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """``feed.failing`` / ``feed.recovered`` / ``feed.anomaly``: about a feed, not a story."""
    return {**_envelope(event_id, type_, created_at, None, None, None), "feed": feed, "detail": detail or {}}


def story_closed(
    *,
    event_id: str,
    created_at: datetime,
    story: dict[str, Any],
    event_seq: int,
    previous_event_id: str | None,
    versions: int,
    watchlists: list[dict[str, Any]],
) -> dict[str, Any]:
    """``story.closed``: a tracked developing story went quiet for the configured time."""
    return {
        **_envelope(event_id, "story.closed", created_at, story, event_seq, previous_event_id),
        "update": None,
        "versions": versions,
        "watchlists": watchlists,
    }


def merge_updates(held: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Per-story coalescing: fold a later ``story.updated`` into one not yet sent. The held event keeps its
    id, sequence and previous id (receivers see one event); its update carries the combined novelty and
    the latest article, with every article listed in ``update.articles``."""
    old_u, new_u = held["update"], new["update"]
    facts = {k: list(dict.fromkeys([*old_u["facts"].get(k, []), *new_u["facts"].get(k, [])])) for k in new_u["facts"]}
    articles = old_u.get("articles") or [old_u["article"]]
    hits: dict[str, dict[str, None]] = {}
    for w in [*held.get("watchlists", []), *new.get("watchlists", [])]:
        hits.setdefault(w["name"], {}).update(dict.fromkeys(w["matched"]))
    merged_update = {
        **new_u,
        "added": list(dict.fromkeys([*old_u["added"], *new_u["added"]])),
        "changed": [*old_u.get("changed", []), *new_u.get("changed", [])],
        "removed": list(dict.fromkeys([*old_u.get("removed", []), *new_u.get("removed", [])])),
        "facts": facts,
        "headline_changed": old_u["headline_changed"] or new_u["headline_changed"],
        "repeated_sentences": old_u.get("repeated_sentences", 0) + new_u.get("repeated_sentences", 0),
        "articles": [*articles, new_u["article"]],
        "coalesced": len(articles) + 1,
        "correction": bool(old_u.get("correction")) or bool(new_u.get("correction")),
    }
    if old_u.get("live_posts") or new_u.get("live_posts"):
        merged_update["live_posts"] = [*old_u.get("live_posts", []), *new_u.get("live_posts", [])]
    return {
        **held,
        "story": new["story"],
        "update": merged_update,
        "watchlists": [{"name": n, "matched": list(t)} for n, t in hits.items()],
    }


def page_gone(
    *,
    event_id: str,
    created_at: datetime,
    story: dict[str, Any],
    event_seq: int,
    previous_event_id: str | None,
    page: dict[str, Any],
    watchlists: list[dict[str, Any]],
) -> dict[str, Any]:
    """``story.page_gone``: a watched page of the story answered 410, or 404 twice in a row (pulled)."""
    return {
        **_envelope(event_id, "story.page_gone", created_at, story, event_seq, previous_event_id),
        "update": None,
        "page": page,
        "watchlists": watchlists,
    }
