"""What does a new version add to what was known of its story? Pure.

Compares a version's news sentences (boilerplate removed, see ``core.text``) with every sentence known
from the story's earlier versions. A sentence is *added* when no known sentence says nearly the same thing
(exact key, or most of its informative words already in one known sentence: wire rewrites change a word or
two). Facts (numbers, quoted speech, names) are pulled from the added sentences and kept only when the
known text does not already hold them. It does not decide which story a version belongs to.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

from monitor.core import text as textmod
from monitor.core.changes import RecentKnown
from monitor.core.facts import WORD_NUMBERS, extract_names, extract_numbers, extract_quotes
from monitor.core.known import SentenceIndex
from monitor.core.model import Facts, Novelty
from monitor.core.prepared import SENTENCES

# A sentence whose informative words are at least this share inside one known sentence is a rewrite.
_REWRITE_CONTAINMENT = 0.8

# Digits, and the number words ``core.facts`` counts with ("two dead" -> "three dead" is news too).
_NUMBER_RUN = re.compile(r"\d[\d,.]*|\b(?=[tfsenhdTFSENHD])(?:" + "|".join(WORD_NUMBERS) + r")\b", re.IGNORECASE)
_NOT_NAMES = frozenset(
    [
        "the",
        "a",
        "an",
        "and",
        "but",
        "or",
        "if",
        "in",
        "on",
        "at",
        "of",
        "for",
        "to",
        "by",
        "with",
        "from",
        "as",
        "this",
        "that",
        "these",
        "those",
        "it",
        "its",
        "he",
        "she",
        "they",
        "we",
        "i",
        "you",
        "his",
        "her",
        "their",
        "our",
        "there",
        "here",
        "when",
        "where",
        "while",
        "after",
        "before",
        "during",
        "since",
        "until",
        "because",
        "although",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "mr",
        "mrs",
        "ms",
        "dr",
        "according",
        "however",
        "meanwhile",
        "also",
        "more",
        "many",
        "some",
        "several",
        "most",
        "police",
        "officials",
        "authorities",
        "state",
        "reuters",
        "ap",
        "afp",
        "update",
        "breaking",
    ]
)


class KnownText:
    """Everything known of a story before this version, kept as an index that grows with each version
    (``learn``) instead of being rebuilt from every earlier version's text: the work of ``compute_novelty``
    then depends on the new version, not on the size of the story.

    It holds each distinct news sentence and headline once (``core.known``), the numbers they hold, and
    the last headline. ``sentences`` is every distinct sentence, in the order learnt (what the store
    keeps, so an index can be rebuilt without re-reading the versions).
    """

    def __init__(self) -> None:
        self.sentences: list[str] = []
        self.last_title: str | None = None
        self._seen: set[str] = set()
        self._index = SentenceIndex()
        self._numbers: set[str] = set()
        self._fact_numbers: set[str] = set()
        # Sentences not indexed yet: most stories never get a second version, and indexing their first one
        # would be work for nothing (the first poll of a thousand feeds opens tens of thousands of stories).
        self._pending = 0
        self._recent: RecentKnown | None = None  # built on the first question (``recent``)

    @property
    def recent(self) -> RecentKnown:
        """The latest known sentences as ``core.changes`` compares with them, kept up to date."""
        if self._recent is None:
            self._recent = RecentKnown()
        self._recent.extend(self.sentences[self._recent.count :])
        return self._recent

    @property
    def index(self) -> SentenceIndex:
        self._settle()
        return self._index

    @property
    def numbers(self) -> set[str]:
        """Number tokens of the known text ("34,000", "3.5")."""
        self._settle()
        return self._numbers

    @property
    def fact_numbers(self) -> set[str]:
        """The same, plus those of the sentence keys ("34", "000"): what the facts check compares with."""
        self._settle()
        return self._fact_numbers

    @classmethod
    def of(cls, versions: Iterable[tuple[str, str]]) -> KnownText:
        """Build from ``(title, text)`` pairs of the earlier versions, oldest first."""
        known = cls()
        for title, body in versions:
            known.learn(title, body)
        return known

    def __bool__(self) -> bool:
        return bool(self.sentences)

    def unseen(self, title: str, body: str) -> list[str]:
        """The distinct sentences (headline first) of a version that this index does not hold yet."""
        fresh = dict.fromkeys(s for s in (title, *textmod.news_sentences_of(body)) if s not in self._seen)
        return list(fresh)

    def learn(self, title: str, body: str) -> list[str]:
        """Take in one more version; returns the sentences that were new to the index (see ``unseen``)."""
        fresh = self.unseen(title, body)
        self.add_sentences(fresh)
        self.last_title = title
        return fresh

    def add_sentences(self, sentences: Iterable[str]) -> None:
        """Sentences (or headlines) known from versions stored earlier, as ``sentences`` lists them."""
        for s in sentences:
            if s in self._seen:
                continue
            self._seen.add(s)
            self.sentences.append(s)
            self._pending += 1

    def _settle(self) -> None:
        """Index the sentences added since the last question."""
        if not self._pending:
            return
        for s in self.sentences[len(self.sentences) - self._pending :]:
            key, words = _analysed(s)
            self._index.add(key, words)
            runs = _known_numbers(s)
            self._numbers |= runs
            self._fact_numbers |= runs | _known_numbers(key)
        self._pending = 0

    def knows_phrase(self, phrase: str) -> bool:
        """Does a known sentence or headline hold ``phrase`` (a name, a quote) as whole words?"""
        return self.index.holds_run(textmod.sentence_key(phrase))


@lru_cache(maxsize=1024)
def _analysed(sentence: str) -> tuple[str, frozenset[str]]:
    """(key, informative words): worked out once per sentence for novelty, then for the index. The set is
    built from the words in the order of the text whether they were worked out here or in a parse worker
    (``core.prepared``), so it iterates alike (``SentenceIndex`` breaks ties between words in that order)."""
    known = SENTENCES.get(sentence)
    words = known.informative.split() if known is not None else informative_words(sentence)
    return textmod.sentence_key(sentence), frozenset({w for w in words})


def informative_words(sentence: str) -> tuple[str, ...]:
    """The words novelty compares sentences by, each once, in the order of the text."""
    return tuple(dict.fromkeys(w for w in textmod.words(sentence) if len(w) > 2 and w.lower() not in _NOT_NAMES))


def _is_known(sentence: str, known: KnownText, this_version: SentenceIndex, numbers_here: set[str]) -> bool:
    key, mine = _analysed(sentence)
    if key in known.index.keys or key in this_version.keys:
        return True
    if not mine:
        return True  # nothing informative: not news on its own
    tokens = {_number_token(n) for n in extract_numbers(sentence)}
    if any(t not in known.numbers and t not in numbers_here for t in tokens):
        # "At least 52 people were killed" after "At least 34 ...": the words are a rewrite, the number is the
        # news (the classic update of a developing story).
        return False
    share = _REWRITE_CONTAINMENT
    return known.index.holds_share(mine, share) or this_version.holds_share(mine, share)


def _number_token(number: str) -> str:
    """ "34,000 people" -> "34,000"; "35%" -> "35"; "$2 million" -> "2": the form ``_known_numbers`` holds."""
    run = _NUMBER_RUN.search(number)
    return run.group(0).rstrip(".,").lower() if run else number


def _known_numbers(blob: str) -> set[str]:
    """Every number a text holds, as whole tokens ("34,000", "3.5"; a sentence's final "." dropped)."""
    return {run.rstrip(".,").lower() for run in _NUMBER_RUN.findall(blob)}


def _facts(added: Sequence[str], known: KnownText) -> Facts:
    numbers: dict[str, None] = {}
    quotes: dict[str, None] = {}
    names: dict[str, None] = {}
    for s in added:
        for n in extract_numbers(s):
            if _number_token(n) not in known.fact_numbers:
                numbers[n] = None
        for q in extract_quotes(s):
            if not known.knows_phrase(q):
                quotes[q] = None
        for name in extract_names(s):
            if not known.knows_phrase(name):
                names[name] = None
    return Facts(tuple(numbers), tuple(quotes), tuple(names))


def compute_novelty(known: KnownText, title: str, body: str, news: Sequence[str] | None = None) -> Novelty:
    """What ``(title, body)`` adds to ``known`` (which it leaves as it is: ``known.learn`` takes the version
    in once it is stored). With nothing known, every news sentence is added. ``news``: the body's news
    sentences when the caller has already split and filtered it (``core.furniture``), so they are not split
    again."""
    this_version = SentenceIndex(runs=False)  # a sentence repeated inside one version counts once
    numbers_here: set[str] = set()
    added: list[str] = []
    repeated = 0
    for s in textmod.news_sentences_of(body) if news is None else news:
        if _is_known(s, known, this_version, numbers_here):
            repeated += 1
        else:
            added.append(s)
            this_version.add(*_analysed(s))
            numbers_here |= {_number_token(n) for n in extract_numbers(s)}
    facts = _facts(added, known)
    last_title = known.last_title
    changed = last_title is not None and textmod.sentence_key(last_title) != textmod.sentence_key(title)
    return Novelty(tuple(added), facts, changed, repeated)


def fact_count(facts: Facts) -> int:
    return len(facts.numbers) + len(facts.quotes) + len(facts.names)


def is_material(novelty: Novelty, *, min_new_sentences: int = 1, min_new_facts: int = 1) -> bool:
    """A version matters when it adds enough sentences or enough facts (either is enough).

    A changed headline alone does not: wire desks re-title stories without adding news.
    """
    if min_new_sentences > 0 and len(novelty.added) >= min_new_sentences:
        return True
    return min_new_facts > 0 and fact_count(novelty.facts) >= min_new_facts
