"""What an article's text works out to before any story is looked at, remembered by the functions that
work it out. Pure values and one bounded memo; computing them is ``core.prepare``'s job.

Splitting a body into sentences, keying them, pulling out numbers, names and quotes, telling furniture and
boilerplate apart: none of it depends on the database, yet it was most of an ingest's regular-expression time,
under the ingest lock. The poller's parse worker processes work it out beside the parse (``core.prepare``)
and the values come back with the items; ``remember`` puts them here, and ``core.text``, ``core.facts``,
``core.furniture``, ``core.novelty`` and ``core.developing`` answer from here before computing. The answers
are the very values those functions return (the worker ran them), so nothing downstream can tell; an entry
that is missing (evicted, an item parsed in this process, a seed file) is simply computed again.

The memo is first in, first out and bounded (``MAX_SENTENCES``, ``MAX_TEXTS``): it holds what the polls in
flight parsed, not what was ever read. Writers take a lock; readers only ``dict.get`` (atomic in CPython).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import islice
from typing import Any

# Polls in flight (16 by default) x 50 items x ~10 sentences with room to spare; ~1 KB a sentence as
# unpickled (30,000 long sentences of the benchmark's feeds with their 3,000 bodies: about 40 MB).
MAX_SENTENCES = 30_000
MAX_TEXTS = 3_000


@dataclass(frozen=True, slots=True)
class SentenceFacts:
    """One sentence (or headline), worked out: what ``text.sentence_key``, ``novelty.informative_words``,
    ``facts.extract_*``, ``furniture.is_furniture``/``fingerprint`` and ``text.is_boilerplate`` return."""

    key: str
    # ``novelty.informative_words`` joined by spaces (no word holds one): a tenth of the memory of a tuple
    informative: str
    numbers: tuple[str, ...]
    names: tuple[str, ...]
    quotes: tuple[str, ...]
    furniture: bool
    boilerplate: bool
    fingerprint: str


@dataclass(frozen=True, slots=True)
class TextFacts:
    """One body, worked out: its paragraphs' sentences (``text.paragraph_sentences``), its news sentences
    (``text.news_sentences_of``) and, for the headline and markup it came with, its developing markers."""

    paragraphs: tuple[tuple[str, ...], ...]
    news: tuple[str, ...]
    title: str
    html_markers: tuple[str, ...]
    markers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TextSignals:
    """What the matcher reads in a headline and body (``signals.text_signals``), before the stream's repeated
    sentences are left out: when the stream repeats none of them (most articles), these are its features'."""

    terms: dict[str, float]
    names: frozenset[str]
    phrases: frozenset[str]
    ages: frozenset[str]
    places: frozenset[str]
    addresses: frozenset[str]
    year: int | None


@dataclass(frozen=True, slots=True)
class Prepared:
    """An article's worked-out text, as it travels from a parse worker (pickled) to the ingest."""

    text: TextFacts
    sentences: dict[str, SentenceFacts]
    signals: TextSignals | None = None


SENTENCES: dict[str, SentenceFacts] = {}
TEXTS: dict[str, TextFacts] = {}
# (headline, body) -> its signals; taken out when the matcher reads them (once an article)
SIGNALS: dict[tuple[str, str], TextSignals] = {}
_WRITE = threading.Lock()


def remember(items: Iterable[tuple[str, Prepared]]) -> None:
    """Keep ``(body, prepared)`` pairs until the ingest asks (the oldest go beyond the bounds)."""
    with _WRITE:
        for body, prep in items:
            TEXTS[body] = prep.text
            SENTENCES.update(prep.sentences)
            if prep.signals is not None:
                SIGNALS[(prep.text.title, body)] = prep.signals
        _trim(TEXTS, MAX_TEXTS)
        _trim(SIGNALS, MAX_TEXTS)
        _trim(SENTENCES, MAX_SENTENCES)


def forget() -> None:
    with _WRITE:
        TEXTS.clear()
        SENTENCES.clear()
        SIGNALS.clear()


def _trim(memo: dict[Any, Any], bound: int) -> None:
    extra = len(memo) - bound
    if extra > 0:
        for key in list(islice(memo, extra)):  # insertion order: the oldest first
            del memo[key]
