"""The story matcher: each signal, the decision, and the contract the pipeline relies on.

All articles here are written for these tests, except the seed file of the repository.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from monitor.core import signals
from monitor.core.match import Matcher, MatchInput, MatchSettings
from monitor.core.match_decide import Candidate, decide
from monitor.core.match_index import IndexSettings
from monitor.core.match_score import PairScore

SEED = Path(__file__).resolve().parents[1] / "seeds" / "000_900818fe0882e21f.txt"
DAY = datetime(2016, 3, 5, 9, 0, tzinfo=UTC)

SHOOTING_A = MatchInput(
    "a1",
    "Man killed in shooting on Delmar Street in Springfield - WXYZ News",
    "SPRINGFIELD — A 24-year-old man was shot and killed early Saturday outside a home on Delmar Street, "
    "Springfield police said.\n\n"
    "Police identified the victim as Marcus Whitfield. Officers found him near the 400 block of Delmar "
    "Street shortly after 2 a.m. with gunshot wounds to the chest.\n\n"
    "Detective Laura Brennan said investigators are looking for a dark sedan seen leaving the area.",
    DAY,
)
SHOOTING_A_FOLLOWUP = MatchInput(
    "a2",
    "Arrest made in killing of Marcus Whitfield | Springfield Courier",
    "Springfield police have arrested a 19-year-old in the Delmar Street shooting that killed Marcus "
    "Whitfield, 24, on Saturday.\n\n"
    "Detective Laura Brennan said the suspect was found after a tip about a dark sedan. Whitfield was "
    "shot outside a home in the 400 block of Delmar Street.\n\n"
    "The suspect is being held at the county jail.",
    DAY + timedelta(days=2),
)
SHOOTING_B = MatchInput(
    "b1",
    "Woman wounded in shooting at Springfield gas station - WXYZ News",
    "SPRINGFIELD — A 41-year-old woman was wounded Saturday evening when someone opened fire at a gas "
    "station on Kenwood Avenue, Springfield police said.\n\n"
    "Police said Tanya Okafor was taken to Mercy Hospital with a wound to her leg. Officers recovered "
    "shell casings near the 1200 block of Kenwood Avenue.\n\n"
    "Sergeant Phil Ramos asked anyone with information to call police.",
    DAY + timedelta(hours=10),
)
STOCKS = MatchInput(
    "m1",
    "Wall Street closes higher as tech shares rally",
    "NEW YORK (Reuters) – U.S. stocks closed higher on Thursday as technology shares rallied and investors "
    "weighed fresh data on inflation.\n\n"
    "The Nasdaq Composite gained 1.2 percent, while the S&P 500 rose 0.8 percent. Treasury yields fell.",
)
SYRIA_OTHER = MatchInput(
    "sy1",
    "Air strikes hit market in Idlib province, monitor says",
    "BEIRUT (Reuters) – Air strikes hit a crowded market in the town of Maarat al-Numan in Syria's Idlib "
    "province on Thursday, a war monitor said.\n\n"
    "The Syrian Observatory for Human Rights said rescue workers were searching the rubble. Rebel groups "
    "blamed Russian jets for the strikes on the northwestern town.",
)


def _names(words: str) -> list[str]:
    return words.split()


CITIES = _names("Dayton Toledo Akron Flint Gary Peoria Joliet Erie Macon Tulsa Fresno Reno Provo Boise Waco")
FIRST = _names("James Maria Luis Keisha Derek Ana Tyrone Rosa Kyle Imani Omar Grace Dante Lena Ray")
LAST = _names("Hollis Vega Dunbar Pruitt Nakamura Sosa Fenwick Abara Lindqvist Castellano Byrd Mott Quinn Reyes")
STREETS = _names("Oak Maple Pine Cedar Elm Walnut Birch Spruce Willow Chestnut Ash Poplar Hickory Laurel Alder")


def background(m: Matcher, n: int = 120) -> None:
    """A stream of other shootings, as a deployed matcher has seen: idf learns that "shot", "police" and
    "Saturday" are common, and that a surname or a street is not."""
    for i in range(n):
        city, street = CITIES[i % 15], STREETS[(i * 7) % 15]
        name = f"{FIRST[(i * 4) % 15]} {LAST[(i * 11) % 14]}"
        text = (
            f"{city.upper()} — A {18 + i % 40}-year-old man was shot and wounded on {street} Street in "
            f"{city}, police said.\n\nPolice identified the victim as {name}. Officers found him in the "
            f"{100 * i} block of {street} Street with a gunshot wound and took him to a local hospital.\n\n"
            "Police asked anyone with information to call detectives."
        )
        when = DAY - timedelta(days=40) + timedelta(hours=8 * i)
        m.add(
            f"bg{i}",
            MatchInput(f"bg{i}", f"Man shot on {street} Street in {city} - News {i % 5}", text, when),
        )


def seed_versions() -> tuple[MatchInput, MatchInput]:
    """The seed's flash (headline + body up to the update promise) and its later long version."""
    if not SEED.exists():
        pytest.skip(f"seed file {SEED} is missing")
    raw = SEED.read_text(encoding="utf-8")
    headline, body = raw.split("\n", 1)
    marker = "Check back for updates on this developing story."
    flash = MatchInput("flash", headline, body[: body.index(marker) + len(marker)])
    long = MatchInput("long", "Syrian army declares full control of Aleppo after evacuation", body)
    return flash, long


