"""The values of the matcher's contract: its settings, its input and its answer.

Frozen dataclasses only; ``core.match`` re-exports them, callers import them from there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from monitor.core.match_index import IndexSettings
from monitor.core.match_score import PAIR_TERMS, STORY_TERMS, PairWeights


@dataclass(frozen=True)
class MatchSettings:
    """Matching knobs. The defaults are the tuned values (docs/matching.md); all have defaults."""

    window_days: float = 30.0  # updates come within days, follow-ups (arrests, trials) within weeks
    # Combined score needed to join a story: ``threshold`` while at most ``density_reference`` stories compete
    # for the article (in its window, sharing its informative words), plus ``density_slope`` per e-fold
    # beyond: the prior odds of any one story fall as 1/n, so the evidence needed grows with log n (a dense
    # week of same-city shootings; an undated stream where every story competes).
    threshold: float = 0.18
    density_reference: float = 18.0
    density_slope: float = 0.07
    # An undated article (or story) has no window: nothing says the two are even from the same weeks, the
    # evidence a dated candidate brings by being in the window. Its floor is this higher threshold (0.27 since
    # undated pairs lost the rare-name bonus and gained the year conflict: ECB+ dev link F1 0.826 at 0.30,
    # 0.845 / 0.853 / 0.843 at 0.26 / 0.27 / 0.28; allsides blocks 0.679-0.681 throughout).
    undated_threshold: float = 0.27
    # ``density_slope`` for an undated article or story: there every story in the stream competes, whatever
    # its weeks, and a fitted model finds the two slopes apart (``news-monitor fit``).
    undated_density_slope: float = 0.09
    # A young stream knows its names only from the prior (``IndexSettings.background_fade``): it cannot yet
    # tell a word of its topic ("detectives", "coroner") from a name, so it asks for this much more evidence,
    # fading as its own counts take over (``DocIndex.background_scale``: half at 50 articles). GVA dev first
    # polls: 18.7 stories of 20 without it, the wrong joins scored 0.20-0.30, 90% of right follow-ups > 0.40.
    young_threshold: float = 0.15
    margin: float = 0.06  # below ``confident``, the best story must beat the runner-up by this much
    confident: float = 0.60  # at or above this combined score, the margin rule does not apply
    linkage: float = 1.0  # 0: a story is as close as its closest member; 1: as its average member
    linkage_members: int = 12  # the average is over the story's most recent members
    rescored: int = 5  # the leading stories re-scored by linkage (cost bound)
    weights: PairWeights = field(default_factory=PairWeights)
    index: IndexSettings = field(default_factory=IndexSettings)

    def threshold_for(self, competing: int, *, dated: bool = True, young: float = 0.0) -> float:
        """The join threshold when ``competing`` stories compete (see ``threshold``); ``dated``: the article
        and the story both have dates; ``young``: the prior's share of the statistics (1 for a new matcher)."""
        excess = math.log(competing / self.density_reference) if competing > self.density_reference else 0.0
        slope = self.density_slope if dated else self.undated_density_slope
        threshold = self.threshold + slope * excess + self.young_threshold * young
        return threshold if dated else max(threshold, self.undated_threshold)


@dataclass(frozen=True)
class MatchInput:
    key: str
    title: str
    text: str
    published: datetime | None = None
    url: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class MatchResult:
    story: str | None  # None: a new story
    score: float
    reasons: dict[str, Any] = field(default_factory=dict)


# The numbers of the decision a weights file may set: the term weights (``PairWeights``) and what the
# threshold is made of. Everything else keeps its default (the features' own parameters, the index).
FITTED_WEIGHTS = (*PAIR_TERMS, *STORY_TERMS)
FITTED_SETTINGS = ("threshold", "density_slope", "young_threshold", "undated_threshold", "undated_density_slope")


def settings_to_json(settings: MatchSettings) -> dict[str, Any]:
    """The fitted part of ``settings`` as a weights file holds it (``settings_from_json`` reads it back)."""
    return {
        "weights": {k: getattr(settings.weights, k) for k in FITTED_WEIGHTS},
        **{k: getattr(settings, k) for k in FITTED_SETTINGS},
    }


def settings_from_json(obj: Any, base: MatchSettings | None = None) -> MatchSettings:
    """``base`` (default settings) with the numbers of a weights file; ValueError names a wrong key."""
    base = base or MatchSettings()
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
    known = {"weights", "fitted", *FITTED_SETTINGS}
    unknown = sorted(set(obj) - known)
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r} (known: {', '.join(sorted(known))})")
    raw_weights = obj.get("weights", {})
    if not isinstance(raw_weights, dict):
        raise ValueError("weights: expected a JSON object")
    unknown = sorted(set(raw_weights) - set(FITTED_WEIGHTS))
    if unknown:
        raise ValueError(f"weights.{unknown[0]}: unknown term (known: {', '.join(FITTED_WEIGHTS)})")
    numbers = {
        **{f"weights.{k}": v for k, v in raw_weights.items()},
        **{k: obj[k] for k in FITTED_SETTINGS if k in obj},
    }
    for key, value in numbers.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ValueError(f"{key}: expected a number, got {value!r}")
    fitted: dict[str, Any] = {k: float(v) for k, v in raw_weights.items()}
    weights = replace(base.weights, **fitted)
    top = {k: float(obj.get(k, getattr(base, k))) for k in FITTED_SETTINGS}
    return replace(
        base,
        weights=weights,
        threshold=top["threshold"],
        density_slope=top["density_slope"],
        young_threshold=top["young_threshold"],
        undated_threshold=top["undated_threshold"],
        undated_density_slope=top["undated_density_slope"],
    )
