"""The real-world suites: feedparser's conformance files and gofeed's fixtures, every file served
from 127.0.0.1 and read through fetch_feed + parse_feed, a sample also through Pipeline/Poller on SQLite.

Runs bench/feed_suites.py (the script that produces the table in docs/feeds.md). Reads ../shared/data at run
time; skips where it is absent.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = [pytest.mark.data, pytest.mark.e2e]
REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "feeds"
MISMATCH_CEILING = 12  # measured: 8 of 2,659 (docs/feeds.md lists them and why)


def load_suites() -> ModuleType:
    spec = importlib.util.spec_from_file_location("feed_suites", REPO / "bench" / "feed_suites.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["feed_suites"] = module  # dataclasses and the worker processes look it up by name
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def suites() -> ModuleType:
    if not DATA.is_dir():
        pytest.skip(f"feed suites not found at {DATA} (../shared/data/feeds next to the repository)")
    return load_suites()


def test_every_file_parses_or_fails_precisely(suites: ModuleType) -> None:
    cases = suites.discover()
    assert len(cases) > 2500
    results = asyncio.run(suites.run_all(cases))
    crashes = [(r.rel, r.detail) for r in results if r.outcome in ("crash", "hang")]
    assert crashes == []
    errors = [r for r in results if r.outcome == "error"]
    assert all(r.detail.startswith("feed '") for r in errors), [r.detail for r in errors]
    assert all(r.expected_error for r in errors), [(r.rel, r.detail) for r in errors if not r.expected_error]
    mismatched = [(r.rel, r.mismatches) for r in results if r.mismatches]
    assert len(mismatched) <= MISMATCH_CEILING, mismatched
    parsed = sum(r.outcome == "parsed" for r in results)
    assert parsed >= 0.99 * len(results) - len(errors)


def test_a_sample_through_the_daemon_path_leaves_precise_state(suites: ModuleType, tmp_path: Path) -> None:
    cases = suites.discover()[::25]
    counts = suites.run_poller_sample(cases, tmp_path)
    assert counts.get("internal_errors", 0) == 0 and counts.get("failing_without_error", 0) == 0
    assert counts.get("ok", 0) >= len(cases) - 5
