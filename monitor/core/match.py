"""Which stored story is this article about?

Pure and in-memory (stdlib only, no clock, no I/O): the pipeline feeds it the articles it has assigned
(``add``) and asks ``match`` for each new one. Signals, strongest first:

1. the same URL (normalised) -> the same story;
2. one text contains the other's lede (an expanded wire story, a flash and its long version);
3. content similarity on informative words (tf-idf, idf from the stream so far), against each member
   article of a story (the best member counts, so a story that drifts keeps matching its latest angle),
   combined with agreement on names, places and numbers (capitalised words and digits).

The decision (``core.match_decide``) weighs the best story's score against a threshold, the margin to the
second-best story and how many stories competed. Candidates come from an inverted index
(``core.match_index``), never from a scan of every story; stories whose time span is further than
``window_days`` from the article are not candidates (articles without a date have no window).
This module does not store anything beyond the process, does not read the clock, and does not decide what
is new in an article (``core.novelty``).

Contract kept by every version of this module (the pipeline and the backtest rely on it):
``Matcher(settings).match(MatchInput) -> MatchResult`` does not change the index; ``add(story, MatchInput)``
records an article as part of a story; ``remove_story(story)`` forgets it; ``len(matcher)`` is the number of
stories held.
"""

from __future__ import annotations

import math
from dataclasses import replace

from monitor.core import signals
from monitor.core.match_decide import Candidate, decide
from monitor.core.match_index import DocIndex
from monitor.core.match_score import (
    PairScore,
    Query,
    ledger,
    mean_features,
    prepare,
    score_pair,
    shortness,
    specific_bonus,
    specific_evidence,
)
from monitor.core.match_types import MatchInput, MatchResult, MatchSettings
from monitor.core.term_weights import sublinear

__all__ = ["MatchInput", "MatchResult", "MatchSettings", "Matcher"]

_DAY = 86400.0