# --- signals ---------------------------------------------------------------------------------------


def test_headline_drops_outlet_suffix() -> None:
    assert signals.headline("7 people shot outside a nightclub - WMC Action News 5 - Memphis") == (
        "7 people shot outside a nightclub"
    )
    assert signals.headline("Plain headline") == "Plain headline"


def test_url_normalised_for_comparison() -> None:
    assert signals.normalise_url("https://www.Example.com/a/b/?utm=1#x") == "example.com/a/b"
    assert signals.normalise_url("http://example.com/a/b") == "example.com/a/b"
    assert signals.normalise_url("not a url") is None


def test_url_keeps_the_query_that_names_the_article() -> None:
    # Sites that name the article in the query (story.php?sid=...) must not collapse into one "URL".
    assert signals.normalise_url("http://www.news.example/?nid=148&sid=251") != signals.normalise_url(
        "http://www.news.example/?nid=148&sid=252"
    )
    assert signals.normalise_url("https://v.example/watch?v=abc&utm_source=x&feature=share") == "v.example/watch?v=abc"


def test_name_phrases_are_neighbouring_capitalised_words() -> None:
    found = signals.name_phrases(
        "Man Killed At Party In Hawthorne", ["Police identified Marcus Whitfield on Delmar Street on Monday."]
    )
    assert {"marcus whitfield", "delmar street", "man killed"} <= found
    assert not any("in" in p.split() or "monday" in p.split() for p in found)


def test_ages_from_year_old_and_apposition() -> None:
    assert signals.ages("", ["A 24-year-old man and Marcus Whitfield, 19, were shot."]) == {"24", "19"}


def test_places_from_paragraph_datelines() -> None:
    text = "Updated 5 p.m.\n\nNASHVILLE, Tenn. (WKRN) – A man was shot.\n\nSANTA MONICA — Police said."
    assert signals.places(text) == {"nashville", "santa monica"}
    assert signals.places("HAWTHORNE — A man died.") == {"hawthorne"}
    assert signals.places("A man was shot in Chicago (AP) on Monday.") == frozenset()


def test_place_conflict_needs_datelines_that_neither_text_names() -> None:
    from monitor.core.match_score import place_conflict

    la = frozenset({"los angeles"}), frozenset({"los", "angeles", "santa", "monica"})
    assert not place_conflict(*la, ("santa monica",), ("santa", "monica"))  # the station's city names the suburb
    assert place_conflict(frozenset({"hawthorne"}), frozenset({"hawthorne"}), ("toledo",), ("toledo",))
    assert not place_conflict(frozenset(), frozenset(), ("toledo",), ("toledo",))


