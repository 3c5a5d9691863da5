"""How much does one article look like one stored article? (the pair score)

Pure (stdlib only). Combines word similarity (tf-idf cosine with the stream's idf), agreement on names,
places and numbers (idf-weighted overlap: a shared rare surname counts, a shared "Police" hardly) and lede
containment (one text holds the other's opening sentences verbatim). It does not pick a story
(``core.match_decide`` does) and does not look at dates (the index already applied the time window).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from operator import mul

from monitor.core.match_index import Doc, DocIndex
from monitor.core.signals import Features
from monitor.core.term_weights import vector_length

_DAY = 86400.0

# The terms of a pair score, in the order of ``PairScore.x``: each is a feature value times its weight in
# ``PairWeights`` (the field of the same name; a conflict's weight is subtracted). ``reasons["ledger"]``
# lists them, with the story terms (``STORY_TERMS``), and they sum to the score.
PAIR_TERMS = (
    "cosine",
    "names",
    "rare",
    "same_address",
    "age_conflict",
    "place_conflict",
    "roundup",
    "address_conflict",
    "year_conflict",
    "age",
    "short_names",
    "short",
)
_SIGNS = (1.0, 1.0, 1.0, 1.0, -1.0, -1.0, -1.0, -1.0, -1.0, -1.0, -1.0, 1.0)
STORY_TERMS = ("specific", "no_specific", "short_no_specific")
_SHORT = PAIR_TERMS.index("short")


@dataclass(frozen=True)
class PairWeights:
    """How the signals combine: each term of ``PAIR_TERMS`` and ``STORY_TERMS`` is its feature times the
    field of its name (``cosine * cosine + names * names_overlap - age * log(1 + gap_days) ...``); the rest
    are the features' own parameters. ``news-monitor fit`` refits the term weights (``monitor.service.fit``)."""

    cosine: float = 1.0
    names: float = 0.5
    names_prior: float = 30.0  # idf mass added to the smaller name set: 2 shared names out of 2 prove little
    # Bonus for sharing names almost no other article has (a victim's surname, a street); dated pairs only,
    # like specific evidence: undated, a name rare in the stream ("Syria" among shootings) joined two
    # different Syrian stories (allsides blocks 0.670 -> 0.679 without it, ECB+ 0.835 -> 0.826).
    rare: float = 0.1
    rare_df: int = 5  # "almost no other": in at most this many stored articles
    rare_full: int = 3  # this many shared rare names earn the full bonus
    age_conflict: float = 0.1  # both give ages and none agrees: two different victims
    # Undated article and story whose texts' latest years differ: two events of one kind (ECB+: two
    # earthquakes, two players put on injured reserve in different seasons). Dated pairs have the window.
    year_conflict: float = 0.2
    place_conflict: float = 0.15  # both have datelines, none agrees and neither text names the other's town
    roundup: float = 0.375  # either text lists this many street addresses: a roundup of several incidents
    roundup_addresses: int = 4
    same_address: float = 0.1  # both give the same street address ("1200 block of South Kedzie")
    address_conflict: float = 0.1  # both give street addresses, on different streets
    specific: float = 0.2  # most a story gains from names/phrases no other stored story has
    specific_df: int = 10  # "specific": only one story has it, in at most this many articles
    specific_background: float = 2.0  # ... and at most this many of the prior's general articles (match_prior)
    specific_phrase: float = 0.5  # evidence units per such phrase ("marcus whitfield"): saturating
    specific_name: float = 0.3  # ... per such single name or number ("whitfield", "13500")
    no_specific: float = 0.15  # penalty when the query shares nothing specific with the story
    short_no_specific: float = 0.25  # ... less this times the pair's shortness (undated: stops at 0)
    recall_phrases: int = 2  # name phrases only one story holds that offer it beyond the word index/window
    age: float = 0.1  # per log-day since the story's span: the same words a month later are weaker evidence
    age_cap_days: float = 30.0  # no further penalty past this gap (only stories holding a name phrase get there)
    lede: float = 0.9  # a pair whose texts contain one's lede scores at least this: near-proof, below a same URL
    lede_min_cosine: float = 0.25  # ...unless the rest differs: "Please enable Javascript" leads many pages
    boilerplate_lede: int = 3  # a "lede" shared by this many stored articles is a paywall or cookie notice
    # Short texts (a title and a 60-word lead) name few people and places, mostly the topic's (a president,
    # an agency): there shared names say little beyond the cosine, while in full articles they tell two
    # events of one kind apart. ``shortness`` = 1 - (the larger name count of the two) / ``short_below``:
    # both texts must be short (a lead against a full article is not), and it is 0 for dated pairs (the
    # window already narrows those: GVA x8 link precision 0.934 -> 0.9145 without that exception).
    # ``short_names`` takes that share of the names weight back, ``short`` adds its own (short texts share
    # fewer words: a lower threshold) and ``short_no_specific`` eases the no-specific penalty (few names,
    # little to share). AllSides dev blocks 0.683 -> 0.725, ECB+ dev 0.853 -> 0.851 (docs/matching.md).
    short_names: float = 0.625
    short: float = 0.1
    short_below: float = 30.0

    @functools.cached_property
    def coefficients(self) -> tuple[float, ...]:
        """The signed weight of each ``PAIR_TERMS`` feature."""
        return tuple(sign * getattr(self, name) for sign, name in zip(_SIGNS, PAIR_TERMS, strict=True))


