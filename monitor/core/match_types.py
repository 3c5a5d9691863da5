"""The values of the matcher's contract: its settings, its input and its answer (issue 3).

Frozen dataclasses only; ``core.match`` re-exports them, callers import them from there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from monitor.core.match_index import IndexSettings
from monitor.core.match_score import PairWeights


@dataclass(frozen=True)
class MatchSettings:
    """Matching knobs. The defaults are the tuned values (docs/matching.md); all have defaults."""

    window_days: float = 30.0  # updates come within days, follow-ups (arrests, trials) within weeks
    threshold: float = 0.30  # combined score needed to join a story
    margin: float = 0.06  # below ``confident``, the best story must beat the runner-up by this much
    confident: float = 0.60  # at or above this combined score, the margin rule does not apply
    linkage: float = 1.0  # 0: a story is as close as its closest member; 1: as its average member
    weights: PairWeights = field(default_factory=PairWeights)
    index: IndexSettings = field(default_factory=IndexSettings)


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