def test_addresses_are_number_and_street() -> None:
    found = signals.addresses(
        "Man shot on Delmar",
        [
            "Police found him in the 1200 block of South Kedzie Avenue.",
            "A second man was shot at 1304 Franklin Avenue, and later near the 1200 block of Kedzie.",
            "Officers closed Delmar Street.",  # a street without a number is no address
        ],
    )
    assert found == frozenset({"1200 kedzie", "1304 franklin"})


def test_addresses_agree_conflict_or_say_nothing() -> None:
    from monitor.core.match_score import address_agreement

    assert address_agreement(frozenset({"1200 kedzie"}), ("1200 kedzie", "5 main")) == 1
    assert address_agreement(frozenset({"1200 kedzie"}), ("400 delmar",)) == -1
    assert address_agreement(frozenset({"1200 kedzie"}), ("1300 kedzie",)) == 0  # one street, two numbers
    assert address_agreement(frozenset(), ("400 delmar",)) == 0


def test_naive_datetime_is_utc() -> None:
    naive = datetime(2020, 1, 1, 12)
    aware = datetime(2020, 1, 1, 13, tzinfo=timezone(timedelta(hours=1)))
    assert signals.timestamp(naive) == signals.timestamp(aware)
    assert signals.timestamp(None) is None


def test_names_are_capitalised_words_and_numbers_not_weekdays() -> None:
    found = signals.names("Shooting on Delmar Street", ["Police said Marcus Whitfield, 24, died Saturday."])
    assert {"delmar", "street", "marcus", "whitfield", "24", "police"} <= found
    assert "saturday" not in found and "said" not in found


def test_a_word_the_text_also_writes_in_lower_case_is_not_a_name() -> None:
    """Two landslides on two continents shared "landslide" as a name through one headline's first word."""
    found = signals.names(
        "Landslide buries homes in Turkey's Rize",
        ["A landslide triggered by heavy rain buried three houses in Rize.", "Rescue teams worked all night."],
    )
    assert {"turkey's", "rize"} <= found
    assert "landslide" not in found


def test_short_sentences_are_not_containment_evidence() -> None:
    assert signals.sentence_hash("Police said.") is None
    assert signals.sentence_hash("The victim was taken to a local hospital by ambulance.") == hash(
        "the victim was taken to a local hospital by ambulance"
    )


def test_headline_words_weigh_more_than_body_words() -> None:
    terms = signals.content_terms("Aleppo evacuation", ["The evacuation of Aleppo continued."])
    assert terms["aleppo"] == 3.0 and terms["continued"] == 1.0
    assert "the" not in terms


# --- the decision ----------------------------------------------------------------------------------


def pair(total: float, lede: bool = False) -> PairScore:
    return PairScore(total, total, 0.0, 0, (), (), False, lede, None)


def test_decide_joins_a_clear_winner() -> None:
    res = decide([Candidate("s1", pair(0.45), 0.45), Candidate("s2", pair(0.2), 0.2)], MatchSettings())
    assert res.story == "s1"
    assert res.reasons["rule"] == "similar" and res.reasons["margin"] == 0.25


def test_decide_refuses_two_close_candidates_below_confident() -> None:
    res = decide([Candidate("s1", pair(0.42), 0.42), Candidate("s2", pair(0.40), 0.40)], MatchSettings())
    assert res.story is None and res.reasons["rule"] == "ambiguous"


def test_decide_confident_score_ignores_margin() -> None:
    res = decide([Candidate("s1", pair(0.8), 0.8), Candidate("s2", pair(0.79), 0.79)], MatchSettings())
    assert res.story == "s1"


def test_decide_below_threshold_is_new_story() -> None:
    res = decide([Candidate("s1", pair(0.1), 0.1)], MatchSettings())
    assert res.story is None and res.reasons["rule"] == "below_threshold"
    assert decide([], MatchSettings()).reasons["rule"] == "no_candidates"


def test_decide_lede_containment_wins_over_threshold() -> None:
    res = decide([Candidate("s1", pair(0.9, lede=True), 0.9)], MatchSettings(threshold=0.95))
    assert res.story == "s1" and res.reasons["rule"] == "lede_contained"


