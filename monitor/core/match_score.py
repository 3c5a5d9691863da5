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
_LEDE_MIN_COSINE = 0.1  # ...unless the rest of the texts have nothing in common


@dataclass(frozen=True)
class PairScore:
    total: float
    cosine: float
    names: float
    shared_names: tuple[str, ...]
    lede: bool


def cosine(index: DocIndex, query: dict[str, float], qnorm: float, doc: Doc) -> float:
    dot = 0.0
    for t, w in doc.terms.items():
        q = query.get(t)
        if q is not None:
            dot += q * w * index.idf(t)
    return dot / (qnorm * index.doc_norm(doc))


def name_overlap(index: DocIndex, a: frozenset[str], b: frozenset[str]) -> tuple[float, tuple[str, ...]]:
    """idf-weighted overlap of two name sets, normalised by the geometric mean of their weights."""
    shared = a & b
    if not shared:
        return 0.0, ()
    wa = sum(index.idf(n) for n in a)
    wb = sum(index.idf(n) for n in b)
    ws = sum(index.idf(n) for n in shared)
    ranked = tuple(sorted(shared, key=index.idf, reverse=True)[:8])
    return ws / math.sqrt(wa * wb), ranked


def lede_contained(index: DocIndex, feats: Features, doc: Doc) -> bool:
    """Does one text contain the other's lede (ignoring ledes so common they are boilerplate)?"""
    for h in (feats.lede & doc.sentences) | (doc.lede & feats.sentences):
        if index.lede_df.get(h, 0) < _BOILERPLATE_LEDE:
            return True
    return False


def score_pair(
    index: DocIndex, feats: Features, query: dict[str, float], qnorm: float, doc: Doc, name_weight: float
) -> PairScore:
    cos = cosine(index, query, qnorm, doc)
    names, shared = name_overlap(index, feats.names, doc.names)
    total = (1 - name_weight) * cos + name_weight * names
    lede = cos >= _LEDE_MIN_COSINE and lede_contained(index, feats, doc)
    if lede:
        total = max(total, _LEDE_SCORE)
    return PairScore(total, cos, names, shared, lede)
