"""Articles that grow a story version by version (ingest and page growth tests)."""

from __future__ import annotations

import random

from monitor.core.model import Article
from tests.support import SeedStory

FIRST = ["Omar", "Lina", "Samir", "Rania", "Fadi", "Huda", "Karim", "Maya", "Tarek", "Nour", "Ziad", "Dana"]


LAST = ["Haddad", "Khalil", "Nasser", "Saleh", "Mansour", "Aziz", "Hamdan", "Youssef", "Darwish", "Bitar"]


NOUNS = ["convoy", "checkpoint", "hospital", "bridge", "district", "bus", "school", "market", "mosque", "depot",
         "crossing", "clinic", "bakery", "warehouse", "road", "camp", "shelter", "square"]  # fmt: skip


VERBS = ["reached", "left", "passed", "shelled", "closed", "reopened", "guarded", "emptied", "searched"]


def version(seed: SeedStory, i: int) -> Article:
    """The seed article plus three sentences of its own from a small vocabulary and template, so that
    after a few hundred versions every word of them is in hundreds of sentences: the hard case for the
    index (every new sentence looks like a rewrite of many)."""
    rng = random.Random(i)
    own = [
        f"{rng.choice(FIRST)} {rng.choice(LAST)}, who works at the {rng.choice(NOUNS)}, said the "
        f"{rng.choice(NOUNS)} was {rng.choice(VERBS)} at {rng.randint(1, 12)}:{rng.randint(0, 59):02d} near "
        f"the {rng.choice(NOUNS)} where {rng.randint(2, 400)} people waited."
        for _ in range(3)
    ]
    text = seed.full + "\n\n" + "\n\n".join(own)
    return Article(f"outlet-{i}", f"g-{i}", seed.headline, text, url=f"http://outlet{i}.test/aleppo")