# --- the matcher -----------------------------------------------------------------------------------


def test_seed_long_version_matches_flash_and_back() -> None:
    flash, long = seed_versions()
    m = Matcher(MatchSettings())
    background(m)
    m.add("aleppo", flash)
    res = m.match(long)
    assert res.story == "aleppo" and res.reasons["shared_lede"]
    m2 = Matcher(MatchSettings())
    background(m2)
    m2.add("aleppo", long)
    assert m2.match(flash).story == "aleppo"


def test_seed_story_rejects_unrelated_articles() -> None:
    flash, long = seed_versions()
    m = Matcher(MatchSettings())
    background(m)
    m.add("aleppo", flash)
    m.add("aleppo", long)
    assert m.match(STOCKS).story is None
    res = m.match(SYRIA_OTHER)
    assert res.story is None, res.reasons


def test_follow_up_with_same_names_joins_story() -> None:
    m = Matcher(MatchSettings())
    background(m)
    m.add("a", SHOOTING_A)
    res = m.match(SHOOTING_A_FOLLOWUP)
    assert res.story == "a"
    assert {"whitfield", "delmar", "brennan"} <= set(res.reasons["shared_names"])


def test_threshold_rises_with_the_stories_that_compete() -> None:
    settings = MatchSettings()
    sparse = settings.threshold_for(5)
    assert sparse == settings.threshold == settings.threshold_for(int(settings.density_reference))
    assert sparse < settings.threshold_for(100) < settings.threshold_for(1000)
    # x8 denser: one fixed step (log), not eight times the bar
    step = settings.threshold_for(800) - settings.threshold_for(100)
    assert step == pytest.approx(settings.density_slope * math.log(8))
    assert settings.threshold_for(5, dated=False) == settings.undated_threshold > sparse


def test_decide_raises_the_bar_in_a_crowded_window() -> None:
    dated = PairScore(0.25, 0.25, 0.0, 0, (), (), 0, False, False, 1.0)
    assert decide([Candidate("s1", dated, 0.25)], MatchSettings(), competing=10).story == "s1"
    crowded = decide([Candidate("s1", dated, 0.25)], MatchSettings(), competing=400)
    assert crowded.story is None and crowded.reasons["rule"] == "below_threshold"
    assert crowded.reasons["competing"] == 400 and crowded.reasons["threshold"] > 0.25


def test_a_roundup_of_many_addresses_does_not_chain_incidents() -> None:
    """A weekend roundup lists one address per shooting. Filed with one of them, it must not pull the others'
    own reports into that story (on GVA x8 one such chain held 20 articles of different shootings)."""
    m = Matcher(MatchSettings())
    background(m)
    m.add("a", SHOOTING_A)
    streets = ["Kedzie", "Pulaski", "Cicero", "Halsted", "Ashland"]
    roundup = MatchInput(
        "r1",
        "6 shot in Springfield weekend violence",
        "SPRINGFIELD — Six people were shot over the weekend in Springfield, police said.\n\n"
        "Marcus Whitfield, 24, was shot and killed early Saturday near the 400 block of Delmar Street.\n\n"
        + " ".join(f"A man was shot in the {100 * (i + 3)} block of {st} Avenue." for i, st in enumerate(streets)),
        DAY + timedelta(days=1),
    )
    assert m.match(roundup).reasons["roundup"]
    m.add("a", roundup)
    kedzie = MatchInput(
        "k1",
        "Springfield man, 31, recovering after being shot outside his home",
        "SPRINGFIELD — Darnell Okafor, 31, was shot in the leg outside his home in the 300 block of Kedzie "
        "Avenue on Saturday. His sister said he had just come back from work when a car pulled up.",
        DAY + timedelta(days=1, hours=3),
    )
    res = m.match(kedzie)
    assert res.story is None, res.reasons


def test_two_shootings_same_city_same_day_stay_apart() -> None:
    m = Matcher(MatchSettings())
    background(m)
    m.add("a", SHOOTING_A)
    assert m.match(SHOOTING_B).story is None
    m.add("b", SHOOTING_B)
    assert m.match(SHOOTING_A_FOLLOWUP).story == "a"


