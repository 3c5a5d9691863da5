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
from dataclasses import dataclass

from monitor.core import text as textmod
from monitor.core.facts import WORD_NUMBERS, extract_names, extract_numbers, extract_quotes
from monitor.core.model import Facts, Novelty

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


@dataclass(frozen=True)
class KnownText:
    """Everything known of a story before this version: its sentences and headlines."""

    sentences: tuple[str, ...]
    titles: tuple[str, ...]

    @classmethod
    def of(cls, versions: Iterable[tuple[str, str]]) -> KnownText:
        """Build from ``(title, text)`` pairs of the earlier versions."""
        sents: list[str] = []
        titles: list[str] = []
        for title, body in versions:
            titles.append(title)
            sents.extend(textmod.news_sentences(body))
        return cls(tuple(sents), tuple(titles))


def _informative(sentence: str) -> set[str]:
    return {w for w in textmod.words(sentence) if len(w) > 2 and w.lower() not in _NOT_NAMES}


def _is_known(sentence: str, keys: set[str], known_words: Sequence[set[str]], known_numbers: set[str]) -> bool:
    if textmod.sentence_key(sentence) in keys:
        return True
    mine = _informative(sentence)
    if not mine:
        return True  # nothing informative: not news on its own
    if any(_number_token(n) not in known_numbers for n in extract_numbers(sentence)):
        # "At least 52 people were killed" after "At least 34 ...": the words are a rewrite, the number is the
        # news (the classic update of a developing story).
        return False
    return any(len(mine & other) / len(mine) >= _REWRITE_CONTAINMENT for other in known_words)


def _number_token(number: str) -> str:
    """ "34,000 people" -> "34,000"; "35%" -> "35"; "$2 million" -> "2": the form ``_known_numbers`` holds."""
    run = _NUMBER_RUN.search(number)
    return run.group(0).rstrip(".,").lower() if run else number


def _known_numbers(blob: str) -> set[str]:
    """Every number a text holds, as whole tokens ("34,000", "3.5"; a sentence's final "." dropped)."""
    return {run.rstrip(".,").lower() for run in _NUMBER_RUN.findall(blob)}


def _facts(added: Sequence[str], known_blob: str) -> Facts:
    numbers: dict[str, None] = {}
    quotes: dict[str, None] = {}
    names: dict[str, None] = {}
    known_numbers = _known_numbers(known_blob)  # found once: a fact is new when its number is not among them
    for s in added:
        for n in extract_numbers(s):
            if _number_token(n) not in known_numbers:
                numbers[n] = None
        for q in extract_quotes(s):
            if textmod.sentence_key(q) not in known_blob:
                quotes[q] = None
        for name in extract_names(s):
            if name.lower() not in known_blob:
                names[name] = None
    return Facts(tuple(numbers), tuple(quotes), tuple(names))


def compute_novelty(known: KnownText, title: str, body: str, news: Sequence[str] | None = None) -> Novelty:
    """What ``(title, body)`` adds to ``known``. With nothing known, every news sentence is added.
    ``news``: the body's news sentences when the caller has already split and filtered it
    (``core.furniture``), so they are not split again."""
    keys = {textmod.sentence_key(s) for s in known.sentences}
    keys |= {textmod.sentence_key(t) for t in known.titles}
    known_words = [_informative(s) for s in (*known.sentences, *known.titles)]
    known_numbers = _known_numbers("\n".join((*known.sentences, *known.titles)))
    added: list[str] = []
    repeated = 0
    for s in textmod.news_sentences(body) if news is None else news:
        if _is_known(s, keys, known_words, known_numbers):
            repeated += 1
        else:
            added.append(s)
            keys.add(textmod.sentence_key(s))  # a sentence repeated inside one version counts once
            known_words.append(_informative(s))
            known_numbers |= {_number_token(n) for n in extract_numbers(s)}
    blob_parts = (*known.sentences, *known.titles)
    known_blob = "\n".join(blob_parts) + "\n" + " ".join(textmod.sentence_key(p) for p in blob_parts)
    facts = _facts(added, known_blob.lower()) if known.sentences or known.titles else _facts(added, "")
    last_title = known.titles[-1] if known.titles else None
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
