"""The backtest: metrics against hand-computed values, input handling, and a quality floor on real
labelled data read from ../shared/data at run time (skipped where that folder is absent)."""

from __future__ import annotations

import json
from itertools import islice
from pathlib import Path
from typing import Any

import pytest

from monitor.errors import MonitorError
from monitor.service.backtest import bcubed, format_report, links, run_backtest, run_blocks
from monitor.service.backtest_polls import cold_start
from tests.support.labelled import dataset, write_jsonl

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
# Measured with the default settings (docs/matching.md): GVA first 1,000 docs link P 0.906 F1 0.863,
# B-cubed F1 0.957; allsides first 1,500 docs link F1 0.616. Floors sit a little below; the GVA
# precision floor is the issue's requirement (0.90).
PRECISION_FLOOR_GVA, F1_FLOOR_GVA, B3_FLOOR_GVA = 0.90, 0.84, 0.945
F1_FLOOR_ALLSIDES = 0.61
# Measured (docs/matching.md): ECB+ dev link F1 0.851 (the issue's floor, 0.85), allsides dev in 921-article
# blocks 0.726 (mean; the issue's floor, 0.72); the defaults are fitted with these floors (``fit --floor``).
ECB_FLOOR, ALLSIDES_BLOCKS_FLOOR = 0.85, 0.72


def test_bcubed_and_links_hand_computed() -> None:
    # pred clusters {0,1,2} {3,4}; gold {0,1} {2,3,4}.
    pred, gold = ["p", "p", "p", "q", "q"], ["a", "a", "b", "b", "b"]
    b3 = bcubed(pred, gold)
    # per item precision: 2/3, 2/3, 1/3, 1, 1 -> 11/15; recall: 1, 1, 1/3, 2/3, 2/3 -> 11/15
    assert b3.precision == pytest.approx(11 / 15) and b3.recall == pytest.approx(11 / 15)
    pl = links(pred, gold)
    # predicted pairs 01 02 12 34; true pairs 01 23 24 34; shared 01 34
    assert (pl.precision, pl.recall, pl.f1) == pytest.approx((0.5, 0.5, 0.5))


def test_links_of_all_singletons() -> None:
    s = links(["a", "b"], ["x", "y"])
    assert (s.precision, s.recall) == (1.0, 1.0)
    assert links(["a", "b"], ["x", "x"]).recall == 0.0


ROWS: list[dict[str, Any]] = [
    # Out of date order on purpose; the two "a" pages share a URL (the strongest signal).
    {"doc_id": "a2", "title": "Update", "text": "Later text.", "dct": "2020-01-03", "url": "http://x/a",
     "cluster_id": "A"},
    {"doc_id": "a1", "title": "Flash", "text": "First text.", "dct": "2020-01-01", "url": "https://x/a",
     "cluster_id": "A"},
    {"doc_id": "b1", "title": "Budget vote in parliament", "text": "Lawmakers approved the budget.",
     "published": "2020-01-02T10:00:00+00:00", "cluster_id": "B"},
    {"doc_id": "b2", "title": "Zoo panda born", "text": "A panda cub was born at the zoo.",
     "published": "2020-01-02T11:00:00", "cluster_id": "B"},
    {"doc_id": "c1", "title": "Flagged", "text": "", "dct": "2020-01-02", "url": "http://x/a",
     "cluster_id": "C", "quality_flags": ["empty"]},
]  # fmt: skip


def test_backtest_on_hand_made_file(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    out = tmp_path / "out.jsonl"
    report = run_backtest(write_jsonl(tmp_path / "in.jsonl", ROWS), out, lambda d, t: calls.append((d, t)))
    assigned = [json.loads(line) for line in out.read_text().splitlines()]
    # publication order: a1, c1 (a date is midnight UTC), b1, b2 (naive = UTC), a2
    assert [a["doc_id"] for a in assigned] == ["a1", "c1", "b1", "b2", "a2"]
    story = {a["doc_id"]: a["story"] for a in assigned}
    assert story["a1"] == story["a2"] == story["c1"] and story["b1"] != story["b2"]
    # scored: a1 a2 b1 b2 (c1 is flagged); pred {a1,a2} {b1} {b2}; gold {a1,a2} {b1,b2}
    assert report.scored_articles == 4 and report.gold_stories == 2 and report.stories == 3
    assert report.links is not None and report.bcubed is not None
    assert (report.links.precision, report.links.recall) == pytest.approx((1.0, 0.5))
    assert report.bcubed.recall == pytest.approx((1 + 1 + 0.5 + 0.5) / 4)
    assert calls[-1] == (5, 5)
    json.dumps(report.as_dict())
    assert "links P / R / F1" in format_report(report)


def test_backtest_without_labels(tmp_path: Path) -> None:
    rows = [{k: v for k, v in r.items() if k != "cluster_id"} for r in ROWS]
    report = run_backtest(write_jsonl(tmp_path / "in.jsonl", rows))
    assert report.bcubed is None and report.links is None and report.articles == 5
    assert "no cluster_id labels" in format_report(report)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"title": "x"}', "'doc_id' is missing"),
        ('{"doc_id": "d", "dct": "yesterday"}', "not an ISO date"),
        ('{"doc_id": "d", "title": 5}', "'title' must be a string"),
    ],
)
def test_malformed_line_names_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"doc_id": "ok", "title": "t", "text": "x"}\n\n' + line + "\n", encoding="utf-8")
    with pytest.raises(MonitorError, match=rf"bad\.jsonl:3: .*{message}"):
        run_backtest(path)


