"""The matcher's fast paths give exactly what the plain computations give (they may not change a decision):
idf looked up in bulk, stored articles' lengths, and the cheap test that lets most articles skip the appeal
regex. Speed itself is measured by bench/bench_match.py, not here."""

from __future__ import annotations

import json
import math
import re
import string
import sys

import pytest

from monitor.core import signals, text
from monitor.core.match import Matcher, MatchInput
from tests.support.labelled import dataset

STORIES = [
    ("Police say a man was shot on Delmar Street", "Marcus Whitfield, 24, was shot on Delmar Street on Friday night."),
    ("Sheriff: deputies investigate crash", "Deputies said two cars collided near the county fairground on Route 9."),
    ("Council approves budget", "The city council approved a budget of $4.2 million for the police department."),
]


def _plain_idf(matcher: Matcher, term: str) -> float:
    index = matcher._index  # the test compares the index's fast path with the formula itself
    n, df, prior = len(index.docs), index.df.get(term, 0), index.prior.get(term, 0.0)
    return math.log((1 + n + index.prior_docs) / (1 + df + index.prior_scale * prior)) + 1.0


def _plain_length(matcher: Matcher, terms: dict[str, float]) -> float:
    vec = {t: w * _plain_idf(matcher, t) for t, w in terms.items()}
    return math.sqrt(sum(v * v for v in vec.values())) or 1.0


def test_idf_in_bulk_and_refreshed_lengths_are_the_plain_formula() -> None:
    m = Matcher()
    words = ["police", "shot", "whitfield", "delmar", "budget", "never-seen", "the"]
    for i in range(40):
        title, body = STORIES[i % len(STORIES)]
        m.add(f"s{i % 7}", MatchInput(f"a{i}", f"{title} {i}", f"{body} Update {i} on the case."))
        index = m._index
        assert index.idfs(words) == [_plain_idf(m, w) for w in words]
        assert [index.idf(w) for w in words] == [_plain_idf(m, w) for w in words]
        vec, length = index.vector({"police": 1.0, "whitfield": 1.693, "shot": 2.0})
        assert length == _plain_length(m, {"police": 1.0, "whitfield": 1.693, "shot": 2.0})
        assert vec == {t: w * _plain_idf(m, t) for t, w in {"police": 1.0, "whitfield": 1.693, "shot": 2.0}.items()}
    refreshed = 0
    growth = m._index.settings.norm_refresh_growth
    for doc in m._index.docs.values():  # the corpus grew past the first articles' lengths: looked up again
        stale = len(m._index.docs) > doc.norm_at * growth + 8
        if stale:
            assert m._index.doc_norm(doc) == _plain_length(m, doc.terms)
        refreshed += stale
    assert refreshed > 0  # between refreshes the length is modelled (tests/test_match_norm.py)


def test_only_these_characters_match_an_ascii_letter_case_blind_without_lowering_to_it() -> None:
    # may_appeal lower-cases the text and looks for plain words; re.IGNORECASE also matches these to ASCII
    # letters, so a text holding one takes the regex. A Python whose case tables grow another fails here.
    letters = re.compile(f"[{string.ascii_letters}]", re.IGNORECASE)
    folding = {
        chr(cp)
        for cp in range(128, sys.maxunicode + 1)
        if letters.fullmatch(chr(cp)) and not (len(chr(cp).lower()) == 1 and chr(cp).lower() in string.ascii_lowercase)
    }
    assert folding == set(signals._FOLDS_TO_ASCII)


# One example or more per alternative of the appeal pattern, in the cases texts write them.
APPEALS = {
    r"anyone with (?:any )?information": ["Anyone with information should call", "ANYONE WITH ANY INFORMATION"],
    r"crime ?stoppers": ["call Crime Stoppers", "CrimeStoppers of Houston", "crime \u017ftoppers"],
    r"\btip ?lines?\b": ["the tip line", "Tipline: 555", "its TIP LINES", "the t\u0131p line"],
    r"\btips? (?:can|may) be": ["Tips can be left", "tip may be sent"],
    r"remain anonymous": ["callers may remain anonymous", "REMAIN ANONYMOUS"],
    r"(?:is|are) (?:being )?(?:asked|urged|encouraged) to (?:call|contact)": [
        "Anyone is asked to call",
        "witnesses are being urged to contact",
        "This is encouraged to call",
        "IS ASKED TO CALL",
    ],
    r"\(?\b\d{3}\)?[-. ]\d{3}[-. ]\d{4}\b": [
        "call (713) 222-8477.",
        "at 713.222.8477",
        "713 222 8477",
        "\u0661\u0662\u0663-\u0664\u0665\u0666-\u0667\u0668\u0669\u0660",  # Arabic-Indic digits are \d too
    ],
}


