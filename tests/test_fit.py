"""Fitting the matcher's weights: the regression itself, the weights file, the CLI and the config key."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest

from monitor.config import parse_config
from monitor.core.match import MatchSettings
from monitor.core.match_types import settings_from_json, settings_to_json
from monitor.errors import ConfigError, MonitorError
from monitor.service.backtest import run_backtest
from monitor.service.backtest_polls import cold_start
from monitor.service.fit import FEATURES, fit_files, load_settings, logistic, weights_document, write_weights
from tests.support import run_cli
from tests.support.labelled import dataset, write_jsonl


def test_logistic_regression_recovers_known_coefficients() -> None:
    rng = random.Random(7)
    truth = {"intercept": -2.0, "cosine": 6.0, "names": 3.0, "year_conflict": -1.5}
    rows = []
    for _ in range(6000):
        x = {k: 0.0 for k in FEATURES}
        x["cosine"], x["names"], x["year_conflict"] = rng.random(), rng.random(), float(rng.random() < 0.3)
        z = truth["intercept"] + sum(truth[k] * x[k] for k in ("cosine", "names", "year_conflict"))
        rows.append(([x[k] for k in FEATURES], int(rng.random() < 1 / (1 + math.exp(-z)))))
    fit = logistic(rows, l2=0.01)
    for key, value in truth.items():
        assert fit.coefficients[key] == pytest.approx(value, abs=0.5), (key, fit.coefficients)


def test_weights_file_round_trip_and_errors(tmp_path: Path) -> None:
    settings = MatchSettings()
    assert settings_from_json(json.loads(json.dumps(settings_to_json(settings)))) == settings
    path = tmp_path / "w.json"
    path.write_text(json.dumps({"weights": {"names": 0.7}, "threshold": 0.25}), encoding="utf-8")
    loaded = load_settings(path)
    assert loaded.weights.names == 0.7 and loaded.threshold == 0.25 and loaded.margin == settings.margin
    for bad, message in (
        ({"weights": {"nmes": 1}}, "weights.nmes: unknown term"),
        ({"threshold": "high"}, "threshold: expected a number"),
        ({"treshold": 1}, "unknown key 'treshold'"),
    ):
        path.write_text(json.dumps(bad), encoding="utf-8")
        with pytest.raises(MonitorError, match=rf"w\.json: {message}"):
            load_settings(path)
    with pytest.raises(ConfigError) as info:
        parse_config({"monitor": {"match_weights": str(path)}}, base=tmp_path, env={})
    assert any(p.startswith("monitor.match_weights") for p in info.value.problems), info.value.problems


def gva_head(tmp_path: Path, n: int) -> Path:
    """The first ``n`` lines of GVA dev (read at run time; skipped, saying why, where the data is absent)."""
    source = tmp_path / "labelled.jsonl"
    with dataset("gva_incidents").open(encoding="utf-8") as fh:
        source.write_text("".join(line for _, line in zip(range(n), fh, strict=False)), encoding="utf-8")
    return source


@pytest.mark.data
def test_fit_writes_weights_the_matcher_and_backtest_read(tmp_path: Path) -> None:
    source = gva_head(tmp_path, 300)
    settings, fit = fit_files([source])
    assert fit.rows > 100 and 0 < fit.positives < fit.rows
    assert fit.coefficients["cosine"] > 0  # word similarity counts for a match
    out = tmp_path / "weights.json"
    write_weights(out, weights_document(settings, fit, [source]))
    assert load_settings(out) == settings
    report = run_backtest(source, settings=settings)
    assert report.links is not None


def test_fit_without_both_kinds_of_rows_says_so(tmp_path: Path) -> None:
    lone = write_jsonl(tmp_path / "one.jsonl", [{"doc_id": "x", "title": "t", "text": "x", "cluster_id": "A"}])
    with pytest.raises(MonitorError, match="both kinds"):
        fit_files([lone])


@pytest.mark.data
def test_cli_fit_and_backtest_with_weights(tmp_path: Path) -> None:
    source = gva_head(tmp_path, 200)
    out = tmp_path / "weights.json"
    done = run_cli("fit", str(source), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert "match_weights" in done.stdout and json.loads(out.read_text())["fitted"]["rows"] > 0
    done = run_cli("backtest", str(source), "--weights", str(out))
    assert done.returncode == 0 and "links P / R / F1" in done.stdout, done.stderr
    # The shipped file's options are the command's: its own decisions, dates squeezed, files balanced.
    hard = tmp_path / "decided.json"
    done = run_cli("fit", str(source), "-o", str(hard), "--decided", "--compress", "8", "--balance", "--json")
    assert done.returncode == 0, done.stderr
    told, decided = json.loads(out.read_text())["fitted"], json.loads(done.stdout)["fitted"]
    assert decided["rows"] > told["rows"]  # the squeezed replay adds rows
    assert decided["coefficients"] != told["coefficients"]


def test_the_defaults_are_the_shipped_fit() -> None:
    """``monitor/service/match_weights_dev.json`` is ``fit --replay``'s output on the dev sets and the
    near-miss file (docs/matching.md, "Fifth pass"); the defaults are its numbers, not hand-set ones."""
    import monitor.service

    shipped = load_settings(Path(monitor.service.__file__).parent / "match_weights_dev.json")
    assert shipped.weights.cosine == 1.0 and shipped == MatchSettings()


def test_undated_stories_have_their_own_density_slope() -> None:
    settings = MatchSettings(density_slope=0.1, undated_density_slope=0.0, undated_threshold=0.0)
    competing = int(settings.density_reference * math.e**2)
    assert settings.threshold_for(competing) > settings.threshold + 0.19
    assert settings.threshold_for(competing, dated=False) == pytest.approx(settings.threshold)
    doc = settings_to_json(settings)
    assert doc["undated_density_slope"] == 0.0 and settings_from_json(doc) == settings


@pytest.mark.data
def test_fit_rows_from_the_matchers_own_decisions(tmp_path: Path) -> None:
    """Replayed as the matcher decides (not told the truth), the rows hold the wrong stories it joins or
    nearly joins, and a true row is a story holding an earlier article of the same labelled story."""
    from monitor.service.fit import rows_of

    source = gva_head(tmp_path, 300)
    told = rows_of(source, MatchSettings())
    decided = rows_of(source, MatchSettings(), told=False)
    dense = rows_of(source, MatchSettings(), told=False, time_compress=8)
    assert decided != told and dense != decided
    for rows in (told, decided, dense):
        assert 0 < sum(y for _, y in rows) < len(rows)
    at = FEATURES.index("undated_density")
    assert all(x[at] == 0.0 for x, _ in decided)  # GVA is dated: its density is the dated feature's


@pytest.mark.data
def test_the_shipped_dev_fit_keeps_a_first_poll_apart() -> None:
    """The shipped file (``fit --replay``, docs/matching.md "Fifth pass") keeps a fresh install's first
    poll apart and joins the follow-ups (the floors of ``test_backtest.py``)."""
    import monitor.service

    shipped = load_settings(Path(monitor.service.__file__).parent / "match_weights_dev.json")
    assert shipped.young_threshold > 0.05, shipped
    report = cold_start(dataset("gva_incidents"), shipped)
    assert report.mean_stories >= 19.5 and report.follow_up_joined >= 0.85, report


@pytest.mark.data
def test_first_poll_rows_are_a_young_stream() -> None:
    """Each poll's first articles are different incidents (no true row), each follow-up's own story is true."""
    from monitor.service.fit import poll_rows

    rows = poll_rows(dataset("gva_incidents"), MatchSettings(), polls=2)
    young = FEATURES.index("young")
    assert 0 < sum(y for _, y in rows) <= 40 < len(rows)
    assert all(x[young] > 0.7 for x, _ in rows)  # a matcher holding at most 20 articles leans on the prior