def test_specific_names_belong_to_one_story_and_ages_conflict() -> None:
    m = Matcher(MatchSettings())
    background(m)
    m.add("a", SHOOTING_A)
    m.add("b", SHOOTING_B)
    res = m.match(SHOOTING_A_FOLLOWUP)
    assert res.story == "a"
    assert {"marcus whitfield", "whitfield"} <= set(res.reasons["specific_names"])
    assert "delmar street" in res.reasons["shared_phrases"] and not res.reasons["conflicting_ages"]
    other = MatchInput("b2", SHOOTING_B.title, SHOOTING_B.text.replace("41-year-old", "63-year-old"), DAY)
    assert m.match(other).reasons["conflicting_ages"]


def test_same_url_is_the_same_story_even_when_rewritten() -> None:
    m = Matcher(MatchSettings())
    m.add("a", MatchInput("x", SHOOTING_A.title, SHOOTING_A.text, DAY, "https://news.example/a?ref=rss"))
    res = m.match(MatchInput("y", "Completely new headline", "Other words.", None, "http://news.example/a/"))
    assert res.story == "a" and res.reasons["rule"] == "same_url"


def test_time_window_applies_only_to_dated_articles() -> None:
    m = Matcher(MatchSettings(window_days=7))
    background(m)
    m.add("a", SHOOTING_A)
    late = MatchInput("late", SHOOTING_A_FOLLOWUP.title, SHOOTING_A_FOLLOWUP.text, DAY + timedelta(days=60))
    # Outside the window only the story's own name phrases can bring it back (recall by name)...
    assert m.match(late).reasons["recalled_by_name"]
    # ...without them (the same words, no names of this story), the window keeps it out.
    anonymous = late.text.replace("Marcus Whitfield", "the victim").replace("Laura Brennan", "a detective")
    assert m.match(MatchInput("late2", "Arrest made in killing", anonymous, late.published)).story is None
    undated = MatchInput("u", SHOOTING_A_FOLLOWUP.title, SHOOTING_A_FOLLOWUP.text, None)
    assert m.match(undated).story == "a"


def test_naive_and_aware_datetimes_mix() -> None:
    m = Matcher(MatchSettings())
    background(m)
    m.add("a", SHOOTING_A)
    naive = MatchInput("n", SHOOTING_A_FOLLOWUP.title, SHOOTING_A_FOLLOWUP.text, datetime(2016, 3, 6))
    assert m.match(naive).story == "a"


def test_match_does_not_mutate_and_remove_story_forgets() -> None:
    m = Matcher(MatchSettings())
    background(m)
    m.add("a", SHOOTING_A)
    m.add("b", SHOOTING_B)
    first = m.match(SHOOTING_A_FOLLOWUP)
    assert m.match(SHOOTING_A_FOLLOWUP) == first and len(m) == 122
    m.remove_story("a")
    assert len(m) == 121
    assert m.match(SHOOTING_A_FOLLOWUP).story is None
    m.remove_story("never-added")


def test_add_after_match_stores_the_added_article_not_the_matched_one() -> None:
    # ``add`` reuses the features of the article ``match`` just saw (speed), and only of that article.
    m = Matcher(MatchSettings())
    background(m)
    m.match(SHOOTING_A)
    m.add("b", SHOOTING_B)
    assert m.match(SHOOTING_B).story == "b"
    m.match(SHOOTING_A)
    m.add("a", SHOOTING_A)
    assert m.match(SHOOTING_A_FOLLOWUP).story == "a"


def test_reasons_are_json_and_explain() -> None:
    m = Matcher(MatchSettings())
    background(m)
    m.add("a", SHOOTING_A)
    m.add("b", SHOOTING_B)
    reasons = m.match(SHOOTING_A_FOLLOWUP).reasons
    json.dumps(reasons)
    assert reasons["best_story"] == "a" and reasons["candidates"] >= 2 and reasons["margin"] > 0
    assert {"score", "cosine", "names", "margin", "rule", "gap_days"} <= set(reasons)


