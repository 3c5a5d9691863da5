"""``fit --replay N``: the regression's settings tuned on whole replays of the labelled files.

The logistic regression (``service.fit``) judges each candidate row on its own. Some terms show their worth
only over a whole stream: one wrong join makes a story that later articles of the other event join too, and
the chain costs far more than the one row (ECB+: a year conflict is what keeps two earthquakes of one topic
apart; GVA replayed x8: the density slope). A row-by-row log loss leaves those terms near 0, so the fitted
settings missed floors the hand-set ones met (docs/matching.md, "Third pass").

This stage replays every labelled file through the matcher with the settings and moves one number of the
decision at a time (a coordinate search: up, then down, by a step that doubles while it helps and halves
once no move does; plus the threshold and the density slope moved together, ``_PAIRED``), keeping a move
when the replays' **objective** rises: the mean link F1 of the files' replays (one voice per file and time
factor: a file replayed in blocks counts the blocks' mean; first polls are scored as links too,
``poll_links``), less twice the shortfall of every dated replay's link precision under ``min_precision`` (a
wrong join hides a new story's alert, so precision may be made a floor) and of any replay's F1 under a
``floors`` entry (the floors the tests hold: without them the search trades one file's F1 for another's).
Every candidate is judged on the whole stream, so the chains count. Deterministic: the same
files and start give the same settings; the replays of one evaluation run in ``jobs`` processes.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monitor.core.match_types import (
    FITTED_SETTINGS,
    FITTED_WEIGHTS,
    MatchSettings,
    settings_from_json,
    settings_to_json,
)
from monitor.errors import MonitorError
from monitor.service.backtest import Record, Scores, links, read_records, run_backtest
from monitor.service.backtest_polls import first_polls, replay_poll

# The score's scale: every other weight is relative to the cosine's (``fit.to_settings``), so it stays 1.
_FIXED = {"cosine"}
# Thresholds move by an absolute step; a weight by a quarter of itself, at least this much.
_THRESHOLD_STEP, _WEIGHT_STEP, _SMALLEST_STEP = 0.02, 0.05, 0.005
_PENALTY = 2.0


@dataclass(frozen=True)
class Replay:
    """One replay of a labelled file: the whole stream (dates squeezed ``factor`` times), one block of
    ``size`` lines from ``start`` (an undated pool too big to be one user's stream), or ``polls`` first
    polls of a fresh install (``backtest_polls.cold_start``)."""

    path: Path
    factor: float = 1.0
    start: int = 0
    size: int = 0
    polls: int = 0

    @property
    def group(self) -> str:
        """Replays that speak with one voice in the objective (the blocks of one file)."""
        kind = f"{self.polls} first polls" if self.polls else f"x{self.factor:g}"
        return f"{self.path.parent.name}/{self.path.name} {kind}"


@dataclass(frozen=True)
class ReplayScore:
    replay: Replay
    precision: float
    recall: float
    f1: float
    dated: bool


@dataclass
class TuneReport:
    objective_before: float
    objective_after: float
    evaluations: int
    moves: list[str] = field(default_factory=list)
    scores: list[ReplayScore] = field(default_factory=list)
    min_precision: float = 0.0  # what the objective held the replays to, recorded with the numbers
    floors: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        groups = _grouped(self.scores)
        return {
            "objective_before": round(self.objective_before, 4),
            "objective_after": round(self.objective_after, 4),
            "evaluations": self.evaluations,
            "min_precision": self.min_precision,
            "floors": self.floors,
            "moves": self.moves,
            "replays": {g: {k: round(v, 4) for k, v in s.items()} for g, s in groups.items()},
        }


_RECORDS: dict[Path, list[Record]] = {}  # per process: a worker reads each file once, not per evaluation


def _records(path: Path) -> list[Record]:
    if path not in _RECORDS:
        _RECORDS[path] = read_records(path)
    return _RECORDS[path]


def replays_for(
    paths: Sequence[Path], *, compress: Sequence[float] = (), polls: int = 0, blocks: int = 0
) -> list[Replay]:
    """Each file whole; a dated one also squeezed by each of ``compress`` and as ``polls`` first polls; an
    undated one longer than ``blocks`` lines in blocks of that many instead of whole."""
    out: list[Replay] = []
    for path in paths:
        records = _records(path)
        dated = any(r.published for r in records)
        if not dated and blocks and len(records) > blocks:
            out += [Replay(path, start=i, size=blocks) for i in range(0, len(records), blocks)]
            continue
        out.append(Replay(path))
        out += [Replay(path, factor=k) for k in compress if dated and k != 1]
        if polls and dated:
            out.append(Replay(path, polls=polls))
    return out


def score(replay: Replay, document: dict[str, Any]) -> ReplayScore:
    """One replay with the settings of a weights ``document`` (a plain dict, so it crosses processes)."""
    settings = settings_from_json(document)
    if replay.polls:
        polled = poll_links(replay.path, settings, replay.polls)
        return ReplayScore(replay, polled.precision, polled.recall, polled.f1, True)
    records = _records(replay.path)
    part = records[replay.start : replay.start + replay.size] if replay.size else records
    result = run_backtest(replay.path, settings=settings, records=part, time_compress=replay.factor)
    links = result.links
    if links is None:
        raise ValueError(f"{replay.path}: no labelled articles to score")
    return ReplayScore(replay, links.precision, links.recall, links.f1, any(r.published for r in part))


def poll_links(path: Path, settings: MatchSettings, polls: int) -> Scores:
    """``backtest_polls.cold_start``'s first polls (``replay_poll``) scored as links: each poll's first articles and
    their follow-ups as one clustering against the incidents. Two
    incidents merged cost a false link, and one more for each follow-up that joins the merged story; a
    follow-up that starts a story of its own costs its true link."""
    pred: list[str] = []
    gold: list[str] = []
    for k, picked in enumerate(first_polls(path, polls)):
        firsts, later = replay_poll(picked, settings)
        pred += [f"{k}:{story}" for story in firsts]
        pred += [f"{k}:{story}" if story else f"{k}:later {i}" for i, story in enumerate(later)]
        gold += [f"{k}:{i}" for i in range(len(picked))] * 2
    return links(pred, gold)


def _grouped(scores: Sequence[ReplayScore]) -> dict[str, dict[str, float]]:
    by: dict[str, list[ReplayScore]] = {}
    for s in scores:
        by.setdefault(s.replay.group, []).append(s)
    return {
        g: {
            "precision": statistics.fmean(s.precision for s in ss),
            "recall": statistics.fmean(s.recall for s in ss),
            "f1": statistics.fmean(s.f1 for s in ss),
            "dated": float(all(s.dated for s in ss)),
        }
        for g, ss in by.items()
    }


def objective(
    scores: Sequence[ReplayScore], min_precision: float = 0.0, floors: Mapping[str, float] | None = None
) -> float:
    """Mean F1 of the groups, less ``_PENALTY`` x each dated group's precision shortfall under
    ``min_precision`` and x each group's F1 shortfall under the ``floors`` its name contains
    (``{"ecbplus_dev": 0.85}``: a floor a test or a user holds the matcher to)."""
    groups = _grouped(scores)
    shortfall = sum(max(0.0, min_precision - g["precision"]) for g in groups.values() if g["dated"])
    for name, g in groups.items():
        shortfall += sum(max(0.0, f1 - g["f1"]) for part, f1 in (floors or {}).items() if part in name)
    return statistics.fmean(g["f1"] for g in groups.values()) - _PENALTY * shortfall


def parse_floor(text: str) -> tuple[str, float]:
    """``--floor NAME=F1``: NAME is part of a replay group's name ("ecbplus_dev", "docs.jsonl x8")."""
    name, sep, value = text.rpartition("=")
    try:
        f1 = float(value)
    except ValueError:
        f1 = -1.0
    if not sep or not name or not 0.0 <= f1 <= 1.0:
        raise MonitorError(f"--floor {text!r}: expected NAME=F1 with F1 between 0 and 1 (e.g. ecbplus_dev=0.85)")
    return name, f1


def _number(document: dict[str, Any], key: str) -> float:
    return float(document["weights"][key] if key in FITTED_WEIGHTS else document[key])


def _moved(document: dict[str, Any], direction: dict[str, float], delta: float) -> dict[str, Any] | None:
    """``document`` moved ``delta`` along ``direction`` (number -> its share of the move); None: no change."""
    out = json.loads(json.dumps(document))
    for key, share in direction.items():
        value = _bounded(key, _number(document, key) + share * delta)
        if key in FITTED_WEIGHTS:
            out["weights"][key] = value
        else:
            out[key] = value
    return None if out == document else out


def _bounded(key: str, value: float) -> float:
    """A term weight (a penalty is stored positive) and a slope are never negative; thresholds may be."""
    if key in FITTED_WEIGHTS or key.endswith(("slope", "young_threshold")):
        value = max(0.0, value)
    return round(value, 6)


# Besides one number at a time: the base threshold with the density slope moved against it so that the
# threshold e^2 x ``density_reference`` stories compete for (~130: a dense week) stays put. Alone, either
# move costs one replay what it gives another (GVA x1's recall, GVA x8's precision): a valley a search along
# single numbers cannot cross.
_PAIRED = {"threshold, dense threshold kept": {"threshold": 1.0, "density_slope": -0.5}}


class _Search:
    def __init__(
        self, pool: Executor, replays: Sequence[Replay], min_precision: float, floors: Mapping[str, float], budget: int
    ) -> None:
        # The slowest replays first, so that the processes finish together.
        self.order = sorted(replays, key=lambda r: -(r.size or len(_records(r.path))) * max(r.factor, 1.0))
        self.pool, self.budget = pool, budget
        self.report = TuneReport(0.0, 0.0, 0, min_precision=min_precision, floors=dict(floors))

    def evaluate(self, doc: dict[str, Any]) -> tuple[float, list[ReplayScore]]:
        scores = list(self.pool.map(score, self.order, [doc] * len(self.order)))
        self.report.evaluations += 1
        return objective(scores, self.report.min_precision, self.report.floors), scores

    def line(self, document: dict[str, Any], direction: dict[str, float], stride: float) -> dict[str, Any] | None:
        """Move by ``stride``, then by twice as much again while that keeps helping; the best, or None."""
        kept = None
        while self.report.evaluations < self.budget:
            candidate = _moved(document, direction, stride)
            if candidate is None:
                break
            value, scores = self.evaluate(candidate)
            if value <= self.report.objective_after + 1e-4:
                break
            self.report.objective_after, self.report.scores, document = value, scores, candidate
            kept, stride = candidate, stride * 2
        return kept


def tune(
    settings: MatchSettings,
    replays: Sequence[Replay],
    *,
    budget: int,
    min_precision: float = 0.0,
    floors: Mapping[str, float] | None = None,
    jobs: int = 1,
    progress: Callable[[str], None] | None = None,
    executor: Executor | None = None,
) -> tuple[MatchSettings, TuneReport]:
    """Coordinate search from ``settings`` over the numbers a weights file holds, at most ``budget``
    evaluations (each replays every one of ``replays``); see the module docstring."""
    document = settings_to_json(settings)
    directions = {k: {k: 1.0} for k in (*FITTED_SETTINGS, *FITTED_WEIGHTS) if k not in _FIXED}  # thresholds first
    directions.update(_PAIRED)
    step = {
        name: _THRESHOLD_STEP if name not in FITTED_WEIGHTS else max(_WEIGHT_STEP, abs(_number(document, name)) / 4)
        for name in directions
    }
    pool = executor or ProcessPoolExecutor(max_workers=max(1, jobs))
    try:
        search = _Search(pool, replays, min_precision, floors or {}, budget)
        report = search.report
        report.objective_before, report.scores = search.evaluate(document)
        report.objective_after = report.objective_before
        if progress:
            progress(f"replays: objective {report.objective_before:.4f} at the start")
        while report.evaluations < budget and max(step.values()) >= _SMALLEST_STEP:
            moved = False
            for name, direction in directions.items():
                kept = search.line(document, direction, step[name]) or search.line(document, direction, -step[name])
                if kept is not None:
                    document, moved = kept, True
                    values = ", ".join(f"{k} = {_number(document, k):.4f}" for k in direction)
                    report.moves.append(f"{values}: objective {report.objective_after:.4f}")
                    if progress:
                        progress(f"[{report.evaluations}/{budget}] {report.moves[-1]}")
            if not moved:
                step = {k: s / 2 for k, s in step.items()}
        return settings_from_json(document, settings), report
    finally:
        if executor is None:
            pool.shutdown()