def test_every_appeal_passes_the_cheap_test_and_plain_news_skips_the_regex() -> None:
    assert [part for part, _ in signals._APPEAL_PARTS] == list(APPEALS)  # a new alternative needs examples here
    for part, examples in APPEALS.items():
        for example in examples:
            assert re.search(part, example, re.IGNORECASE), (part, example)
            for line in (example, f"Police said. {example} today", f"x\x00{example}\x00y"):
                assert signals.may_appeal(line), (part, line)
    assert not signals.may_appeal("Police said a man was shot on Delmar Street on Friday; he is in hospital.")
    assert not signals.may_appeal("He was asked to leave\x00at 12:30 on 5-10 June\x00a tip-off")


def test_features_of_an_article_with_and_without_appeals() -> None:
    plain = "Shots were fired on Alder Road overnight. Two men were hurt, police said."
    appeal = "Anyone with information is asked to call Crime Stoppers at 713-222-8477."
    with_appeal = signals.features("Shots fired", f"{plain}\n\n{appeal}", None, None)
    without = signals.features("Shots fired", plain, None, None)
    assert with_appeal.terms == without.terms and with_appeal.names == without.names
    assert with_appeal.sentences > without.sentences  # the appeal is still counted for the stream


def _sentences(name: str) -> list[str]:
    source = dataset(name)
    out: list[str] = []
    with source.open(encoding="utf-8") as fh:
        for line in fh:
            doc = json.loads(line)
            out += text.news_sentences(doc.get("text") or "")
    return out


@pytest.mark.parametrize("name", ["gva_incidents", "ecbplus_dev"])
def test_no_appeal_of_the_dev_data_is_skipped(name: str) -> None:
    sentences = _sentences(name)
    appeals = [s for s in sentences if signals._APPEAL.search(s)]
    assert appeals and all(signals.may_appeal(s) for s in appeals)
    skipped = sum(not signals.may_appeal(s) for s in sentences)
    assert skipped > 0.9 * len(sentences)  # what makes it worth having


def _plain_ages(title: str, sentences: list[str]) -> frozenset[str]:
    return frozenset(a or b for a, b in signals._AGE.findall("\x00".join((title, *sentences))))


def test_ages_skip_the_regex_only_where_it_finds_nothing() -> None:
    for sentence in [
        "A 24-year-old man",
        "a 9 years old girl",
        "the 31 yr-old",
        "two 17 yrs old boys",
        "Marcus Whitfield, 24, died",
        "Ann Ray,\t7, and a 40-year-old",
        "He told police the gold was sold",
        "On June 5, 2011, it rained",
    ]:
        assert signals.ages("Title", [sentence]) == _plain_ages("Title", [sentence])
    assert signals.ages("t", ["Marcus Whitfield, 24, died"]) == {"24"}


@pytest.mark.parametrize("name", ["gva_incidents", "ecbplus_dev"])
def test_ages_of_the_dev_data_are_those_of_the_regex(name: str) -> None:
    sentences = _sentences(name)
    for i in range(0, len(sentences), 12):  # a dozen sentences at a time, as an article gives them
        assert signals.ages("", sentences[i : i + 12]) == _plain_ages("", sentences[i : i + 12])


def test_a_query_within_the_window_of_everything_stored_skips_no_story_it_should_not() -> None:
    """When every stored article is within the query's window the index judges no story's span; the
    candidates and the count of competing stories are those of judging each one."""
    from datetime import UTC, datetime, timedelta

    m = Matcher()
    index, window = m._index, 7 * 86400.0  # the test compares the shortcut with the per-story judgement
    start = datetime(2026, 3, 1, tzinfo=UTC)
    feats = signals.features(STORIES[0][0], STORIES[0][1], None, start + timedelta(hours=60))
    assert feats.when is not None

    def add(i: int, when: datetime, story: str) -> None:
        title, body = STORIES[i % len(STORIES)]
        m.add(story, MatchInput(f"k{i}", title, f"{body} Case {i}.", published=when))

    def same_when_judged(when: float | None) -> tuple[list[int], int]:
        query = {t: w * index.idf(t) for t, w in feats.terms.items()}
        dates, fast = index.dates, index.candidates(query, when, window)
        index.dates = (-math.inf, math.inf)  # nothing is within every window: each story is judged
        judged = index.candidates(query, when, window)
        index.dates = dates
        assert fast == judged
        return fast

    for i in range(50):  # within two days: all within the query's window
        add(i, start + timedelta(hours=i), f"s{i % 7}")
    assert same_when_judged(feats.when)[1] == 7
    for i in range(50, 60):  # a month later: outside it
        add(i, start + timedelta(days=31, hours=i), f"late{i}")
    found, competing = same_when_judged(feats.when)
    assert competing == 7 and not any(index.docs[d].story.startswith("late") for d in found)
    assert same_when_judged(None)[1] == 10  # undated: the late ones sharing its words compete too (51, 54, 57)
    m.remove_story("s3")  # its numbers stay in the postings (cleaned lazily): neither path may count them
    found, competing = same_when_judged(feats.when)
    assert competing == 6 and not any(index.docs[d].story == "s3" for d in found)
