"""The matcher's memory: stored articles, an inverted index over their words, and stream statistics.

Pure and in-memory (stdlib only). Answers "which stored articles could be about the same story as this
one?" cheaply, without comparing against every article: only the query's most informative words are looked
up, each posting list is capped to its most recent entries, and stories outside the time window are skipped.
It does not score or decide (``core.match`` does); document frequencies here are the idf "of the stream so
far" that scoring uses.
"""

from __future__ import annotations

import math
import sys
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass
from itertools import islice, repeat
from operator import mul

from monitor.core.match_prior import pseudo_df
from monitor.core.signals import Features
from monitor.core.term_weights import sublinear, vector_length


@dataclass(frozen=True)
class IndexSettings:
    query_terms: int = 12  # look up only the query's k most informative words (pruning)
    posting_cap: int = 400  # keep the newest entries per word: old news rarely gets updates
    max_candidates: int = 40  # articles scored in full per query
    # ...and at most this many of one story (its best by the shared words' weight): a story of thousands of
    # versions would otherwise fill every slot with near-copies of itself, making each match score 40 pairs
    # where 12 tell as much (the best member; linkage scores the recent ones anyway).
    story_candidates: int = 12
    repeated_stories: int = 3  # a sentence already in this many stories is site chrome, not news
    outlet_repeated_stories: int = 2  # ... or in this many stories of one outlet (its footer, its tip line)
    stored_terms: int = 60  # per article: its most informative words only (bounded memory)
    norm_refresh_growth: float = 4.0  # a stored length's words are looked up again after this growth (doc_norm)
    # The background prior (``core.match_prior``): this many imaginary general-English articles of
    # ``prior_tokens`` words are counted with the stream's own, so idf, rare names and specific evidence
    # mean something from the first article; 0 turns it off (the stream's counts alone).
    prior_docs: float = 1000.0
    prior_tokens: float = 300.0
    # ...and its weight in idf halves when the stream holds this many articles (thirds at twice as many):
    # the stream's own counts know its topics ("shooting" is in every article of a crime feed), the prior
    # only knows English.
    prior_fade: float = 300.0
    # The same for the background of names (``background``: rare names, specific evidence), sooner: once
    # a stream has a few hundred articles, "only one story has it" is better evidence than English is
    # (GVA dev link F1 0.848 at 300, 0.868 at 50).
    background_fade: float = 50.0


@dataclass(slots=True)
class Doc:
    """One stored article: its story and the parts of its features that scoring needs."""

    story: str
    terms: dict[str, float]  # word -> sublinear tf (1 + log count), headline boost included
    # tf-idf length at corpus size ``norm_at`` and the sums that let ``DocIndex.doc_norm`` follow the corpus
    norm: float
    norm_lin: float
    norm_sq: float
    norm_at: int
    # Tuples, not sets: a stored article is only ever scanned against a query's sets, and a tuple
    # takes a quarter of the memory (100k stories must fit in well under 1 GiB).
    names: tuple[str, ...]
    phrases: tuple[str, ...]
    ages: tuple[str, ...]
    places: tuple[str, ...]
    lede: tuple[int, ...]
    sentences: tuple[int, ...]
    when: float | None
    addresses: tuple[str, ...]  # "1200 kedzie" (``signals.addresses``)
    source: str | None = None  # the outlet (``outlet_sentences``)
    year: int | None = None  # the latest year the text mentions (``signals.latest_year``)


@dataclass(slots=True)
class StorySpan:
    """The members of a story and the time they cover (None: all undated)."""

    docs: list[int]
    first: float | None
    last: float | None


_LOW = (1 << 32) - 1
_STORY = 1 << 64  # one story in ``DocIndex.sentence_stories``


def _count_sentences(seen: dict[int, int], story: str, hashes: frozenset[int]) -> None:
    # Packed: stories so far, and the 32-bit tags of the last two. A story alternating with one other
    # (a wire story split in two) never counts more than two; three distinct stories count three.
    tag = hash(story) & _LOW
    for h in hashes:
        packed = seen.get(h)
        if packed is None:
            seen[h] = _STORY | tag
        elif tag != packed & _LOW and tag != (packed >> 32) & _LOW:
            seen[h] = ((packed >> 64) + 1) << 64 | (packed & _LOW) << 32 | tag


def _singular(word: str) -> str:
    """ "sheriff's" -> "sheriff": the possessive is as common as the word (the prior lists few of them)."""
    return word[:-2] if word.endswith(("'s", "’s")) else word


def _interned(strings: frozenset[str]) -> tuple[str, ...]:
    return tuple(map(sys.intern, strings))


