"""The changed values of a version against a growing story: ``RecentKnown`` (an index slid one sentence at a
time) must give exactly what the list of the story's latest ``MAX_KNOWN`` sentences gives, re-indexed for
every version as ``changes`` used to do (the reference below is that code)."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence

from monitor.core import changes as changemod
from monitor.core.model import Change
from monitor.core.novelty import KnownText


def reference(new_sentences: Sequence[str], known: Sequence[str]) -> tuple[Change, ...]:
    """``changes`` as it was: the latest known sentences indexed again on every call."""
    recent = list(dict.fromkeys(known))[-changemod.MAX_KNOWN :]
    present = set(new_sentences)
    candidates = [k for k in recent if k not in present]
    if not candidates:
        return ()
    contexts = [changemod._context(k) for k in candidates]
    index: dict[str, list[int]] = {}
    for i, ctx in enumerate(contexts):
        for w in ctx:
            index.setdefault(w, []).append(i)
    known_set = set(recent)
    out: list[Change] = []
    used: set[int] = set()
    for s in new_sentences:
        if s in known_set:
            continue
        ctx = changemod._context(s)
        shared: Counter[int] = Counter()
        for w in ctx:
            shared.update(index.get(w, ()))
        best, best_score = None, 0.0
        for i, n in shared.items():
            if i in used or n < changemod._MIN_SHARED:
                continue
            score = n / len(ctx | contexts[i])
            if score > best_score:
                best, best_score = i, score
        if best is None or best_score < changemod.SAME_STATEMENT:
            continue
        values = changemod._value_changes(candidates[best], s)
        if values:
            used.add(best)
            out.append(Change(candidates[best], s, values))
    return tuple(out)


PEOPLE = ["Omar Haddad", "Lina Khalil", "Samir Nasser", "Rania Saleh", "Fadi Mansour", "Huda Aziz"]
PLACES = ["the convoy", "the bridge", "the hospital", "the market", "the school", "the depot", "the camp"]
VERBS = ["reached", "left", "shelled", "closed", "reopened", "searched", "guarded"]


def sentence(rng: random.Random) -> str:
    return (
        f"{rng.choice(PEOPLE)} said {rng.choice(PLACES)} was {rng.choice(VERBS)} near {rng.choice(PLACES)} "
        f"where {rng.randint(2, 40)} people waited."
    )


def test_sliding_window_gives_what_the_list_gives() -> None:
    rng = random.Random(7)
    known = KnownText()
    found = 0
    for version in range(260):  # past MAX_KNOWN (400) distinct sentences: the window slides
        # a few sentences repeated from earlier versions (candidates that are skipped), a few new ones
        earlier = rng.sample(known.sentences, min(len(known.sentences), 2))
        new = [*earlier, *(sentence(rng) for _ in range(3))]
        body = "\n\n".join(new)
        expected = reference(new, known.sentences) if known.sentences else ()
        assert changemod.changes(new, known.recent) == expected
        assert changemod.changes(new, known.sentences) == expected
        found += len(expected)
        known.learn(f"Headline {version}", body)
    assert len(known.sentences) > changemod.MAX_KNOWN
    assert found > 100  # the test compares changes, not only empty answers


def test_a_story_read_back_at_once_slides_like_one_grown_version_by_version() -> None:
    rng = random.Random(3)
    grown = KnownText()
    for _ in range(300):
        grown.add_sentences([sentence(rng) for _ in range(3)])
        grown.recent  # noqa: B018 - brought up to date version by version
    loaded = KnownText()
    loaded.add_sentences(grown.sentences)  # a story read from the database in one go
    for _ in range(20):
        new = [sentence(rng) for _ in range(4)]
        assert changemod.changes(new, loaded.recent) == changemod.changes(new, grown.recent)
        assert changemod.changes(new, grown.recent) == reference(new, grown.sentences)
