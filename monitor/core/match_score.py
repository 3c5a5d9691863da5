"""How much does one article look like one stored article? (the pair score of issue 3)

Pure (stdlib only). Combines word similarity (tf-idf cosine with the stream's idf), agreement on names,
places and numbers (idf-weighted overlap: a shared rare surname counts, a shared "Police" hardly) and lede
containment (one text holds the other's opening sentences verbatim). It does not pick a story
(``core.match_decide`` does) and does not look at dates (the index already applied the time window).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from monitor.core.match_index import Doc, DocIndex
from monitor.core.signals import Features

_BOILERPLATE_LEDE = 3  # a "lede" shared by this many stored articles is a paywall or cookie notice
_LEDE_SCORE = 0.9  # containment of a lede is near-proof; still below a same-URL hit
_LEDE_MIN_COSINE = 0.25  # ...unless the rest differs: "Please enable Javascript" leads many pages
_DAY = 86400.0
_RARE_MIN_STREAM = 20  # "in at most 5 articles" means something only among 100 or more


@dataclass(frozen=True)
class PairWeights:
    """How the signals combine: ``cosine + names * names_overlap - age * log(1 + gap_days)``."""

    names: float = 0.5
    names_prior: float = 30.0  # idf mass added to the smaller name set: 2 shared names out of 2 prove little
    rare: float = 0.1  # bonus for sharing names almost no other article has (a victim's surname, a street)
    rare_df: int = 5  # "almost no other": in at most this many stored articles
    rare_full: int = 3  # this many shared rare names earn the full bonus
    age: float = 0.1  # per log-day since the story's span: the same words a month later are weaker evidence


@dataclass(frozen=True)
class PairScore:
    total: float
    cosine: float
    names: float
    rare_names: int
    shared_names: tuple[str, ...]
    lede: bool
    gap_days: float | None


def cosine(index: DocIndex, query: dict[str, float], qnorm: float, doc: Doc) -> float:
    dot = 0.0
    for t, w in doc.terms.items():
        q = query.get(t)
        if q is not None:
            dot += q * w * index.idf(t)
    return dot / (qnorm * index.doc_norm(doc))


def name_overlap(
    index: DocIndex, a: frozenset[str], b: tuple[str, ...], prior: float
) -> tuple[float, tuple[str, ...]]:
    """idf-weighted share of the smaller name set found in the other (a follow-up repeats the flash's
    names and adds its own), damped by ``prior`` so that a text with one or two names cannot score high."""
    shared = [n for n in b if n in a]
    if not shared:
        return 0.0, ()
    wa = sum(index.idf(n) for n in a)
    wb = sum(index.idf(n) for n in b)
    ws = sum(index.idf(n) for n in shared)
    return ws / (min(wa, wb) + prior), tuple(sorted(shared, key=index.idf, reverse=True))


def gap_days(index: DocIndex, when: float | None, story: str) -> float | None:
    """Days between ``when`` and the nearest end of the story's time span (0 inside it; None: unknown)."""
    span = index.stories[story]
    if when is None or span.first is None or span.last is None:
        return None
    return max(0.0, when - span.last, span.first - when) / _DAY


def lede_contained(index: DocIndex, feats: Features, doc: Doc) -> bool:
    """Does one text contain the other's lede (ignoring ledes so common they are boilerplate)?"""
    in_doc = [h for h in doc.sentences if h in feats.lede]
    in_query = [h for h in doc.lede if h in feats.sentences]
    return any(index.lede_df.get(h, 0) < _BOILERPLATE_LEDE for h in in_doc + in_query)


def rare_count(index: DocIndex, shared: tuple[str, ...], rare_df: int) -> int:
    """How many shared names almost no stored article has; 0 while the stream is too young to tell."""
    if len(index) < _RARE_MIN_STREAM * rare_df:
        return 0
    return sum(1 for n in shared if index.df.get(n, 0) <= rare_df)


def score_pair(
    index: DocIndex, feats: Features, query: dict[str, float], qnorm: float, doc: Doc, weights: PairWeights
) -> PairScore:
    cos = cosine(index, query, qnorm, doc)
    names, shared = name_overlap(index, feats.names, doc.names, weights.names_prior)
    rare = rare_count(index, shared, weights.rare_df)
    gap = gap_days(index, feats.when, doc.story)
    total = cos + weights.names * names + weights.rare * min(rare, weights.rare_full) / weights.rare_full
    total -= weights.age * math.log1p(gap) if gap else 0.0
    lede = cos >= _LEDE_MIN_COSINE and lede_contained(index, feats, doc)
    if lede:
        total = max(total, _LEDE_SCORE)
    return PairScore(total, cos, names, rare, shared, lede, gap)