@dataclass(frozen=True)
class PairScore:
    total: float
    cosine: float
    names: float
    rare_names: int
    shared_names: tuple[str, ...]
    shared_phrases: tuple[str, ...]
    age_conflict: bool
    lede: bool
    gap_days: float | None
    place_conflict: bool = False
    roundup: bool = False
    year_conflict: bool = False
    x: tuple[float, ...] = ()  # the feature of each ``PAIR_TERMS`` term (weight 1); ``total`` weighs them
    lifted: float = 0.0  # what lede containment added to the weighted sum (``total`` = sum + lifted)


@dataclass(slots=True)
class Query:
    """Per-query values every pair score reuses (computed once per ``match``, not once per stored article)."""

    feats: Features
    qw: dict[str, float]  # tf-idf vector times idf once more (``cosine``)
    norm: float  # length of the tf-idf vector
    idf: dict[str, float]  # memo of the stream's idf for names seen in this query's pairs (fixed during a match)
    names_mass: float  # summed idf of the query's names
    pairs: dict[int, PairScore] = field(default_factory=dict)  # stored article -> its pair score (memo)


def cosine(index: DocIndex, qw: dict[str, float], qnorm: float, doc: Doc) -> float:
    """tf-idf cosine; ``qw`` is the query's tf-idf vector times idf once more (``weigh_query``), so the
    stored article's sublinear counts need no idf lookups here (the hot loop of matching)."""
    terms = doc.terms
    dot = 0.0
    for t in qw.keys() & terms.keys():  # only the shared words, found in C
        dot += qw[t] * terms[t]
    return dot / (qnorm * index.doc_norm(doc))


def weigh_query(index: DocIndex, terms: dict[str, float]) -> tuple[dict[str, float], dict[str, float], float]:
    """The query's tf-idf vector, that vector times idf once more (for ``cosine``) and its length."""
    idfs = index.idfs(terms)
    weighted = list(map(mul, terms.values(), idfs))
    vec = dict(zip(terms, weighted, strict=True))
    return vec, dict(zip(terms, map(mul, weighted, idfs), strict=True)), vector_length(weighted)


def prepare(index: DocIndex, feats: Features, terms: dict[str, float]) -> tuple[dict[str, float], Query]:
    """The query's tf-idf vector (for candidate retrieval) and its per-query scoring values."""
    vec, qw, qnorm = weigh_query(index, terms)
    idf = dict(zip(feats.names, index.idfs(feats.names), strict=True))
    return vec, Query(feats, qw, qnorm, idf, sum(idf.values()))