def data_slice(tmp_path: Path, name: str, n: int) -> Path:
    source = dataset(name)
    target = tmp_path / f"{name}.jsonl"
    with source.open(encoding="utf-8") as fh:
        target.write_text("".join(islice(fh, n)), encoding="utf-8")
    return target


@pytest.mark.data
def test_quality_floor_on_gva_slice(tmp_path: Path) -> None:
    report = run_backtest(data_slice(tmp_path, "gva_incidents", 1000))
    assert report.links is not None and report.bcubed is not None
    assert report.links.precision >= PRECISION_FLOOR_GVA, report.as_dict()
    assert report.links.f1 >= F1_FLOOR_GVA, report.as_dict()
    assert report.bcubed.f1 >= B3_FLOOR_GVA, report.as_dict()


@pytest.mark.data
def test_quality_floor_on_allsides_slice(tmp_path: Path) -> None:
    report = run_backtest(data_slice(tmp_path, "allsides_neus", 1500))
    assert report.links is not None
    assert report.links.f1 >= F1_FLOOR_ALLSIDES, report.as_dict()


@pytest.mark.data
@pytest.mark.parametrize("compress", [1.0, 8.0])
def test_issue_targets_on_the_whole_gva_development_split(compress: float) -> None:
    """The issue's bar on all 3,160 development articles, and the density replay (dates squeezed 8x towards
    the first one: eight times more same-city shootings inside the window) must keep its precision."""
    report = run_backtest(dataset("gva_incidents"), time_compress=compress)
    assert report.links is not None and report.bcubed is not None
    if compress == 1.0:  # measured 0.964 / 0.854, B-cubed 0.948 (docs/matching.md)
        assert report.links.precision >= 0.93 and report.links.f1 >= 0.85, report.as_dict()
        assert report.bcubed.f1 >= 0.94, report.as_dict()
    else:  # measured 0.933
        assert report.links.precision >= 0.92, report.as_dict()


@pytest.mark.data
def test_a_fresh_install_keeps_its_first_poll_apart_and_joins_follow_ups() -> None:
    """30 first polls of 20 GVA dev incidents (first articles, different outlets, one publication time) into
    an empty matcher: they stay ~20 stories, and a second article of each an hour later joins its story.
    Before the background prior: 16.5 stories, a merge in every poll, 74.5% of follow-ups joined."""
    report = cold_start(dataset("gva_incidents"))
    assert report.mean_stories >= 19.5, report
    assert report.follow_up_joined >= 0.85, report


@pytest.mark.data
def test_near_miss_events_of_one_kind_stay_apart_on_ecbplus_dev() -> None:
    """ECB+ dev: two different real events of the same kind per topic, no dates (measured in docs/matching.md)."""
    report = run_backtest(dataset("ecbplus_dev"))
    assert report.links is not None
    assert report.links.f1 >= ECB_FLOOR, report.as_dict()


NEAR_MISS = Path(__file__).parent / "data" / "near_miss_undated.jsonl"


def test_same_country_events_stay_apart_without_dates() -> None:
    """``tests/data/near_miss_undated.jsonl`` (written for the project, 80 articles): 16 countries, two
    different events each (Aleppo retaken vs an air strike in Idlib, two landslides, two earthquakes ...),
    undated; each event's short flash, longer version and follow-up from other outlets. Measured with the
    defaults: link P 0.842, R 1.000, F1 0.914 (two topics merge, where the other event names the first's
    city); the hand-set numbers before the fifth pass: 0.795 / 0.969 / 0.873."""
    report = run_backtest(NEAR_MISS)
    assert report.links is not None
    assert report.links.precision >= 0.82 and report.links.f1 >= 0.90, report.as_dict()


@pytest.mark.data
def test_allsides_dev_in_blocks_of_its_held_out_size() -> None:
    reports = run_blocks(dataset("allsides_neus"), 921)
    f1 = [r.links.f1 for r in reports if r.links is not None]
    assert sum(f1) / len(f1) >= ALLSIDES_BLOCKS_FLOOR, f1


def test_cli_backtest_in_blocks(tmp_path: Path) -> None:
    """``news-monitor backtest --blocks N``: the AllSides figure of docs/matching.md from the user command
    (it agrees with ``run_blocks``)."""
    from tests.support import run_cli

    rows = [
        {
            "doc_id": f"d{i}",
            "title": f"Harbour fire {i}",
            "text": f"Crews fought the harbour fire, report {i}.",
            "cluster_id": f"c{i % 3}",
        }
        for i in range(12)
    ]
    source = write_jsonl(tmp_path / "pool.jsonl", rows)
    done = run_cli("backtest", str(source), "--blocks", "5", "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    expected = [r.links.f1 for r in run_blocks(source, 5) if r.links]
    assert [b["articles"] for b in out["blocks"]] == [5, 5, 2]
    assert out["mean_link_f1"] == pytest.approx(sum(expected) / len(expected))
    done = run_cli("backtest", str(source), "--blocks", "5")
    assert done.returncode == 0 and "mean link F1 over 3 blocks" in done.stdout, done.stderr


@pytest.mark.data
def test_cli_backtest_cold_start_reports_the_first_polls() -> None:
    from tests.support import run_cli

    source = dataset("gva_incidents")
    done = run_cli("backtest", str(source), "--cold-start", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["polls"] == 30 and report["mean_stories"] == cold_start(source).mean_stories
