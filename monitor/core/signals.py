"""Signals for story matching: what one article looks like to the matcher.

Pure functions (stdlib only) that turn an article's title, text, URL and date into ``Features``: weighted
content words, names and numbers (hard evidence), the sentence keys of its lede and body (for "one text
contains the other's lede") and a normalised URL and timestamp. This module does not compare articles and
knows nothing about stories; ``core.match_index`` stores features and ``core.match`` decides.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from typing import TypeVar

from monitor.core import text as textmod
from monitor.core.prepared import SIGNALS, TextSignals
from monitor.core.urls import normalise_url


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Function words plus news filler that every story shares ("police said on Tuesday").
STOP = _wordset(
    """a an the and or but if of to in on at by for with from as is are was were be been being it its this
    that these those he she they them his her their we our you your i me my not no said says say told after
    before over under into out up down about than then there here when where who whom which what while also
    more most very can could would should will may might has have had do does did just so such only new one
    two it's there's that's him us all any some other across around against during through until according
    per via get got"""
)

# Capitalised words that start sentences or name weekdays/months: never evidence that two articles agree.
_NOT_NAMES = STOP | _wordset(
    """monday tuesday wednesday thursday friday saturday sunday january february march april may june july
    august september october november december mr mrs ms dr"""
)

_TITLE_SPLIT = re.compile(r"\s+[|\-–—:]\s+")  # " - Station Name", " | Paper": outlet suffixes, not news
_NAME = re.compile(r"\b[A-Z][A-Za-z]*(?:[’'.-][A-Za-z]+)*\b")
_NUMBER = re.compile(r"\b\d[\d,.:]*\d\b|\b\d\b")
# Runs of capitalised words ("Marcus Whitfield", "Delmar Street", "Police Chief Ann Ray"); pairs of
# neighbours in a run are the specific evidence a shared surname or "Street" alone is not.
_CAPS_RUN = re.compile(r"\b[A-Z][A-Za-z]+(?:[’'-][A-Za-z]+)*(?:\s+[A-Z][A-Za-z]+(?:[’'-][A-Za-z]+)*)+")
# "a 24-year-old man", "Marcus Whitfield, 24,": the ages of the people in a story.
_AGE = re.compile(r"\b(\d{1,3})[- ](?:year|yr)s?[- ]old\b|\b[A-Z][a-z]+,\s(\d{1,2}),")
# What a text must contain for ``_AGE`` to find anything (most texts do not: the regex is skipped).
_AGE_WORDS = ("r-old", "rs-old", "r old", "rs old")
_AGE_APPOSITION = re.compile(r",\s\d\d?,")
# Street addresses, as police and local news give them: "the 1200 block of South Kedzie", "1304 Franklin
# Avenue". One incident has one or two; a roundup of a weekend's shootings lists one per incident.
_STREET_TYPE = (
    r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Drive|Dr|Lane|Ln|Court|Ct|Place|Pl|Way|Parkway|Pkwy|Highway|Hwy)"
)
_ADDRESS = re.compile(
    r"\b(\d{1,6})\s+block\s+of\s+(?:(?:the\s+)?[NSEW][a-z]*\.?\s+)?([A-Z][a-z]+)"
    rf"|\b(\d{{1,6}})\s+(?:[NSEW]\.?\s+)?([A-Z][a-z]+)(?:\s+[A-Z][a-z]+)?\s+{_STREET_TYPE}\b"
)
# Where it happened, by the paragraph datelines ("HAWTHORNE —", "CHICAGO (AP) —", "NASHVILLE, Tenn. (WKRN) –").
_PLACE_DATELINE = re.compile(
    r"^\s*([A-Z][A-Z.'’]+(?: [A-Z][A-Z.'’]+){0,2})(?:, [A-Z][A-Za-z.]+(?: [A-Z][a-z]+)?)?\s*(?:\([^)\n]{2,30}\))?"
    r"\s*(?:[–—]|--?)",
    re.MULTILINE,
)
# Years a text mentions ("January 5, 2011", "in 2013"): the latest one dates an undated article's event.
# Bare years, not only those of full dates: ECB+ dev link F1 0.838 with them, 0.796 with dates only.
_YEAR = re.compile(r"\b(19[5-9]\d|20[0-4]\d)\b")
_NOT_PLACES = _wordset(
    "update updated breaking news watch video photos exclusive developing live new alert police office"
)
# Appeals and contact lines police and outlets append to every story ("Anyone with information is asked to
# call Crime Stoppers at 713-222-8477"): they name a department's detectives and tip lines, which a station's
# unrelated stories share, never the incident. Left out before the stream has seen them repeat (a fresh
# matcher, an outlet's first stories); ``repeated`` catches the rest once they recur.
# Each alternative comes with what any text it matches must contain (lower-cased words, or a pattern): most
# articles hold none of them and skip the regex, the costliest of the signals (case-insensitive, and most
# alternatives give it no literal prefix to search for).
_APPEAL_PARTS: tuple[tuple[str, tuple[str, ...] | re.Pattern[str]], ...] = (
    (r"anyone with (?:any )?information", ("anyone with",)),
    (r"crime ?stoppers", ("stoppers",)),
    (r"\btip ?lines?\b", ("tip line", "tipline")),
    (r"\btips? (?:can|may) be", ("tip can", "tips can", "tip may", "tips may")),
    (r"remain anonymous", ("remain anonymous",)),
    (
        r"(?:is|are) (?:being )?(?:asked|urged|encouraged) to (?:call|contact)",
        ("asked to c", "urged to c", "encouraged to c"),
    ),
    (r"\(?\b\d{3}\)?[-. ]\d{3}[-. ]\d{4}\b", re.compile(r"[-. ]\d\d\d[-. ]\d\d\d\d")),
)
_APPEAL = re.compile("|".join(part for part, _ in _APPEAL_PARTS), re.IGNORECASE)
# The characters IGNORECASE matches to an ASCII letter that ``str.lower`` does not turn into that letter
# (dotted capital I, dotless i, long s): a text holding one is searched in full.
_FOLDS_TO_ASCII = "\u0130\u0131\u017f"
_LEDE_SENTENCES = 2  # the lede: the first news sentences, the part a wire expansion keeps verbatim
_MIN_KEY_WORDS = 6  # shorter sentences ("Police said.") are too common to prove containment
_TITLE_BOOST = 2.0  # a headline word says more about the story than a body word
_SEP = "\x00"  # joins sentences for one regex pass (see ``_join``)


@dataclass(frozen=True)
class Features:
    """What the matcher knows of one article."""

    terms: dict[str, float]  # content word -> weighted count (headline words boosted)
    names: frozenset[str]  # lower-cased capitalised words and numbers: names, places, ages, addresses
    phrases: frozenset[str]  # neighbouring capitalised words: full names, streets ("marcus whitfield")
    ages: frozenset[str]  # ages of the people mentioned ("24" from "24-year-old" or "Whitfield, 24,")
    places: frozenset[str]  # towns of the paragraph datelines ("hawthorne", "salt lake city")
    addresses: frozenset[str]  # street addresses ("1200 kedzie"): shared, one incident; many, a roundup
    lede: frozenset[int]  # hashes of the lede's sentence keys
    sentences: frozenset[int]  # hashes of all news sentence keys
    url: str | None
    when: float | None  # POSIX seconds, UTC; None = unknown
    source: str | None = None  # the outlet (its repeated sentences are its boilerplate)
    year: int | None = None  # the latest year the text mentions (``latest_year``)


T = TypeVar("T")


def headline(title: str) -> str:
    """The news part of a page title: the longest piece between " - ", " | " separators."""
    parts = [p for p in _TITLE_SPLIT.split(title) if p.strip()]
    return max(parts, key=len) if parts else title


def timestamp(when: datetime | None) -> float | None:
    """POSIX seconds; a naive datetime is taken as UTC (feeds often omit the zone)."""
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def _join(title: str, sentences: list[str]) -> str:
    # One string for one regex pass instead of one per sentence. The separator is neither a word
    # character nor white space, so no token, capitalised run ("\\s+") or age crosses two sentences.
    return _SEP.join((title, *sentences))


# The headline's and the sentences' words, counted once for both ``content_terms`` and ``names``.
_Counted = tuple[Counter[str], Counter[str]]


def _word_counts(title: str, sentences: list[str]) -> _Counted:
    """Every word of the headline and of the sentences, lower-cased, counted (in C)."""
    return Counter(textmod.words(title)), Counter(textmod.words(_SEP.join(sentences)))


def content_terms(title: str, sentences: list[str], counted: _Counted | None = None) -> dict[str, float]:
    """Informative words with counts, headline words boosted; stop words and 1-letter tokens dropped."""
    head, body = counted or _word_counts(title, sentences)
    counts: dict[str, float] = {}
    for w, c in head.items():  # filtered once per distinct word
        if w not in STOP and len(w) > 1:
            counts[w] = c * _TITLE_BOOST
    for w, c in body.items():
        if w not in STOP and len(w) > 1:
            counts[w] = counts.get(w, 0.0) + c
    return counts


def names(title: str, sentences: list[str], counted: _Counted | None = None) -> frozenset[str]:
    """Capitalised words and numbers (lower-cased), the hard evidence: names, places, ages, addresses."""
    chunk = _join(title, sentences)
    capitalised: Counter[str] = Counter()
    for raw, n in Counter(_NAME.findall(chunk)).items():
        w = raw.lower().rstrip(".")
        if len(w) > 1 and w not in _NOT_NAMES:
            capitalised[w] += n
    # A word the text also writes in lower case (more words than capitalised ones) is a common noun
    # capitalised by its place ("Landslide buries homes" over "a landslide triggered by rain"): two
    # landslides on two continents shared it as a name.
    head, body = counted or _word_counts(title, sentences)
    found = {w for w, n in capitalised.items() if head[w] + body[w] <= n}
    found.update(_NUMBER.findall(chunk))
    return frozenset(found)


def name_phrases(title: str, sentences: list[str]) -> frozenset[str]:
    """Pairs of neighbouring capitalised words, lower-cased, not across function words or weekdays."""
    found: set[str] = set()
    for run_text in set(_CAPS_RUN.findall(_join(title, sentences))):
        run = run_text.lower().split()
        for a, b in pairwise(run):
            if a not in _NOT_NAMES and b not in _NOT_NAMES:
                found.add(f"{a} {b}")
    return frozenset(found)


def ages(title: str, sentences: list[str]) -> frozenset[str]:
    """The ages an article gives ("a 24-year-old man", "Marcus Whitfield, 24,")."""
    chunk = _join(title, sentences)
    if not any(w in chunk for w in _AGE_WORDS) and not _AGE_APPOSITION.search(chunk):
        return frozenset()
    return frozenset(a or b for a, b in _AGE.findall(chunk))


def addresses(title: str, sentences: list[str]) -> frozenset[str]:
    """The street addresses the article gives, as "number street" ("1200 kedzie" from "the 1200 block of
    South Kedzie", "1304 franklin" from "1304 Franklin Avenue")."""
    found = _ADDRESS.findall(_join(title, sentences))
    return frozenset(f"{a or c} {(b or d).lower()}" for a, b, c, d in found)


def places(text: str) -> frozenset[str]:
    """The towns of the article's datelines (lower-cased; any paragraph may open with one)."""
    found = (m.lower() for m in _PLACE_DATELINE.findall(text))
    return frozenset(p for p in found if p not in _NOT_PLACES)


def latest_year(title: str, sentences: list[str]) -> int | None:
    """The latest year (1950-2049) the title and news sentences mention; None: no year."""
    found = _YEAR.findall(_join(title, sentences))
    return max(map(int, found)) if found else None


def may_appeal(text: str) -> bool:
    """False when no part of ``text`` can match ``_APPEAL`` (an appeal or contact line); True: it may."""
    if any(c in text for c in _FOLDS_TO_ASCII):
        return True
    lower = text.lower()
    for _, need in _APPEAL_PARTS:
        if any(w in lower for w in need) if isinstance(need, tuple) else need.search(text):
            return True
    return False


def sentence_hash(sentence: str) -> int | None:
    """Hash of the sentence's key, if it is long enough to be evidence (None: too short)."""
    key = textmod.sentence_key(sentence)
    return hash(key) if key.count(" ") + 1 >= _MIN_KEY_WORDS else None


def features(
    title: str,
    text: str,
    url: str | None,
    published: datetime | None,
    repeated: Callable[[int], bool] | None = None,
    source: str | None = None,
) -> Features:
    """Every signal of one article (the expensive part of matching, done once per article).

    ``repeated(hash)``: is this sentence (key hash) already in several unrelated stories? Such sentences are
    site chrome no fixed pattern catches ("Get Breaking News First ...", a video playlist, a tip line); they
    are left out of the words, names and lede, and kept in ``sentences`` (what the stream statistics count).
    So are appeals for information and tip lines (``_APPEAL``), from the first article.
    """
    sents = list(textmod.news_sentences_of(text))  # the split novelty reuses (cached)
    keyed = [(s, sentence_hash(s)) for s in sents]
    hashes = [h for _, h in keyed if h is not None]
    keyed = _without_appeals(keyed)
    fresh = [(s, h) for s, h in keyed if h is None or repeated is None or not repeated(h)]
    # A parse worker read the text already (``core.prepare``); its reading holds when nothing was repeated.
    parts = SIGNALS.pop((title, text), None) if len(fresh) == len(keyed) else None
    parts = parts or text_signals(title, text, [s for s, _ in fresh])
    news = [h for _, h in fresh if h is not None]
    return Features(
        terms=parts.terms,
        names=parts.names,
        phrases=parts.phrases,
        ages=parts.ages,
        places=parts.places,
        addresses=parts.addresses,
        lede=frozenset(news[:_LEDE_SENTENCES]),
        sentences=frozenset(hashes),
        url=normalise_url(url),
        when=timestamp(published),
        source=source,
        year=parts.year,
    )


def _without_appeals(keyed: list[tuple[str, T]]) -> list[tuple[str, T]]:
    if not may_appeal(_SEP.join(s for s, _ in keyed)):
        return keyed
    return [(s, h) for s, h in keyed if not _APPEAL.search(s)]


def text_signals(title: str, text: str, sentences: list[str] | None = None) -> TextSignals:
    """The signals of the headline and the news ``sentences`` of ``text`` (default: all of them but appeals;
    ``features`` leaves out the ones the stream repeats too)."""
    if sentences is None:
        sentences = [s for s, _ in _without_appeals([(s, None) for s in textmod.news_sentences_of(text)])]
    head = headline(title)
    counted = _word_counts(head, sentences)
    return TextSignals(
        terms=content_terms(head, sentences, counted),
        names=names(head, sentences, counted),
        phrases=name_phrases(head, sentences),
        ages=ages(head, sentences),
        places=places(text),
        addresses=addresses(head, sentences),
        year=latest_year(head, sentences),
    )