# --- site chrome and long-range recall by name ---------------------------------------------------------

CHROME = "Get Breaking News First and receive the top headlines in your inbox each morning."


def test_sentence_in_three_stories_is_chrome_and_left_out() -> None:
    m = Matcher(MatchSettings())
    for i, city in enumerate(("Dayton", "Toledo", "Akron")):
        m.add(f"s{i}", MatchInput(f"s{i}", f"Fire in {city}", f"A fire burned a warehouse in {city}.\n\n{CHROME}"))
    index = m._index  # the signal itself: a sentence three stories share is counted as repeated
    key = signals.sentence_hash(CHROME)
    assert key is not None and index.is_repeated(key)
    plain = signals.features("Flood", f"A river flooded Gary.\n\n{CHROME}", None, None)
    filtered = signals.features("Flood", f"A river flooded Gary.\n\n{CHROME}", None, None, index.is_repeated)
    assert "headlines" in plain.terms and "headlines" not in filtered.terms
    assert "breaking" not in filtered.names and key in filtered.sentences  # still counted for the stream
    m.remove_story("s2")
    assert not index.is_repeated(key)


def test_one_story_repeating_its_own_sentence_is_not_chrome() -> None:
    m = Matcher(MatchSettings())
    for i in range(4):  # four articles of one story, and a second story alternating with it
        m.add("wire", MatchInput(f"w{i}", "Quake", f"{CHROME}\n\nA quake shook the coast, update {i}."))
        m.add("other", MatchInput(f"o{i}", "Storm", f"{CHROME}\n\nA storm hit the coast, update {i}."))
    key = signals.sentence_hash(CHROME)
    assert key is not None and not m._index.is_repeated(key)


def _victim_story(when: datetime) -> MatchInput:
    return MatchInput(
        "v1",
        "Woman killed in Fenwick Park shooting",
        "Police said Rosalind Tarkington, 31, was shot near Fenwick Park on Quillfeather Lane. Her brother "
        "Desmond Tarkington said she was a nurse at Ormsby General.",
        when,
    )


def test_story_beyond_the_window_is_recalled_by_its_name_phrases() -> None:
    m = Matcher(MatchSettings())
    background(m)
    m.add("victim", _victim_story(DAY - timedelta(days=150)))
    trial = MatchInput(
        "v2",
        "Man sentenced for killing nurse",
        "A man was sentenced Monday for the killing of Rosalind Tarkington near Fenwick Park on Quillfeather "
        "Lane. Desmond Tarkington read a statement in court.",
        DAY,
    )
    res = m.match(trial)
    assert res.story == "victim" and res.reasons["recalled_by_name"], res.reasons
    one_phrase = MatchInput("v3", "Park cleanup", "Volunteers cleaned Fenwick Park on Saturday.", DAY)
    assert m.match(one_phrase).story is None  # one shared place is not enough months later


# --- cold start, boilerplate, undated events -------------------------------------------------------


def test_a_fresh_matcher_weighs_words_by_the_background_prior() -> None:
    """Before its first article the stream's idf says nothing; the prior says "police" is common and a
    surname is not. Without it (prior_docs 0) the two weigh the same."""
    index = Matcher(MatchSettings())._index
    assert index.idf("police") < index.idf("whitfield") - 2.0
    assert index.background("police department") > 10 > index.background("marcus whitfield")
    assert index.background("sheriff's") == index.background("sheriff")
    bare = Matcher(MatchSettings(index=replace(IndexSettings(), prior_docs=0.0)))._index
    assert bare.idf("police") == bare.idf("whitfield")


def test_first_poll_of_different_shootings_stays_apart_and_a_follow_up_joins() -> None:
    """A fresh install's first poll: two shootings in one city share "police", "shot", "Springfield", but
    not a name; the victim's follow-up two days later joins its story."""
    m = Matcher(MatchSettings())
    assert m.match(SHOOTING_A).story is None
    m.add("a", SHOOTING_A)
    res = m.match(SHOOTING_B)
    assert res.story is None, res.reasons
    m.add("b", SHOOTING_B)
    res = m.match(SHOOTING_A_FOLLOWUP)
    assert res.story == "a", res.reasons
    assert "marcus whitfield" in res.reasons["specific_names"]


