"""What one version of a story tells a reader: its novelty without site furniture, with changed values
and removed sentences. Called by ``service.ingest`` inside the ingest transaction.

The steps, in order:
 1. the outlet's furniture store counts this version's sentences for this story (``store.furniture``),
    then says which of them, and of the item's previous version, the outlet prints in many stories;
 2. the version's text loses its furniture (patterns, learnt sentences, its own headline, caption lines);
 3. novelty compares what is left with everything known of the story (``core.novelty``);
 4. changed values are paired against the known sentences, removed sentences against the same item's
    previous version, both furniture-free (``core.changes``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from monitor.core import changes as changemod
from monitor.core import furniture
from monitor.core.model import Article, Novelty
from monitor.core.novelty import KnownText, compute_novelty
from monitor.store import furniture as furniture_store
from monitor.store.records import ArticleRecord
from monitor.store.stories import IngestTx


def version_novelty(
    tx: IngestTx, story_id: str, article: Article, prior: ArticleRecord | None, now: datetime, known: KnownText
) -> Novelty:
    """The novelty of ``article`` as a new version of story ``story_id``; ``prior`` is the same item's
    previous version (same source and GUID), if any; ``known`` what the story holds (kept incrementally by
    ``service.known_cache``: nothing here reads the story's earlier versions)."""
    outlet = furniture.outlet_key(article.url, article.source)
    paragraphs = furniture.split(article.text)  # split once: fingerprints, furniture and changes share it
    fps = furniture.fingerprints(paragraphs)
    counted = furniture_store.observe(tx.conn, outlet, story_id, fps, now)
    before = furniture.split(prior.text) if prior is not None else []
    learnt = furniture_store.learnt(tx.conn, outlet, fps + furniture.fingerprints(before), counted)
    judged = furniture.judge(paragraphs, article.title, learnt)
    body = furniture.joined(judged)
    news = [s for para in judged for s, keep in para if keep]
    novelty = compute_novelty(known, article.title, body, news)
    previous = None
    if prior is not None:
        previous = [s for para in furniture.judge(before, prior.title, learnt) for s, keep in para if keep]
    # Only the latest known sentences can be restated (core.changes looks at no more), kept indexed.
    return with_changes(novelty, news, known.recent, previous)


def with_changes(
    novelty: Novelty, news: Sequence[str], known: Sequence[str] | changemod.RecentKnown, previous: Sequence[str] | None
) -> Novelty:
    """``novelty`` with the values that changed against ``known`` (the story's earlier sentences) and the
    sentences ``previous`` (the same item's last version, furniture-free) printed and ``news`` dropped."""
    changed = changemod.changes(news, known) if known else ()
    if previous is None:
        return replace(novelty, changed=changed)
    return replace(novelty, changed=changed, removed=changemod.removed(previous, news, changed))
