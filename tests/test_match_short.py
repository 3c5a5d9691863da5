"""Short undated texts (a title and a lead, as AllSides' three outlets per event): shared names count less,
the threshold is lower and a missing specific name costs less; dated pairs and full articles are untouched."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from monitor.core.match import Matcher, MatchInput, MatchSettings
from monitor.core.match_score import PAIR_TERMS, PairWeights

# Two outlets' leads on one event: few names each, worded differently.
LEAD_LEFT = MatchInput(
    "l1",
    "Senate passes stopgap bill to avert shutdown",
    "The Senate voted late Friday to fund the government through mid-December, sending the measure to "
    "President Biden hours before a shutdown deadline.",
)
LEAD_RIGHT = MatchInput(
    "r1",
    "Congress punts spending fight with short-term funding deal",
    "Lawmakers approved a temporary funding measure Friday night, averting a government shutdown and "
    "setting up another budget battle with Biden in December.",
)
UNRELATED = MatchInput(
    "u1",
    "Wildfire forces evacuations near Boulder",
    "A fast-moving wildfire driven by strong winds forced thousands of residents to flee their homes.",
)

OFF = PairWeights(short_names=0.0, short=0.0, short_no_specific=0.0)


def _match(weights: PairWeights, article: MatchInput) -> tuple[float, dict[str, float]]:
    m = Matcher(MatchSettings(weights=weights))
    m.add("fund", LEAD_LEFT)
    m.add("fire", UNRELATED)
    res = m.match(article)
    assert res.reasons["best_story"] == "fund", res.reasons
    return res.reasons["score"], res.reasons["ledger"]


def test_short_undated_leads_score_higher_and_the_ledger_says_why() -> None:
    before, _ = _match(OFF, LEAD_RIGHT)
    after, ledger = _match(PairWeights(), LEAD_RIGHT)
    assert after > before + 0.05  # the lower threshold for short texts, and no penalty for no specific name
    assert ledger["short"] > 0 and ledger.get("short_no_specific", 0.0) > 0
    assert sum(ledger.values()) == pytest.approx(after, abs=0.002)


def test_dated_pairs_and_full_articles_are_not_short() -> None:
    day = datetime(2024, 3, 1, tzinfo=UTC)  # the same three texts, dated a day apart
    dated = [replace(a, published=day + timedelta(days=i)) for i, a in enumerate((LEAD_LEFT, UNRELATED, LEAD_RIGHT))]
    for weights in (OFF, PairWeights()):
        m = Matcher(MatchSettings(weights=weights))
        m.add("fund", dated[0])
        m.add("fire", dated[1])
        ledger = m.match(dated[2]).reasons["ledger"]
        assert not ledger.get("short") and not ledger.get("short_names")
    # A pair of texts with 30 names or more each is a pair of full articles: shortness 0.
    names = " ".join(f"Name{chr(65 + i // 26)}{chr(97 + i % 26)}" for i in range(40))
    long_a = MatchInput("la", "Long report one", f"{LEAD_LEFT.text} {names}.")
    long_b = MatchInput("lb", "Long report two", f"{LEAD_RIGHT.text} {names}.")
    m = Matcher(MatchSettings())
    m.add("long", long_a)
    ledger = m.match(long_b).reasons["ledger"]
    assert not ledger.get("short") and not ledger.get("short_names")


def test_short_terms_at_weight_zero_are_the_old_score() -> None:
    """``short_names``, ``short`` and ``short_no_specific`` are the only new terms: off, the score is
    cosine + names - no_specific, as before they existed."""
    score, ledger = _match(OFF, LEAD_RIGHT)
    assert set(ledger) <= {*PAIR_TERMS, "no_specific", "lede"}
    assert score == pytest.approx(ledger["cosine"] + ledger.get("names", 0.0) - OFF.no_specific, abs=0.002)
