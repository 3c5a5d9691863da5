"""Fit the matcher's term weights on labelled articles: ``news-monitor fit LABELLED.jsonl -o weights.json``.

The same JSONL as ``backtest`` (``doc_id``, ``title``, ``text``, ``published``, ``url``, ``source``,
``cluster_id``). Each file is replayed in publication order into a fresh matcher that is told the truth
(every article is added to its labelled story) or, with ``--decided``, that follows its own decisions (the
candidates it scores in use, its wrong stories the hard negatives). Before an article is added, the leading
candidate stories are scored (``Matcher.evidence``); each gives one row, the features its score weighs,
labelled 1 when it is (or holds an earlier article of) the article's true story. A logistic regression
(Newton's method, a little L2) then says how much each feature is worth, and so does everything that sets
the threshold (the competing stories, a young stream, no dates).

Written as the weights file the matcher reads (``monitor.core.match_types.settings_from_json``): the
coefficients divided by the cosine's (so a score stays on the scale of a cosine, the scale of the
thresholds), the intercept as the threshold. Rows where lede containment decides (a rule, not the score)
are left out. Pure Python: a few dozen features, tens of thousands of rows.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from monitor.core.match import Matcher, MatchInput, MatchSettings
from monitor.core.match_score import PAIR_TERMS, STORY_TERMS
from monitor.core.match_types import settings_from_json, settings_to_json
from monitor.errors import MonitorError
from monitor.service.backtest import Record, compress_time, publication_order, read_records
from monitor.service.backtest_polls import POLL_TIME, first_polls

# The model's features, in order: the score's terms (weights), then the threshold's (its intercept apart).
SCORE_FEATURES = (*PAIR_TERMS, *STORY_TERMS)
THRESHOLD_FEATURES = ("density", "young", "undated", "undated_density")
FEATURES = (*SCORE_FEATURES, *THRESHOLD_FEATURES)
# A penalty's weight is stored positive and subtracted (``PairWeights``): the sign its coefficient has.
_NEGATIVE = {
    *("age_conflict", "place_conflict", "roundup", "address_conflict", "year_conflict", "age", "short_names"),
    "no_specific",
}


@dataclass(frozen=True)
class Fit:
    coefficients: dict[str, float]  # per feature, and "intercept"
    rows: int
    positives: int
    log_loss: float


def rows_of(
    path: Path, settings: MatchSettings, top: int = 3, *, told: bool = True, time_compress: float = 1.0
) -> list[tuple[list[float], int]]:
    """(features, label) of the ``top`` candidate stories of every labelled article of ``path``.

    ``told``: every article is added to its labelled story (the candidates a perfect past gives); else to
    the story the matcher itself chose (its decisions, wrong joins and splits included: the candidates it
    scores at decision time, with the hard negatives its own mistakes make). A candidate is then true when
    it holds an earlier article of the article's labelled story. ``time_compress``: dates squeezed this many
    times (``backtest.compress_time``), so that the rows show the crowded weeks the density slope is for."""
    matcher = Matcher(settings)
    out: list[tuple[list[float], int]] = []
    held: dict[str, set[str]] = {}  # story -> the labels of its articles
    for i, r in enumerate(publication_order(compress_time(read_records(path), time_compress))):
        article = MatchInput(r.doc_id, r.title, r.text, r.published, r.url, r.source)
        label = r.cluster or f"unlabelled-{i}"
        if r.scored and r.cluster:
            for candidate, x in matcher.evidence(article, top):
                if x["lede"] <= 0.0:
                    out.append(([x[k] for k in FEATURES], int(label in held.get(candidate, ()))))
        story = label if told else matcher.match(article).story or f"new-{i}"
        matcher.add(story, article)
        held.setdefault(story, set()).add(label)
    return out


def _polled(record: Record, when: datetime) -> MatchInput:
    return MatchInput(record.doc_id, record.title, record.text, when, record.url, record.source)


def poll_rows(path: Path, settings: MatchSettings, polls: int, top: int = 3) -> list[tuple[list[float], int]]:
    """Rows of a fresh install's first polls (``backtest_polls.first_polls``, other seeds than ``cold_start``'s):
    each poll's first articles into an empty matcher, each its own story (so none of their candidates is
    true), then each follow-up an hour later (its incident's story is): the young stream, where the
    ``young`` term of the threshold applies, which a replay of the whole file shows only at its start."""
    out: list[tuple[list[float], int]] = []
    for picked in first_polls(path, polls, seed=1013):
        matcher = Matcher(settings)
        for first, _ in picked:
            article = _polled(first, POLL_TIME)
            out += [([x[k] for k in FEATURES], 0) for _, x in matcher.evidence(article, top) if x["lede"] <= 0]
            matcher.add(first.doc_id, article)
        for first, later in picked:
            evidence = matcher.evidence(_polled(later, POLL_TIME + timedelta(hours=1)), top)
            out += [([x[k] for k in FEATURES], int(story == first.doc_id)) for story, x in evidence if x["lede"] <= 0]
    return out


def _solve(a: list[list[float]], b: list[float]) -> list[float]:
    """Gaussian elimination with partial pivoting (``a`` is symmetric positive definite here)."""
    n = len(b)
    m = [[*row, rhs] for row, rhs in zip(a, b, strict=True)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        m[col], m[pivot] = m[pivot], m[col]
        for r in range(col + 1, n):
            f = m[r][col] / m[col][col]
            if f:
                m[r] = [x - f * y for x, y in zip(m[r], m[col], strict=True)]
    x = [0.0] * n
    for r in range(n - 1, -1, -1):
        x[r] = (m[r][n] - sum(m[r][c] * x[c] for c in range(r + 1, n))) / m[r][r]
    return x


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


def logistic(
    rows: Sequence[tuple[list[float], int]],
    l2: float = 1.0,
    iterations: int = 25,
    weights: Sequence[float] | None = None,
) -> Fit:
    """Logistic regression by Newton's method (iteratively reweighted least squares) with an L2 penalty
    ``l2`` on every coefficient but the intercept; ``weights``: each row's (default 1)."""
    if not rows or len({y for _, y in rows}) < 2:
        raise MonitorError("fit needs labelled rows of both kinds (same story and not): too few labelled articles")
    n = len(rows[0][0]) + 1
    xs = [[1.0, *x] for x, _ in rows]
    ys = [y for _, y in rows]
    ws = list(weights) if weights is not None else [1.0] * len(rows)
    beta = [0.0] * n
    for _ in range(iterations):
        grad = [0.0] * n
        hess = [[0.0] * n for _ in range(n)]
        for x, y, rw in zip(xs, ys, ws, strict=True):
            p = _sigmoid(sum(b * v for b, v in zip(beta, x, strict=True)))
            w, err = rw * p * (1 - p), rw * (y - p)
            for i in range(n):
                if x[i]:
                    grad[i] += err * x[i]
                    wi = w * x[i]
                    row = hess[i]
                    for j in range(i, n):
                        row[j] += wi * x[j]
        for i in range(n):
            for j in range(i):
                hess[i][j] = hess[j][i]
            if i:
                grad[i] -= l2 * beta[i]
                hess[i][i] += l2
            hess[i][i] += 1e-9
        step = _solve(hess, grad)
        beta = [b + s for b, s in zip(beta, step, strict=True)]
        if max(abs(s) for s in step) < 1e-6:
            break
    loss = 0.0
    for x, y, rw in zip(xs, ys, ws, strict=True):
        p = min(max(_sigmoid(sum(b * v for b, v in zip(beta, x, strict=True))), 1e-12), 1 - 1e-12)
        loss -= rw * (y * math.log(p) + (1 - y) * math.log(1 - p))
    coefficients = {"intercept": beta[0], **dict(zip(FEATURES, beta[1:], strict=True))}
    return Fit(coefficients, len(rows), sum(ys), loss / sum(ws))


def to_settings(fit: Fit, base: MatchSettings | None = None) -> MatchSettings:
    """The fitted model as matcher settings: every coefficient over the cosine's (see the module docstring)."""
    c = fit.coefficients
    scale = c["cosine"]
    if scale <= 0:
        raise MonitorError(f"fit: the cosine's coefficient is {scale:.3g}; word similarity must count for a match")
    weights = {k: (-c[k] if k in _NEGATIVE else c[k]) / scale for k in SCORE_FEATURES}
    threshold = -c["intercept"] / scale
    return settings_from_json(
        {
            "weights": weights,
            "threshold": threshold,
            "density_slope": -c["density"] / scale,
            "young_threshold": -c["young"] / scale,
            "undated_threshold": threshold - c["undated"] / scale,
            "undated_density_slope": -c["undated_density"] / scale,
        },
        base,
    )


def fit_files(
    paths: Sequence[Path],
    settings: MatchSettings | None = None,
    progress: Callable[[str], None] | None = None,
    *,
    told: bool = True,
    balance: bool = False,
    compress: Sequence[float] = (),
    polls: int = 0,
) -> tuple[MatchSettings, Fit]:
    """``told``: see ``rows_of``; ``balance``: every file weighs as much in the fit as any other (else
    each row counts once, and the file with the most articles decides); ``compress``: each file is replayed
    again with its dates squeezed by each of these factors (undated files are not: nothing to squeeze);
    ``polls``: each dated file also gives this many first polls of a fresh install (``poll_rows``)."""
    settings = settings or MatchSettings()
    rows: list[tuple[list[float], int]] = []
    weights: list[float] = []
    for path in paths:
        if progress:
            progress(f"replaying {path}")
        part = rows_of(path, settings, told=told)
        rows += part
        weights += [1.0 / len(part) if part else 0.0] * len(part)
        dated = any(r.published for r in read_records(path))
        for factor in compress if dated else ():
            if progress:
                progress(f"replaying {path} with dates x{factor:g}")
            part = rows_of(path, settings, told=told, time_compress=factor)
            rows += part
            weights += [1.0 / len(part) if part else 0.0] * len(part)
        if polls and dated:
            if progress:
                progress(f"replaying {polls} first polls of {path}")
            part = poll_rows(path, settings, polls)
            rows += part
            weights += [1.0 / len(part) if part else 0.0] * len(part)
    if progress:
        progress(f"fitting on {len(rows)} candidate rows")
    total = sum(weights)
    fit = logistic(rows, weights=[w * len(rows) / total for w in weights] if balance and total else None)
    return to_settings(fit, settings), fit


def file_names(paths: Sequence[Path]) -> list[str]:
    """How a weights file names the labelled files it was fitted on (folder and name, no full path)."""
    return [f"{p.parent.name}/{p.name}" for p in paths]


def weights_document(settings: MatchSettings, fit: Fit, paths: Sequence[Path]) -> dict[str, Any]:
    return {
        **settings_to_json(settings),
        "fitted": {
            "files": file_names(paths),
            "rows": fit.rows,
            "positives": fit.positives,
            "log_loss": round(fit.log_loss, 4),
            "coefficients": {k: round(v, 4) for k, v in fit.coefficients.items()},
        },
    }


def write_weights(out: Path, document: dict[str, Any]) -> None:
    try:
        out.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    except OSError as e:
        raise MonitorError(f"{out}: cannot write: {e}") from e


def load_document(path: Path) -> dict[str, Any]:
    """A weights file as JSON; MonitorError names the file."""
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise MonitorError(f"{path}: cannot read: {e}") from e
    except json.JSONDecodeError as e:
        raise MonitorError(f"{path}: not valid JSON: {e.msg} (line {e.lineno})") from e
    if not isinstance(obj, dict):
        raise MonitorError(f"{path}: expected a JSON object, got {type(obj).__name__}")
    return obj


def load_settings(path: Path, base: MatchSettings | None = None) -> MatchSettings:
    """Matcher settings from a weights file (``fit``'s output); MonitorError names the file and the key."""
    return settings_of(load_document(path), path, base)


def settings_of(obj: dict[str, Any], path: Path, base: MatchSettings | None = None) -> MatchSettings:
    """Matcher settings from a weights file's JSON (read from ``path``, which the error names)."""
    try:
        return settings_from_json(obj, base)
    except ValueError as e:
        raise MonitorError(f"{path}: {e}") from e
