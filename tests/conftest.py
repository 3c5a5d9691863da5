"""Shared fixtures: the seed scenario, real servers on 127.0.0.1, PostgreSQL. Helpers are in tests/support/."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from monitor.store.db import Database
from tests.pg import PostgresServer, PostgresUnavailable, start_postgres
from tests.servers import FeedServer, Receiver, running
from tests.support import SEED, SeedStory
from tests.support.web import Built, build_stories


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


@pytest.fixture
def built(tmp_path: Path, seed_story: SeedStory) -> Iterator[Built]:
    """The seed scenario as stories in a real SQLite database (tests of the web app, metrics, browser)."""
    b = build_stories(tmp_path, seed_story)
    yield b
    b.db.close()


# PostgreSQL (tests/pg.py): the server starts once, for the first test that asks for it.
@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the whole session (skips the test where it cannot start)."""
    try:
        import psycopg  # noqa: F401  (only whether it imports)
    except ImportError:
        pytest.skip("PostgreSQL tests need psycopg (pip install 'psycopg[binary]')")
    try:
        server = start_postgres()
    except PostgresUnavailable as e:
        pytest.skip(f"PostgreSQL cannot be started here: {e}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_server: PostgresServer) -> Iterator[str]:
    """A fresh, empty database on the session's server; dropped after the test."""
    name = pg_server.create_database()
    try:
        yield pg_server.url(name)
    finally:
        pg_server.drop_database(name)


@pytest.fixture
def two(pg_url: str) -> Iterator[tuple[Database, Database]]:
    """Two instances' handles (each its own engine and connections) on one fresh PostgreSQL database."""
    a, b = Database(pg_url), Database(pg_url)
    yield a, b
    a.close()
    b.close()


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
