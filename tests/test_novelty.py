"""Novelty: what a version adds, on the seed story and small hand-made cases."""

from __future__ import annotations

from monitor.core.model import Facts, Novelty
from monitor.core.novelty import (
    KnownText,
    compute_novelty,
    extract_names,
    extract_numbers,
    extract_quotes,
    is_material,
)
from tests.support import SeedStory


def test_long_version_adds_the_new_facts_not_the_flash(seed_story: SeedStory) -> None:
    known = KnownText.of([(seed_story.headline, seed_story.flash)])
    n = compute_novelty(known, "Syria retakes Aleppo; U.N. warns on Idlib", seed_story.full)
    added = " ".join(n.added)
    assert "34,000 people" in added and "Staffan de Mistura" in added
    assert "holed up in a small enclave" not in added  # a flash sentence
    assert "Check back" not in added and "REUTERS/Ammar" not in added  # boilerplate, caption
    assert n.repeated == 2
    assert "34,000 people" in n.facts.numbers
    assert any(q.startswith("Many of them have gone to Idlib") for q in n.facts.quotes)
    assert "U.N. Special Envoy Staffan de Mistura" in n.facts.names
    assert "Aleppo" not in n.facts.names  # already known from the flash
    assert n.headline_changed


def test_same_text_again_adds_nothing(seed_story: SeedStory) -> None:
    known = KnownText.of([(seed_story.headline, seed_story.flash), ("Long", seed_story.full)])
    n = compute_novelty(known, "Long", seed_story.full)
    assert n.added == () and not n.facts and not n.headline_changed
    assert not is_material(n)


def test_a_light_rewrite_is_not_new() -> None:
    known = KnownText.of([("T", "Police said two men were shot on Main Street late Friday night.")])
    n = compute_novelty(known, "T", "Police said two men were shot on Main Street late on Friday night.")
    assert n.added == ()


def test_one_new_number_in_a_rewritten_sentence_is_new() -> None:
    known = KnownText.of([("T", "Two people were killed in the crash, police said.")])
    n = compute_novelty(known, "T", "Four people were killed in the crash on Route 9, police said, and 12 were hurt.")
    assert n.added and "12 were hurt" in n.facts.numbers  # the number with what it counts


def test_facts_extraction() -> None:
    s = "\u201cWe will not leave,\u201d said Ahmad al-Dbis, as 1,200 families and 35% of residents fled Aleppo."
    assert extract_quotes(s) == ["We will not leave"]
    assert "Ahmad al-Dbis" in extract_names(s) and "Aleppo" in extract_names(s)
    assert extract_numbers(s) == ["1,200 families", "35%"]
    assert extract_names("Police said the man was shot.") == []  # a sentence-initial word alone is no name


def test_materiality_thresholds() -> None:
    one_sentence = Novelty(("A new sentence.",), Facts(), False, 0)
    one_fact = Novelty((), Facts(numbers=("3 people",)), False, 0)
    headline_only = Novelty((), Facts(), True, 3)
    assert is_material(one_sentence) and is_material(one_fact)
    assert not is_material(headline_only)
    assert not is_material(one_sentence, min_new_sentences=2, min_new_facts=1)
    assert is_material(one_fact, min_new_sentences=2, min_new_facts=1)
    assert not is_material(one_fact, min_new_sentences=2, min_new_facts=0)


def test_a_changed_number_in_the_same_sentence_is_the_news() -> None:
    known = KnownText.of([("Quake", "At least 34 people were killed in the earthquake, officials said.")])
    n = compute_novelty(known, "Quake", "At least 52 people were killed in the earthquake, officials said.")
    assert n.added == ("At least 52 people were killed in the earthquake, officials said.",)
    assert n.facts.numbers == ("52 people",)
    assert is_material(n)
    same = compute_novelty(known, "Quake", "At least 34 people were killed in the quake, officials said.")
    assert same.added == ()  # the same number in other words is still a rewrite
