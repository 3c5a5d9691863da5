"""How much each word of an article weighs: sublinear counts and vector lengths (pure, stdlib only).

Shared by the match index (stored articles) and scoring (queries), so both weigh a word alike.
"""

from __future__ import annotations

import math
from operator import mul

_WEIGHTS: dict[float, float] = {}  # one float object per distinct weight: most are 1.0 (memory)


def vector_length(weights: list[float]) -> float:
    """Euclidean length of a vector (1.0 for none): summed in order, as every length here is."""
    return math.sqrt(sum(map(mul, weights, weights))) or 1.0


_SUBLINEAR: dict[float, float] = {}  # count -> weight: counts repeat (1.0, 2.0, 3.0, ...), logs need not


def sublinear(terms: dict[str, float]) -> dict[str, float]:
    """1 + log(count): the fifth "police" says less than the first."""
    out = {}
    cache = _SUBLINEAR
    for t, c in terms.items():
        w = cache.get(c)
        if w is None:
            raw = round(1.0 + math.log(c) if c >= 1 else c, 3)
            w = _WEIGHTS.setdefault(raw, raw)
            if len(cache) < 4096:
                cache[c] = w
        out[t] = w
    return out