class Matcher:
    def __init__(self, settings: MatchSettings | None = None) -> None:
        self.settings = settings or MatchSettings()
        self._index = DocIndex(self.settings.index)
        # The last matched article and its features: the pipeline and the backtest ``add`` the article they
        # just matched, and the index cannot change in between except through ``add``/``remove_story``.
        self._last: tuple[MatchInput, signals.Features] | None = None

    def __len__(self) -> int:
        return len(self._index.stories)

    def match(self, article: MatchInput) -> MatchResult:
        """The story ``article`` belongs to (None: a new one), with the evidence. Changes nothing."""
        feats = self._features(article)
        self._last = (article, feats)
        same_url = self._index.urls.get(feats.url) if feats.url else None
        if same_url is not None:
            story = self._index.docs[same_url].story
            return MatchResult(story, 1.0, {"rule": "same_url", "url": feats.url})
        ranked, competing = self._score_stories(feats)
        return decide(ranked, self.settings, competing, self._index.background_scale)

    def evidence(self, article: MatchInput, top: int = 5) -> list[tuple[str, dict[str, float]]]:
        """The leading candidate stories, best first, each with the features its score weighs (weight 1):
        the ``PAIR_TERMS`` averaged as linkage averages them, ``lede`` (its lift), ``specific`` (the
        saturating share of specific evidence; 0 undated), ``no_specific`` (1: nothing specific), and what
        sets the threshold: ``density`` (log of competing stories over ``density_reference``, 0 below; dated
        pairs), ``undated_density`` (the same, undated pairs), ``young`` (``DocIndex.background_scale``),
        ``undated``. What ``monitor.service.fit`` fits on."""
        feats = self._features(article)
        self._last = (article, feats)
        ranked, competing = self._score_stories(feats, ledgers=top)
        s = self.settings
        density = math.log(competing / s.density_reference) if competing > s.density_reference else 0.0
        young = self._index.background_scale
        out = []
        for c in ranked[:top]:
            undated = c.pair.gap_days is None
            x = {"density": 0.0 if undated else density, "undated_density": density if undated else 0.0}
            out.append((c.story, {**c.x, **x, "young": young, "undated": float(undated)}))
        return out

    def _score_stories(self, feats: signals.Features, ledgers: int = 1) -> tuple[list[Candidate], int]:
        """Candidate stories by best member; the leaders re-scored by linkage; best first, the best with its
        ledger. And how many stories compete for the article (``DocIndex.candidates``)."""
        vec, q = prepare(self._index, feats, sublinear(feats.terms))
        window = self.settings.window_days * _DAY
        best: dict[str, PairScore] = {}
        docnos, competing = self._index.candidates(vec, feats.when, window)
        for docno in docnos:
            doc = self._index.docs[docno]
            pair = self._pair(q, docno)
            if doc.story not in best or pair.total > best[doc.story].total:
                best[doc.story] = pair
        weights = self.settings.weights
        specific = specific_evidence(self._index, feats, weights)
        need = weights.recall_phrases
        by_name = {s for s, keys in specific.items() if s not in best and sum(" " in k for k in keys) >= need}
        for story in by_name:
            best[story] = self._recall_by_name(q, story)

        def story_bonus(story: str) -> float:
            bonus = specific_bonus(specific.get(story, []), weights, shortness(best[story]))
            # Undated: no window, so a name shared with a months-old story about the same person (a
            # justice, an agency) cannot prove the same event; its absence still counts against.
            return bonus if self._index.dated(story, feats.when) else min(bonus, 0.0)

        ranked = sorted(best.items(), key=lambda kv: kv[1].total + story_bonus(kv[0]), reverse=True)
        rescored = self.settings.rescored
        out = [
            Candidate(s, p, self._linkage(q, s, p) + story_bonus(s), tuple(specific.get(s, ())), s in by_name)
            for s, p in ranked[:rescored]
        ]
        out += [
            Candidate(s, p, p.total + story_bonus(s), tuple(specific.get(s, ())), s in by_name)
            for s, p in ranked[rescored:]
        ]
        out.sort(key=lambda c: c.score, reverse=True)
        leaders = {s for s, _ in ranked[:rescored]}
        for i, c in enumerate(out[:ledgers]):
            x, terms = self._story_terms(q, c, leaders, story_bonus(c.story))
            out[i] = replace(c, ledger=terms, x=x)
        return out, competing

    def _story_terms(
        self, q: Query, c: Candidate, leaders: set[str], bonus: float
    ) -> tuple[dict[str, float], dict[str, float]]:
        """The candidate's features and ledger: its pair terms, then the story terms (``bonus``)."""
        weights = self.settings.weights
        x = self._features_of(q, c.story, c.pair, c.story in leaders)
        none = not c.specific
        x["specific"] = bonus / weights.specific if bonus > 0 and weights.specific else 0.0
        x["no_specific"] = 1.0 if none else 0.0
        x["short_no_specific"] = shortness(c.pair) if none else 0.0
        terms = ledger(x, weights)
        if none:  # the penalty and what shortness took back of it (``specific_bonus``), summing to ``bonus``
            terms["no_specific"] = -weights.no_specific
            terms["short_no_specific"] = bonus + weights.no_specific
        else:
            terms["specific"] = bonus
        return x, terms

    def _pair(self, q: Query, docno: int) -> PairScore:
        """The pair score of the query against one stored article, once per match (linkage re-reads it)."""
        pair = q.pairs.get(docno)
        if pair is None:
            pair = q.pairs[docno] = score_pair(self._index, q, self._index.docs[docno], self.settings.weights)
        return pair

    def _members(self, story: str) -> list[int]:
        return self._index.stories[story].docs[-self.settings.linkage_members :]

    def _recall_by_name(self, q: Query, story: str) -> PairScore:
        """Score a story the word index did not offer (outside the window, or few shared words) that alone
        holds one of the article's name phrases: a trial or funeral article names the victim months later."""
        pairs = [self._pair(q, d) for d in self._members(story)]
        return max(pairs, key=lambda p: p.total)

    def _linkage(self, q: Query, story: str, best: PairScore) -> float:
        """Blend the best member's score with the mean over the story's recent members.

        Best-member ("single") linkage alone chains: a weekly "jobless claims" article joins last week's,
        and the story grows without end. The mean keeps a story about one event (average linkage).
        """
        alpha = self.settings.linkage
        members = self._members(story)
        if alpha == 0.0 or len(members) < 2 or best.lede:
            return best.total
        totals = [self._pair(q, d).total for d in members]
        return (1 - alpha) * best.total + alpha * sum(totals) / len(totals)

    def _features_of(self, q: Query, story: str, best: PairScore, linked: bool) -> dict[str, float]:
        """The story's pair features, blended as ``_linkage`` blends the totals (``linked``: it did)."""
        alpha = self.settings.linkage
        members = self._members(story)
        if not linked or alpha == 0.0 or len(members) < 2 or best.lede:
            return mean_features([best])
        mean = mean_features([self._pair(q, d) for d in members])
        if alpha == 1.0:
            return mean
        single = mean_features([best])
        return {k: (1 - alpha) * single[k] + alpha * mean[k] for k in mean}

    def add(self, story: str, article: MatchInput) -> None:
        """Record ``article`` as a member of ``story`` (created if new)."""
        last, self._last = self._last, None
        feats = last[1] if last is not None and (last[0] is article or last[0] == article) else self._features(article)
        self._index.add(story, feats)

    def _features(self, article: MatchInput) -> signals.Features:
        source, index = article.source, self._index
        return signals.features(
            article.title, article.text, article.url, article.published, lambda h: index.is_repeated(h, source), source
        )

    def remove_story(self, story: str) -> None:
        """Forget ``story`` and its articles; unknown stories are ignored."""
        self._last = None
        self._index.remove_story(story)
