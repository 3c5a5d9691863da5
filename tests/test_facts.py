"""Facts a reader would keep: names that are people, places and organisations; numbers with
their noun or unit; values that changed between versions."""

from __future__ import annotations

import pytest

from monitor.core.changes import changes, removed
from monitor.core.facts import extract_names, extract_numbers


@pytest.mark.parametrize(
    ("sentence", "names"),
    [
        ("U.N. Special Envoy Staffan de Mistura said the talks failed.", ["U.N. Special Envoy Staffan de Mistura"]),
        ("“We will not leave,” said Ahmad al-Dbis in Aleppo.", ["Ahmad al-Dbis", "Aleppo"]),
        ("Police said the man was shot.", []),  # a sentence's first word alone is no name
        # a possessive ends a name
        (
            "Critics of Britain's Conservative Party met NASA's Goddard team.",
            ["Britain", "Conservative Party", "NASA", "Goddard"],
        ),
        # interface words, handles and domain fragments are no names
        ("Follow CBSDFW.COM: Facebook | Twitter", []),
        ("Close Get email notifications on Joel Currier daily!", ["Joel Currier"]),
        ("Follow her on Twitter @AmyKup or on Facebook.", []),
        ("I'm not leaving, said Maria Lopez.", ["Maria Lopez"]),
        # Title Case headlines and SHOUTED lines carry no names
        ("11 Fascinating Facts About Our Milky Way Galaxy", []),
        ("WILL SOMEONE STAND UP TO THE ESTABLISHMENT?", []),
        # units after numbers, and glued junk, are no names
        ("It has 16 GB of memory and a 2.3 GHz Intel Core chip.", ["Intel Core"]),
        ("The code was CX2Ptc7YN and JFhRj in the link.", []),
        ("Drivers were told to use Route 9 instead.", ["Route 9"]),
        ("そのKindleデスクトップアプリKindle for PCに関する話。", ["Kindle"]),  # "PC" is an interface word
    ],
)
def test_names(sentence: str, names: list[str]) -> None:
    assert extract_names(sentence) == list(dict.fromkeys(names))


@pytest.mark.parametrize(
    ("sentence", "numbers"),
    [
        ("At least 34,000 people fled, and 35% of homes were damaged.", ["34,000 people", "35%"]),
        ("The quake killed 6, left 6 injured and 12 were hurt.", ["6 injured", "12 were hurt"]),
        ("The city will spend $2 million after a 4.5 magnitude quake.", ["$2 million", "4.5 magnitude"]),
        ("A 25-year-old man was arrested.", ["25-year-old man"]),
        # dates and times are not counts; numbers in names are not counts
        ("It happened at 4:25 p.m. on Nov. 19, 2019, near Interstate 95.", []),
        ("Channel 5 obtained the video on March 3.", []),
        ("Two people died and three others were wounded.", ["two people", "three others"]),
    ],
)
def test_numbers_carry_their_noun(sentence: str, numbers: list[str]) -> None:
    assert extract_numbers(sentence) == numbers


def test_changes_pair_restated_facts_and_removed_leaves_replaced_sentences_out() -> None:
    known = [
        "At least 34,000 people were evacuated from the city, officials said.",
        "Two people died in the fire.",
        "The suspect, John Smyth, 34, was arrested Friday.",
        "The mayor will speak at 5 p.m.",
        "Rescue teams from three provinces arrived on Thursday.",
    ]
    new = [
        "At least 37,000 people were evacuated from the city, officials said.",
        "Three people died in the fire.",
        "The suspect, John Smith, 34, was arrested Friday.",
        "Rescue teams from three provinces arrived on Thursday.",
        "A second fire broke out in the port, killing 4 dockworkers.",
    ]
    found = changes(new, known)
    assert [(c.old, c.new, c.values) for c in found] == [
        (known[0], new[0], (("34,000 people", "37,000 people"),)),
        (known[1], new[1], (("two people", "three people"),)),
        (known[2], new[2], (("John Smyth", "John Smith"),)),
    ]
    assert removed(known, new, found) == ("The mayor will speak at 5 p.m.",)
    # a light rewording is neither a change nor a removal
    before, after = "Police said two men were shot late Friday.", "Police said two men were shot late on Friday."
    assert changes([after], [before]) == ()
    assert removed([before], [after]) == ()
