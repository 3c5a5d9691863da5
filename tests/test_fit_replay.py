"""``fit --replay``: the fitted numbers tuned on whole replays (``monitor.service.fit_replay``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.core.match import MatchSettings
from monitor.errors import MonitorError
from monitor.service.fit import load_settings
from monitor.service.fit_replay import Replay, ReplayScore, objective, parse_floor, replays_for, score, tune
from tests.support import run_cli
from tests.support.labelled import write_jsonl


def _score(path: str, precision: float, recall: float, *, dated: bool = True, **replay: int) -> ReplayScore:
    f1 = 2 * precision * recall / (precision + recall)
    return ReplayScore(Replay(Path(path), **replay), precision, recall, f1, dated)


def test_objective_is_the_mean_f1_of_files_less_the_precision_shortfall() -> None:
    blocks = [_score("a/undated.jsonl", 0.6, 0.6, dated=False, start=i, size=10) for i in (0, 10)]
    dated = _score("b/dated.jsonl", 0.9, 0.9)
    polls = _score("b/dated.jsonl", 0.5, 0.5, polls=30)
    # The two blocks of one file are one voice, the first polls another.
    assert objective([*blocks, dated, polls]) == pytest.approx((0.6 + 0.9 + 0.5) / 3)
    # Under the floor, a dated replay (not an undated file) costs twice its shortfall.
    assert objective([*blocks, dated, polls], min_precision=0.95) == pytest.approx((0.6 + 0.9 + 0.5) / 3 - 0.1 - 0.9)


def test_a_floor_costs_twice_the_f1_shortfall_of_the_replays_it_names() -> None:
    undated = _score("c/ecb.jsonl", 0.8, 0.8, dated=False)
    dated = _score("b/dated.jsonl", 0.9, 0.9)
    squeezed = _score("b/dated.jsonl", 0.7, 0.7, factor=8)
    mean = (0.8 + 0.9 + 0.7) / 3
    assert objective([undated, dated, squeezed], floors={"ecb": 0.85}) == pytest.approx(mean - 2 * 0.05)
    # "dated.jsonl x8" names the squeezed replay only; a floor met costs nothing.
    floors = {"dated.jsonl x8": 0.75, "dated.jsonl x1": 0.85}
    assert objective([undated, dated, squeezed], floors=floors) == pytest.approx(mean - 2 * 0.05)
    assert objective([undated, dated, squeezed], floors={"nothing": 1.0}) == pytest.approx(mean)


@pytest.mark.parametrize("text", ["ecb", "=0.8", "ecb=high", "ecb=1.5"])
def test_a_bad_floor_is_refused_with_its_text(text: str) -> None:
    with pytest.raises(MonitorError, match="--floor"):
        parse_floor(text)
    assert parse_floor("gva_incidents/docs.jsonl x1=0.85") == ("gva_incidents/docs.jsonl x1", 0.85)


def _article(i: int, cluster: str, words: str, day: int | None) -> dict[str, object]:
    row: dict[str, object] = {
        "doc_id": f"d{i}",
        "title": f"{words.split()[0].capitalize()} report {i}",
        "text": f"Witness {i} spoke of the {words} in {cluster.capitalize()}ville on day {day}. "
        f"The {words} left {i + 3} people hurt, officials said. More on the {words} followed in report {i}.",
        "cluster_id": cluster,
        "url": f"https://example.test/{i}",
    }
    if day is not None:
        row["published"] = f"2024-01-{day:02d}T12:00:00Z"
    return row


def test_replays_of_dated_and_undated_files(tmp_path: Path) -> None:
    dated = write_jsonl(tmp_path / "dated.jsonl", [_article(i, "a", "harbour fire", 1 + i) for i in range(4)])
    undated = write_jsonl(tmp_path / "undated.jsonl", [_article(i, "b", "river flood", None) for i in range(5)])
    got = replays_for([dated, undated], compress=[8], polls=3, blocks=2)
    assert got == [
        Replay(dated),
        Replay(dated, factor=8),
        Replay(dated, polls=3),
        *(Replay(undated, start=i, size=2) for i in (0, 2, 4)),
    ]
    assert replays_for([undated], compress=[8], polls=3) == [Replay(undated)]  # nothing to squeeze or poll


def _topics(tmp_path: Path) -> Path:
    """Eight labelled stories of three articles each, each story with its own words, dated."""
    vocab = ["harbour fire crane", "river flood levee", "bank robbery vault", "school bus crash", "mine collapse"]
    vocab += ["bridge strike union", "museum theft painting", "airport drone closure"]
    rows = [_article(8 * k + s, f"c{s}", vocab[s], 1 + k + s) for k in range(3) for s in range(8)]
    return write_jsonl(tmp_path / "topics.jsonl", rows)


def test_tuning_lowers_a_threshold_set_too_high(tmp_path: Path) -> None:
    """Started at a threshold few pairs reach, almost every article is its own story (link F1 under 0.6); the
    search moves the numbers until the replay joins the stories, and every move it keeps raised the objective."""
    source = _topics(tmp_path)
    start = MatchSettings(threshold=0.78, young_threshold=0.0)
    replays = replays_for([source])
    tuned, report = tune(start, replays, budget=16, jobs=2)
    assert report.objective_before < 0.6
    assert report.objective_after > 0.8 and tuned.threshold < 0.78
    assert 1 <= report.evaluations <= 16 and report.moves
    # Deterministic: the kept settings score what the report says.
    assert objective([score(r, _document(tuned)) for r in replays]) == pytest.approx(report.objective_after)
    # Only the numbers a weights file holds move.
    assert (tuned.index, tuned.window_days, tuned.margin) == (start.index, start.window_days, start.margin)


def _document(settings: MatchSettings) -> dict[str, object]:
    from monitor.core.match_types import settings_to_json

    return settings_to_json(settings)


def test_cli_fit_with_replay_writes_the_tuned_numbers(tmp_path: Path) -> None:
    source = _topics(tmp_path)
    out = tmp_path / "w.json"
    done = run_cli("fit", str(source), "-o", str(out), "--replay", "3", "--jobs", "1")
    assert done.returncode == 0, done.stderr
    document = json.loads(out.read_text())
    replay = document["fitted"]["replay"]
    assert replay["evaluations"] <= 3 and replay["objective_after"] >= replay["objective_before"]
    assert "tuned on replays" in done.stdout and "topics.jsonl x1" in done.stdout
    load_settings(out)  # the matcher reads it


def test_cli_tunes_a_weights_file_it_is_given(tmp_path: Path) -> None:
    """``--start``: a weights file (the regression's, a user's) tuned on replays, its history kept."""
    source = _topics(tmp_path)
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    assert run_cli("fit", str(source), "-o", str(first)).returncode == 0
    done = run_cli("fit", str(source), "-o", str(second), "--start", str(first), "--replay", "2", "--jobs", "1")
    assert done.returncode == 0, done.stderr
    fitted = json.loads(second.read_text())["fitted"]
    assert fitted["start"]["file"] == "first.json" and fitted["start"]["fitted"]["rows"] > 0
    assert fitted["replay"]["evaluations"] <= 2
    refused = run_cli("fit", str(source), "-o", str(tmp_path / "third.json"), "--start", str(first))
    assert refused.returncode != 0 and "give --replay N" in refused.stderr
    assert not (tmp_path / "third.json").exists()


def test_the_shipped_dev_file_is_a_replay_fit() -> None:
    """``monitor/service/match_weights_dev.json`` is ``fit --replay``'s output (docs/matching.md, "Fifth
    pass"): it says where it started, what the replays gained and which floors held it; it is the default."""
    import monitor.service

    path = Path(monitor.service.__file__).parent / "match_weights_dev.json"
    fitted = json.loads(path.read_text(encoding="utf-8"))["fitted"]
    assert fitted["replay"]["objective_after"] > fitted["replay"]["objective_before"]
    floors = {"ecbplus_dev": 0.85, "allsides_neus": 0.72, "gva_incidents/docs.jsonl x1": 0.85}
    assert fitted["replay"]["floors"] == floors and fitted["replay"]["min_precision"] == 0.93
    assert load_settings(path) == MatchSettings()
