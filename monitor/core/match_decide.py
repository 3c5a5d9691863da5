"""The matching decision: join the best candidate story, or start a new one?

Pure (stdlib only). Takes the scored candidate stories, best first, and applies rules that hold up when
many similar stories are live at once (a fixed cosine cutoff does not): a threshold on the combined score,
and below the ``confident`` level a required margin over the runner-up, because two close candidates mean
the evidence does not single out one story. It does not compute scores (``core.match_score``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from monitor.core.match_score import PairScore
from monitor.core.match_types import MatchResult, MatchSettings


@dataclass(frozen=True)
class Candidate:
    story: str
    pair: PairScore  # the best-matching member article
    score: float  # the story's score (``pair.total`` blended with the other members', specific evidence)
    specific: tuple[str, ...] = ()  # the article's names/phrases that no other stored story has
    by_name: bool = False  # offered by a name phrase only it holds, not by the word index (any age)
    ledger: dict[str, float] = field(default_factory=dict)  # each term's part of ``score`` (the best only)
    x: dict[str, float] = field(default_factory=dict)  # the features the ledger weighs (``Matcher.evidence``)


def _explain(best: Candidate | None, runner_up: Candidate | None, n: int) -> dict[str, Any]:
    reasons: dict[str, Any] = {"candidates": n}
    if best is not None:
        p = best.pair
        reasons.update(
            best_story=best.story,
            score=round(best.score, 3),
            best_member=round(p.total, 3),
            cosine=round(p.cosine, 3),
            names=round(p.names, 3),
            shared_names=list(p.shared_names[:10]),
            shared_phrases=list(p.shared_phrases[:10]),
            specific_names=list(best.specific[:10]),
            conflicting_ages=p.age_conflict,
            conflicting_places=p.place_conflict,
            roundup=p.roundup,
            conflicting_years=p.year_conflict,
            rare_shared_names=p.rare_names,
            gap_days=None if p.gap_days is None else round(p.gap_days, 1),
            shared_lede=p.lede,
            recalled_by_name=best.by_name,
            ledger={k: round(v, 4) for k, v in best.ledger.items() if v},
        )
    if runner_up is not None:
        reasons["runner_up"] = runner_up.story
        reasons["margin"] = round(best.score - runner_up.score, 3) if best else None
    return reasons


def decide(ranked: list[Candidate], settings: MatchSettings, competing: int = 0, young: float = 0.0) -> MatchResult:
    """``competing``: how many stories compete for the article (``DocIndex.candidates``; raises the threshold);
    ``young``: the prior's share of the stream's statistics (``MatchSettings.young_threshold``)."""
    best = ranked[0] if ranked else None
    runner_up = ranked[1] if len(ranked) > 1 else None
    dated = best is not None and best.pair.gap_days is not None
    threshold = settings.threshold_for(competing, dated=dated, young=young)
    reasons = {**_explain(best, runner_up, len(ranked)), "threshold": round(threshold, 3), "competing": competing}
    if best is None:
        return MatchResult(None, 0.0, {**reasons, "rule": "no_candidates"})
    score = best.score
    margin = score - runner_up.score if runner_up else score
    if best.pair.lede:
        rule = "lede_contained"
    elif score < threshold:
        rule = "below_threshold"
    elif score < settings.confident and margin < settings.margin:
        rule = "ambiguous"
    else:
        rule = "similar"
    joined = rule in ("lede_contained", "similar")
    return MatchResult(best.story if joined else None, round(score, 3), {**reasons, "rule": rule})
