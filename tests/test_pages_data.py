"""Page checks on the 92 real article pages (../shared/data/article_pages) through the real daemon: growing
pages are reported, churning pages are not, and the main text scores on the benchmark's own measure.
Figures of the last run are in docs/pages.md (bench/pages_scenarios.py prints them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.sources.pages import read_page
from tests.page_scenarios import DATA, Page, benchmark_f1, load_pages, run

pytestmark = [pytest.mark.data, pytest.mark.e2e]


@pytest.fixture(scope="module")
def pages() -> list[Page]:
    if not (DATA / "ground-truth.json").exists():
        pytest.skip(f"{DATA} is absent (the shared data folder sits beside the repository)")
    return load_pages()


def test_extraction_f1_on_the_benchmarks_scoring(pages: list[Page]) -> None:
    scores = benchmark_f1([(p.body, read_page(p.html, p.url).text or "") for p in pages])
    assert scores["f1"] >= 0.95, scores


def test_growing_pages_are_reported_and_churn_is_not(pages: list[Page], tmp_path: Path) -> None:
    report = run(tmp_path, pages)
    summary = report.summary()
    assert report.growing >= 40 and report.churning >= 40, summary
    assert summary["growing_reported_share"] >= 0.95, (summary, [d for d in report.details if not d["reported"]])
    assert summary["restored_words_reported_share"] >= 0.9, summary
    assert report.churn_events == 0 and report.churn_versions == 0, summary