def _idf(index: DocIndex, q: Query, name: str) -> float:
    v = q.idf.get(name)
    if v is None:
        v = q.idf[name] = index.idf(name)
    return v


def name_overlap(index: DocIndex, q: Query, b: tuple[str, ...], prior: float) -> tuple[float, tuple[str, ...]]:
    """idf-weighted share of the smaller name set found in the other (a follow-up repeats the flash's
    names and adds its own), damped by ``prior`` so that a text with one or two names cannot score high."""
    a = q.feats.names
    shared = [n for n in b if n in a]
    if not shared:
        return 0.0, ()
    idf = q.idf
    wa = q.names_mass
    wb = sum(_idf(index, q, n) for n in b)
    ws = sum(idf[n] for n in shared)
    return ws / (min(wa, wb) + prior), tuple(sorted(shared, key=idf.__getitem__, reverse=True))


def gap_days(index: DocIndex, when: float | None, story: str) -> float | None:
    """Days between ``when`` and the nearest end of the story's time span (0 inside it; None: unknown)."""
    span = index.stories[story]
    if when is None or span.first is None or span.last is None:
        return None
    return max(0.0, when - span.last, span.first - when) / _DAY


def lede_contained(index: DocIndex, feats: Features, doc: Doc, boilerplate: int) -> bool:
    """Does one text contain the other's lede (ignoring ledes in ``boilerplate`` articles or more)?"""
    in_doc = [h for h in doc.sentences if h in feats.lede]
    in_query = [h for h in doc.lede if h in feats.sentences]
    return any(index.lede_df.get(h, 0) < boilerplate for h in in_doc + in_query)


def rare_count(index: DocIndex, shared: tuple[str, ...], rare_df: int) -> int:
    """How many shared names almost no stored article has, nor the prior's general text (``background``)."""
    df_get, background = index.df.get, index.background
    return sum(1 for n in shared if df_get(n, 0) <= rare_df and df_get(n, 0) + background(n) <= rare_df)


def specific_evidence(index: DocIndex, feats: Features, weights: PairWeights) -> dict[str, list[str]]:
    """Story -> the query's names and phrases that only that stored story has, and only a few articles
    (a victim's name, an address), phrases first. The article cap stops a feedback loop: once wrong joins
    put every "Centers for Disease Control" article in one story, that story would "own" the name.

    A fresh matcher has seen too little to know a common name from a rare one: the prior says "Sheriff" or
    "Lt" is common in general text, and a word other stories use in lower case ("a gunman") is a word of
    the topic, whichever story capitalised it in a headline."""
    out: dict[str, list[str]] = {}
    max_df, key_df, df_get = weights.specific_df, index.key_df, index.df.get
    for key in feats.names | feats.phrases:
        story = index.owner.get(key)
        if story is None or key_df[key] > max_df:
            continue
        background = index.background(key)
        if key_df[key] + background > max_df or background > weights.specific_background:
            continue
        if " " not in key and df_get(key, 0) > key_df[key]:
            continue
        out.setdefault(story, []).append(key)
    for keys in out.values():
        keys.sort(key=lambda k: (" " not in k, k))
    return out


def shortness(pair: PairScore) -> float:
    """How short the pair's texts are (``PairWeights.short_below``): 0 for full articles."""
    return pair.x[_SHORT] if pair.x else 0.0


def specific_bonus(keys: list[str], weights: PairWeights, short: float = 0.0) -> float:
    """Saturating: the first two or three specific items say most; none at all counts against, less so
    between short texts (``short``: ``shortness``), which have few names to share."""
    if not keys:
        return weights.short_no_specific * short - weights.no_specific
    units = sum(weights.specific_phrase if " " in k else weights.specific_name for k in keys)
    return weights.specific * (1.0 - math.exp(-units))


def _names_place(place: str, names: frozenset[str] | tuple[str, ...]) -> bool:
    return all(w.rstrip(".") in names for w in place.split())


