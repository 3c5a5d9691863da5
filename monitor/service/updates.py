"""What one version of a story tells a reader: its novelty without site furniture, with changed values
and removed sentences (issue 12). Called by ``service.ingest`` inside the ingest transaction.

The steps, in order:
 1. the outlet's furniture store counts this version's sentences for this story (``store.furniture``),
    then says which of them, and of the item's previous version, the outlet prints in many stories;
 2. the version's text loses its furniture (patterns, learnt sentences, its own headline, caption lines);
 3. novelty compares what is left with everything known of the story (``core.novelty``);
 4. changed values are paired against the known sentences, removed sentences against the same item's
    previous version, both furniture-free (``core.changes``).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from monitor.core import changes as changemod
from monitor.core import furniture
from monitor.core import text as textmod
from monitor.core.model import Article, Novelty
from monitor.core.novelty import KnownText, compute_novelty
from monitor.store import furniture as furniture_store
from monitor.store.records import ArticleRecord
from monitor.store.stories import IngestTx


def version_novelty(
    tx: IngestTx, story_id: str, article: Article, prior: ArticleRecord | None, now: datetime
) -> Novelty:
    """The novelty of ``article`` as a new version of story ``story_id``; ``prior`` is the same item's
    previous version (same source and GUID), if any."""
    outlet = furniture.outlet_key(article.url, article.source)
    fps = furniture.fingerprints(article.text)
    furniture_store.observe(tx.conn, outlet, story_id, fps, now)
    before = prior.text if prior is not None else ""
    learnt = furniture_store.learnt(tx.conn, outlet, fps + furniture.fingerprints(before))
    body = furniture.news_text(article.text, title=article.title, learnt=learnt)
    known = KnownText.of(tx.known_texts(story_id))
    novelty = compute_novelty(known, article.title, body)
    return with_changes(novelty, body, known.sentences, prior, learnt)


def with_changes(
    novelty: Novelty, body: str, known: tuple[str, ...], prior: ArticleRecord | None, learnt: frozenset[str]
) -> Novelty:
    """``novelty`` with the values that changed against ``known`` and the sentences ``prior`` dropped."""
    now_sentences = textmod.sentences(body)
    changed = changemod.changes(now_sentences, known) if known else ()
    if prior is None:
        return replace(novelty, changed=changed)
    previous = furniture.news_sentences(prior.text, title=prior.title, learnt=learnt)
    return replace(novelty, changed=changed, removed=changemod.removed(previous, now_sentences, changed))
