"""Shared fixtures: the seed scenario, real servers on 127.0.0.1, and a way to run the installed CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.servers import FeedServer, Receiver, running

REPO = Path(__file__).resolve().parents[1]
SEED = REPO / "seeds" / "000_900818fe0882e21f.txt"
DATA = REPO.parent / "shared" / "data"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # the Standard Webhooks spec's example key


@dataclass(frozen=True)
class SeedStory:
    headline: str
    flash: str  # the first paragraphs, up to "Check back for updates on this developing story."
    full: str  # the whole body


@pytest.fixture(scope="session")
def seed_story() -> SeedStory:
    text = SEED.read_text(encoding="utf-8")
    headline, _, body = text.partition("\n")
    marker = "Check back for updates on this developing story."
    flash = body[: body.index(marker) + len(marker)].strip()
    return SeedStory(headline.strip(), flash, body.strip())


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    with running(FeedServer()) as server:
        yield server


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running(Receiver()) as server:
        yield server


def run_cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m monitor`` (the installed package) as a separate process, as a user would."""
    full_env = {**os.environ, "DESK_WEBHOOK_SECRET": SECRET, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# CI proves what it claims (.ci/run): with CI=true a skipped test fails the run, since a PostgreSQL, Chromium,
# systemd or data test that skips would leave the run green without proving what it is there for.
def _skipped(config: pytest.Config) -> list[pytest.TestReport]:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    return list(reporter.stats.get("skipped", [])) if reporter is not None else []


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get("CI") == "true" and _skipped(session.config) and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    skipped = _skipped(config)
    if os.environ.get("CI") != "true" or not skipped:
        return
    terminalreporter.section("CI=true: skipped tests fail the run", sep="=", red=True, bold=True)
    for report in skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        terminalreporter.write_line(f"SKIPPED {report.nodeid}: {reason}")