def place_conflict(a: frozenset[str], a_names: frozenset[str], b: tuple[str, ...], b_names: tuple[str, ...]) -> bool:
    """Datelines of two different towns, and neither text names the other's town.

    A station's city as dateline and the suburb of the shooting ("LOS ANGELES" and "SANTA MONICA") disagree
    on a quarter of the same-story GVA pairs; but then one text names the other's town, and that is no conflict.
    """
    if not a or not b or not a.isdisjoint(b):
        return False
    return not any(_names_place(p, b_names) for p in a) and not any(_names_place(p, a_names) for p in b)


def address_agreement(a: frozenset[str], b: tuple[str, ...]) -> int:
    """1: the texts share a street address; -1: both give addresses, on different streets; 0: no telling."""
    if not a or not b:
        return 0
    if not a.isdisjoint(b):
        return 1
    streets = {x.partition(" ")[2] for x in a}
    return 0 if any(x.partition(" ")[2] in streets for x in b) else -1


def score_pair(index: DocIndex, q: Query, doc: Doc, weights: PairWeights) -> PairScore:
    feats = q.feats
    cos = cosine(index, q.qw, q.norm, doc)
    names, shared = name_overlap(index, q, doc.names, weights.names_prior)
    rare = rare_count(index, shared, weights.rare_df)
    gap = gap_days(index, feats.when, doc.story)
    phrases = tuple(p for p in doc.phrases if p in feats.phrases)
    conflict = bool(feats.ages and doc.ages) and feats.ages.isdisjoint(doc.ages)
    elsewhere = place_conflict(feats.places, feats.names, doc.places, doc.names)
    roundup = max(len(feats.addresses), len(doc.addresses)) >= weights.roundup_addresses
    address = 0 if roundup else address_agreement(feats.addresses, doc.addresses)
    years = gap is None and feats.year is not None and doc.year is not None and feats.year != doc.year
    short = max(0.0, 1.0 - max(len(feats.names), len(doc.names)) / weights.short_below) if gap is None else 0.0
    x = (
        cos,
        names,
        min(rare, weights.rare_full) / weights.rare_full if gap is not None else 0.0,
        1.0 if address > 0 else 0.0,
        1.0 if conflict else 0.0,
        1.0 if elsewhere else 0.0,
        1.0 if roundup else 0.0,
        1.0 if address < 0 else 0.0,
        1.0 if years else 0.0,
        math.log1p(min(gap, weights.age_cap_days)) if gap else 0.0,
        names * short,
        short,
    )
    c = weights.coefficients
    total = (
        c[0] * x[0] + c[1] * x[1] + c[2] * x[2] + c[3] * x[3] + c[4] * x[4] + c[5] * x[5]
        + c[6] * x[6] + c[7] * x[7] + c[8] * x[8] + c[9] * x[9] + c[10] * x[10] + c[11] * x[11]
    )  # fmt: skip
    lede = cos >= weights.lede_min_cosine and not years and lede_contained(index, feats, doc, weights.boilerplate_lede)
    lifted = max(0.0, weights.lede - total) if lede else 0.0
    return PairScore(
        total + lifted, cos, names, rare, shared, phrases, conflict, lede, gap, elsewhere, roundup, years, x, lifted
    )


def mean_features(pairs: list[PairScore]) -> dict[str, float]:
    """Each ``PAIR_TERMS`` feature averaged over ``pairs`` (as linkage averages their totals), and ``lede``:
    what lede containment lifted the totals by, on average (its weight is 1)."""
    n = len(pairs)
    out = {name: sum(p.x[i] for p in pairs) / n for i, name in enumerate(PAIR_TERMS)}
    out["lede"] = sum(p.lifted for p in pairs) / n
    return out


def ledger(x: dict[str, float], weights: PairWeights) -> dict[str, float]:
    """Each pair term's contribution: its feature times its signed weight (``lede`` as it is)."""
    out = {name: c * x[name] for name, c in zip(PAIR_TERMS, weights.coefficients, strict=True)}
    out["lede"] = x["lede"]
    return out
