"""Which stored story is this article about? (first version: lede containment + weighted word overlap)

Pure and in-memory: the pipeline feeds it the stories it holds (``add``) and asks ``match`` for each new
article. The decision is explainable: ``MatchResult.reasons`` says which signals fired.

Contract kept by every version of this module (the pipeline and the backtest rely on it):
``Matcher(settings).match(MatchInput) -> MatchResult`` does not change the index; ``add(story, MatchInput)``
records an article as part of a story; ``remove_story(story)`` forgets it; ``len(matcher)`` is the number of
stories held.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from monitor.core import text as textmod

_STOP = frozenset(
    """a an the and or but if of to in on at by for with from as is are was were be been being it its this that
    these those he she they them his her their we our you your i me my not no said says say told after before
    over under into out up down about than then there here when where who whom which what while also more most
    very can could would should will may might has have had do does did just so such only new one two""".split()
)


@dataclass(frozen=True)
class MatchSettings:
    window_days: float = 7.0  # an update arrives within days of the story's last article
    threshold: float = 0.35


@dataclass(frozen=True)
class MatchInput:
    key: str
    title: str
    text: str
    published: datetime | None = None
    url: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class MatchResult:
    story: str | None  # None: a new story
    score: float
    reasons: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Story:
    terms: dict[str, float]
    lede_keys: set[str]
    sentence_keys: set[str]
    last_seen: datetime | None


def _terms(title: str, body: str) -> dict[str, float]:
    counts: dict[str, float] = defaultdict(float)
    for w in textmod.words(title):
        if w not in _STOP and len(w) > 1:
            counts[w] += 2.0
    for w in textmod.words(body):
        if w not in _STOP and len(w) > 1:
            counts[w] += 1.0
    return counts


class Matcher:
    def __init__(self, settings: MatchSettings | None = None) -> None:
        self.settings = settings or MatchSettings()
        self._stories: dict[str, _Story] = {}
        self._postings: dict[str, set[str]] = defaultdict(set)
        self._df: dict[str, int] = defaultdict(int)
        self._docs = 0

    def __len__(self) -> int:
        return len(self._stories)

    def _idf(self, term: str) -> float:
        return math.log((1 + self._docs) / (1 + self._df.get(term, 0))) + 1.0

    def _vector(self, terms: dict[str, float]) -> dict[str, float]:
        vec = {t: (1 + math.log(c)) * self._idf(t) for t, c in terms.items()}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        return {t: v / norm for t, v in vec.items()}

    def match(self, article: MatchInput) -> MatchResult:
        sents = textmod.news_sentences(article.text)
        keys = {textmod.sentence_key(s) for s in sents}
        query = self._vector(_terms(article.title, article.text))
        candidates: set[str] = set()
        for t in sorted(query, key=query.__getitem__, reverse=True)[:30]:
            candidates |= self._postings.get(t, set())
        best: tuple[float, str | None, dict[str, Any]] = (0.0, None, {})
        for sid in candidates:
            story = self._stories[sid]
            if not self._in_window(story, article.published):
                continue
            shared_lede = len(story.lede_keys & keys)
            vec = self._vector(story.terms)
            cos = sum(w * vec.get(t, 0.0) for t, w in query.items())
            score = 1.0 if shared_lede else cos
            if score > best[0]:
                best = (score, sid, {"cosine": round(cos, 3), "shared_lede_sentences": shared_lede})
        if best[1] is not None and best[0] >= self.settings.threshold:
            return MatchResult(best[1], round(best[0], 3), best[2])
        return MatchResult(None, round(best[0], 3), {"best_other": best[1], **best[2]})

    def _in_window(self, story: _Story, when: datetime | None) -> bool:
        if when is None or story.last_seen is None:
            return True
        return abs(when - story.last_seen) <= timedelta(days=self.settings.window_days)

    def add(self, story: str, article: MatchInput) -> None:
        sents = textmod.news_sentences(article.text)
        keys = {textmod.sentence_key(s) for s in sents}
        terms = _terms(article.title, article.text)
        entry = self._stories.get(story)
        if entry is None:
            entry = _Story(defaultdict(float), set(), set(), None)
            self._stories[story] = entry
        for t, c in terms.items():
            if t not in entry.terms:
                self._df[t] += 1
                self._postings[t].add(story)
            entry.terms[t] += c
        self._docs += 1
        entry.lede_keys |= {textmod.sentence_key(s) for s in sents[:2]}
        entry.sentence_keys |= keys
        if article.published and (entry.last_seen is None or article.published > entry.last_seen):
            entry.last_seen = article.published

    def remove_story(self, story: str) -> None:
        entry = self._stories.pop(story, None)
        if entry is None:
            return
        for t in entry.terms:
            self._postings[t].discard(story)
            self._df[t] -= 1