class DocIndex:
    def __init__(self, settings: IndexSettings | None = None) -> None:
        self.settings = settings or IndexSettings()
        self.docs: dict[int, Doc] = {}
        self.stories: dict[str, StorySpan] = {}
        self.postings: dict[str, list[int]] = {}
        self.df: Counter[str] = Counter()
        self.urls: dict[str, int] = {}
        self.lede_df: Counter[int] = Counter()  # a lede sentence in many articles is boilerplate
        self.phrase_df: Counter[str] = Counter()  # "Marcus Whitfield" is rare, "Police Chief" is not
        # name or phrase -> the one story whose articles mention it (None: several stories do). A victim's
        # name belongs to one story; a police chief's or a city's to many (specific evidence).
        self.owner: dict[str, str | None] = {}
        self.key_df: Counter[str] = Counter()  # articles per name or phrase
        # sentence hash -> how many stories have it (bits 64+) and 32-bit tags of the last two: one int per
        # sentence, not a set of stories (memory at 100k stories).
        self.sentence_stories: dict[int, int] = {}
        self.outlet_sentences: dict[int, int] = {}  # the same, keyed by the hash of (outlet, sentence)
        self.prior = pseudo_df(self.settings.prior_docs, self.settings.prior_tokens)
        self.prior_docs = 0.0  # the prior's articles, and each word's count among them (``prior_df``)
        self.prior_scale = 0.0
        self.background_scale = 1.0
        self.idf_base = 1.0  # log(1 + N + prior articles) + 1: the part of every idf the corpus size sets
        self._fade_prior()
        self._next = 0
        self.dates: tuple[float, float] | None = None  # the earliest and latest date added (removals keep them)

    def __len__(self) -> int:
        return len(self.docs)

    def _fade_prior(self) -> None:
        if self.prior:
            self.prior_scale = 1.0 / (1.0 + len(self.docs) / self.settings.prior_fade)
            self.prior_docs = self.settings.prior_docs * self.prior_scale
            self.background_scale = 1.0 / (1.0 + len(self.docs) / self.settings.background_fade)
        self.idf_base = self._idf_base(len(self.docs))

    def _idf_base(self, n: int) -> float:
        """log(1 + N + the prior's articles) + 1 at size n (as ``_fade_prior`` computes it: ``idf_base``)."""
        prior_docs = self.settings.prior_docs * (1.0 / (1.0 + n / self.settings.prior_fade)) if self.prior else 0.0
        return math.log(1 + n + prior_docs) + 1.0

    def prior_df(self, term: str) -> float:
        """The word's count among the prior's (faded) articles."""
        return self.prior.get(term, 0.0) * self.prior_scale

    def idf(self, term: str) -> float:
        """Smoothed idf from the stream so far and the prior; unseen words get the highest value."""
        return math.log((1 + len(self.docs) + self.prior_docs) / (1 + self.df.get(term, 0) + self.prior_df(term))) + 1.0

    def idf_of(self) -> Callable[[str], float]:
        """``idf`` with the corpus size read once (for loops over many words; same values)."""
        n1, df_get, prior_get, log = 1 + len(self.docs) + self.prior_docs, self.df.get, self.prior.get, math.log
        scale = self.prior_scale
        return lambda term: log(n1 / (1 + df_get(term, 0) + scale * prior_get(term, 0.0))) + 1.0

    def idfs(self, terms: Collection[str]) -> list[float]:
        """``idf`` of each of ``terms``, in order (the same values). The hot loop of matching at 100k stories:
        the counts are looked up in C (``map``), which costs a third less than one lookup at a time."""
        n1, scale, log = 1 + len(self.docs) + self.prior_docs, self.prior_scale, math.log
        dfs = map(self.df.get, terms, repeat(0))
        priors = map(self.prior.get, terms, repeat(0.0))
        return [log(n1 / (1 + df + scale * prior)) + 1.0 for df, prior in zip(dfs, priors, strict=True)]

    def background(self, key: str) -> float:
        """The prior's article count of a name or name phrase (a phrase: its rarest word's; "police
        department" is common, "marcus whitfield" is not)."""
        get, scale = self.prior.get, self.background_scale
        if " " in key:
            return scale * min(get(_singular(w), 0.0) for w in key.split())
        return scale * get(_singular(key), 0.0)

    def vector(self, terms: dict[str, float]) -> tuple[dict[str, float], float]:
        """tf-idf weights and their Euclidean length."""
        weighted = list(map(mul, terms.values(), self.idfs(terms)))
        return dict(zip(terms, weighted, strict=True)), vector_length(weighted)

    def _measure(self, doc: Doc) -> None:
        """Look the stored article's words up again: its length now, and the sums ``doc_norm`` shifts it by."""
        terms = doc.terms
        n1, scale, log = 1 + len(self.docs) + self.prior_docs, self.prior_scale, math.log
        dfs = list(map(self.df.get, terms, repeat(0)))
        priors = [scale * p for p in map(self.prior.get, terms, repeat(0.0))]
        idfs = [log(n1 / (1 + df + prior)) + 1.0 for df, prior in zip(dfs, priors, strict=True)]
        weights = list(map(mul, tfs := terms.values(), idfs))
        # d idf / d log N if the word's count grows with the corpus, the prior's share fades as 1/N and the
        # smoothing 1 stays: ~1 for a rare name, ~0 for a common word (why, and what failed: docs/matching.md).
        gains = [(1.0 + 2.0 * prior) / (1 + df + prior) for df, prior in zip(dfs, priors, strict=True)]
        doc.norm = vector_length(weights)
        doc.norm_lin = sum(map(mul, map(mul, tfs, weights), gains))  # sum(tf^2 idf gain)
        doc.norm_sq = sum(x * x for x in map(mul, tfs, gains))  # sum(tf^2 gain^2)
        doc.norm_at = len(self.docs)

    def doc_norm(self, doc: Doc) -> float:
        """The stored article's tf-idf length now. idf = log(1 + N + prior) - log(1 + df + prior's df) + 1:
        when log(1 + N + prior) moves by d, a word's idf moves by about gain * d (``_measure``), so the length
        is sqrt(norm^2 + 2 d sum(tf^2 idf gain) + d^2 sum(tf^2 gain^2)), O(1) instead of 60 lookups (28% of a
        match at 100k stories). Approximate: on GVA 1.8% from the plain length on average (docs/matching.md)."""
        n = len(self.docs)
        if n > doc.norm_at * self.settings.norm_refresh_growth + 8:
            self._measure(doc)
            return doc.norm
        shift = self.idf_base - self._idf_base(doc.norm_at)
        squared = doc.norm * doc.norm + shift * (2.0 * doc.norm_lin + shift * doc.norm_sq)
        return math.sqrt(squared) if squared > 0.0 else 1.0

    def add(self, story: str, feats: Features) -> int:
        """Store one article as a member of ``story``; returns its internal number."""
        # Strings are interned here, not in ``signals``: only what is stored needs one copy per word (memory),
        # and a query's words are thrown away after the match.
        terms = {sys.intern(t): w for t, w in self._keep_informative(sublinear(feats.terms)).items()}
        names, phrases = _interned(feats.names), _interned(feats.phrases)
        docno = self._next
        self._next += 1
        for t in terms:
            self.df[t] += 1
            posting = self.postings.setdefault(t, [])
            posting.append(docno)
            if len(posting) > 2 * self.settings.posting_cap:
                del posting[: -self.settings.posting_cap]
        doc = Doc(
            story,
            terms,
            *(1.0, 0.0, 0.0, 0),  # the length, measured below
            names,
            phrases,
            _interned(feats.ages),
            _interned(feats.places),
            tuple(feats.lede),
            tuple(feats.sentences),
            feats.when,
            _interned(feats.addresses),
            sys.intern(feats.source) if feats.source else None,
            feats.year,
        )
        self._measure(doc)
        self.docs[docno] = doc
        self.lede_df.update(feats.lede)
        _count_sentences(self.sentence_stories, story, feats.sentences)
        if feats.source:
            _count_sentences(self.outlet_sentences, story, frozenset(hash((feats.source, h)) for h in feats.sentences))
        self.phrase_df.update(phrases)
        self._own(story, names + phrases)
        if feats.url:
            self.urls[feats.url] = docno
        self._extend_story(story, docno, feats.when)
        self._fade_prior()
        return docno

    def _own(self, story: str, keys: tuple[str, ...]) -> None:
        owner = self.owner
        self.key_df.update(keys)
        for key in keys:
            held = owner.get(key, story)
            owner[key] = story if held == story else None

    def is_repeated(self, sentence: int, source: str | None = None) -> bool:
        """Is this sentence already in ``repeated_stories`` stories (site chrome: nav, sign-up, tip lines), or
        in ``outlet_repeated_stories`` stories of the article's outlet (``source``: its footer, its press
        office's tip line, which two unrelated releases of one police department share)?

        Counted in stories, not articles: a wire story's lede repeated by twenty outlets is one story's news.
        """
        if self.sentence_stories.get(sentence, 0) >> 64 >= self.settings.repeated_stories:
            return True
        if source is None or not self.outlet_sentences:
            return False
        return self.outlet_sentences.get(hash((source, sentence)), 0) >> 64 >= self.settings.outlet_repeated_stories

    def _keep_informative(self, terms: dict[str, float]) -> dict[str, float]:
        if len(terms) <= (cap := self.settings.stored_terms):
            return terms
        words, weights = list(terms), list(map(mul, terms.values(), self.idfs(terms)))
        best = sorted(range(len(words)), key=weights.__getitem__, reverse=True)[:cap]  # stable: ties in word order
        return {words[i]: terms[words[i]] for i in best}

    def _extend_story(self, story: str, docno: int, when: float | None) -> None:
        if when is not None:
            lo, hi = self.dates or (when, when)
            self.dates = (min(lo, when), max(hi, when))
        span = self.stories.get(story)
        if span is None:
            self.stories[story] = StorySpan([docno], when, when)
            return
        span.docs.append(docno)
        if when is not None:
            span.first = when if span.first is None else min(span.first, when)
            span.last = when if span.last is None else max(span.last, when)

    def remove_story(self, story: str) -> None:
        """Forget a story and its articles (postings are cleaned lazily: dead numbers are skipped)."""
        span = self.stories.pop(story, None)
        members = [self.docs[docno] for docno in span.docs] if span else []
        held = {h for doc in members for h in doc.sentences}
        by_outlet = {hash((doc.source, h)) for doc in members if doc.source for h in doc.sentences}
        for seen, hashes in ((self.sentence_stories, held), (self.outlet_sentences, by_outlet)):
            for h in hashes:  # one story fewer has it
                packed = seen.get(h, 0)
                if packed >> 64 <= 1:
                    seen.pop(h, None)
                else:
                    seen[h] = packed - _STORY
        for docno in span.docs if span else ():
            doc = self.docs.pop(docno)
            self.df.subtract(doc.terms.keys())  # one per article, not the term weights
            self.lede_df.subtract(doc.lede)
            self.phrase_df.subtract(doc.phrases)
            self.key_df.subtract((*doc.names, *doc.phrases))
            for key in (*doc.names, *doc.phrases):  # only this story had it: free again
                if self.owner.get(key, "") == story:
                    del self.owner[key]
        self.df = +self.df  # drop words no article has any more
        self.lede_df = +self.lede_df
        self.phrase_df = +self.phrase_df
        self.key_df = +self.key_df
        self.urls = {u: d for u, d in self.urls.items() if d in self.docs}
        self._fade_prior()

    def dated(self, story: str, when: float | None) -> bool:
        """Do both the article and the story have dates (so the time window applies)?"""
        return when is not None and self.stories[story].last is not None

    def in_window(self, story: str, when: float | None, window: float) -> bool:
        """Could an article published at ``when`` be an update of ``story``? Unknown times always can."""
        span = self.stories[story]
        if when is None or span.first is None or span.last is None:
            return True
        return span.first - window <= when <= span.last + window

    def candidates(self, query: dict[str, float], when: float | None, window: float) -> tuple[list[int], int]:
        """Stored articles worth scoring in full, best first (pruned: see the module docstring), and how many
        stories compete: those in the window that share one of the query's most informative words. That
        count, not the number of stories held, says how crowded the article's topic is right now (a dense
        week of shootings in one city; a daemon holding 100k stories on other topics is not crowded)."""
        # The most informative words that stored articles have: sorted first (stable, so equal weights keep
        # their order), then only as many looked up as needed, not the whole query.
        df, k = self.df, self.settings.query_terms
        looked_up = list(islice((t for t in sorted(query, key=query.__getitem__, reverse=True) if t in df), k))
        # Every article added is within the window of this one (a first poll, an undated query): no story's
        # span needs judging (``in_window`` would say yes to each; removals only make this more cautious).
        dates = self.dates
        everyone = when is None or dates is None or (when - window <= dates[0] and dates[1] <= when + window)
        acc: dict[int, float] = {}
        allowed: dict[str, bool] = {}  # story -> in the window
        # stored article -> alive and in the window: the versions of one long story are in the postings of
        # most of the query's words (up to ``posting_cap`` each), and each is judged once.
        usable: dict[int, bool] = {}
        docs, postings, cap = self.docs, self.postings, self.settings.posting_cap
        acc_get, docs_get, allowed_get, usable_get = acc.get, docs.get, allowed.get, usable.get
        for term, idf in zip(looked_up, self.idfs(looked_up), strict=True):
            weight = query[term] * idf
            posting = postings.get(term, ())
            for docno in posting[-cap:] if len(posting) > cap else posting:
                ok = usable_get(docno)
                if ok is None:
                    doc = docs_get(docno)
                    if doc is None:
                        ok = False
                    else:
                        ok = allowed_get(doc.story)
                        if ok is None:
                            ok = allowed[doc.story] = everyone or self.in_window(doc.story, when, window)
                    usable[docno] = ok
                if ok:
                    acc[docno] = acc_get(docno, 0.0) + weight
        best = sorted(acc, key=acc.__getitem__, reverse=True)[: self.settings.max_candidates]
        per_story, taken, kept = self.settings.story_candidates, dict[str, int](), []
        for docno in best:
            story = docs[docno].story
            n = taken.get(story, 0)
            if n < per_story:
                taken[story] = n + 1
                kept.append(docno)
        return kept, sum(allowed.values())