APPEAL = "Anyone with information is asked to call Detective Hal Brixton at 555-201-3344 or Crime Stoppers."


def test_appeals_for_information_carry_nothing_from_the_first_article() -> None:
    feats = signals.features("Shots fired", f"Shots were fired on Alder Road overnight.\n\n{APPEAL}", None, None)
    assert "brixton" not in feats.names and "stoppers" not in feats.terms
    assert signals.sentence_hash(APPEAL) in feats.sentences  # still counted for the stream


def test_a_sentence_an_outlet_repeats_in_two_of_its_stories_is_its_boilerplate() -> None:
    footer = "The Ravensworth County Sheriff's Office media unit publishes releases every weekday morning."
    m = Matcher(MatchSettings())
    first = MatchInput("r1", "Burglary on Elm", f"Deputies investigate a burglary on Elm.\n\n{footer}", source="rcso")
    m.add("s1", first)
    key = signals.sentence_hash(footer)
    assert key is not None and not m._index.is_repeated(key, "rcso")
    m.add("s2", MatchInput("r2", "Crash on Oak", f"A truck crashed on Oak.\n\n{footer}", source="rcso"))
    assert m._index.is_repeated(key, "rcso")  # two of this outlet's stories: its footer
    assert not m._index.is_repeated(key, "other-outlet") and not m._index.is_repeated(key)
    feats = m._features(MatchInput("r3", "Fire", f"A barn burned.\n\n{footer}", source="rcso"))
    assert "ravensworth" not in feats.names
    m.remove_story("s2")
    assert not m._index.is_repeated(key, "rcso")


def test_undated_reports_of_one_kind_in_different_years_count_against() -> None:
    """Two undated reports of one kind of event (a player put on injured reserve) in different seasons: the
    texts' latest years disagree, which costs ``year_conflict`` (ECB+ dev link F1 0.799 -> 0.838)."""
    older = MatchInput(
        "ir1",
        "Saints place Pierre Thomas on injured reserve",
        "The New Orleans Saints placed running back Pierre Thomas on injured reserve on January 5, 2011 "
        "with an ankle injury. Coach Sean Payton said the team would sign a running back.",
    )
    newer = MatchInput(
        "ir2",
        "Pierre Thomas out for the season",
        "Pierre Thomas will miss the rest of the season: the Saints moved him to injured reserve on "
        "December 28, 2013 after he hurt his chest against Carolina. Sean Payton did not name a replacement.",
    )
    assert signals.latest_year(older.title, [older.text]) == 2011
    m = Matcher(MatchSettings())
    m.add("old", older)
    res = m.match(newer)
    same_year = m.match(MatchInput("ir3", newer.title, newer.text.replace("2013", "2011")))
    assert res.reasons["conflicting_years"] and not same_year.reasons["conflicting_years"]
    assert res.score <= same_year.score - MatchSettings().weights.year_conflict


def test_reasons_carry_a_ledger_that_sums_to_the_score() -> None:
    """Each term's contribution (pair terms averaged over the story's members, story terms, lede lift)."""
    m = Matcher(MatchSettings())
    background(m, 30)
    m.add("a", SHOOTING_A)
    m.add("b", SHOOTING_B)
    for article in (SHOOTING_A_FOLLOWUP, STOCKS, replace(SHOOTING_A_FOLLOWUP, published=None)):
        res = m.match(article)
        ledger = res.reasons["ledger"]
        assert sum(ledger.values()) == pytest.approx(res.reasons["score"], abs=0.002), res.reasons
    res = m.match(SHOOTING_A_FOLLOWUP)
    assert {"cosine", "names", "specific"} <= res.reasons["ledger"].keys()
    assert res.reasons["ledger"]["age"] < 0  # two days after the story
