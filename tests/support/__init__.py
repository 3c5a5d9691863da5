"""What many test modules share, defined once: paths, the seed story, the CLI runner, an injected clock,
a poll-until helper and the pipeline factory. Fixtures are in tests/conftest.py; helpers of one topic are in
the modules beside this one (``tests.support.pages``, ``.web``, ...). Test modules import from here, never
from each other.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from monitor.config import Config, parse_config
from monitor.service.pipeline import Pipeline
from monitor.store.db import Database

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "seeds" / "000_900818fe0882e21f.txt"
DATA = REPO.parent / "shared" / "data"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # the Standard Webhooks spec's example key


@dataclass(frozen=True)
class SeedStory:
    headline: str
    flash: str  # the first paragraphs, up to "Check back for updates on this developing story."
    full: str  # the whole body


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


@dataclass
class Clock:
    """The time the code under test reads (``Pipeline(clock=...)``): it moves only when the test moves it."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now


def wait_for(predicate: Callable[[], bool], timeout: float = 30, every: float = 0.2) -> bool:
    """Whether ``predicate`` came true within ``timeout`` seconds: for another process (a daemon, a server)
    whose progress the test can only observe. Code in this process takes an injected ``Clock`` instead."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return False


def pipeline_for(
    config: Config, clock: Callable[[], datetime] | None = None, *, client: httpx.AsyncClient | None = None
) -> Pipeline:
    """A pipeline on ``config``'s database, reading ``clock`` if given (else the real one)."""
    db = Database(config.monitor.database)
    return Pipeline(config, db, clock=clock, client=client) if clock else Pipeline(config, db, client=client)


def make_pipeline(
    tmp: Path, raw: dict[str, Any], clock: Callable[[], datetime] | None = None, *, sync_feeds: bool = False
) -> Pipeline:
    """A pipeline on the config ``raw`` (paths relative to ``tmp``), with ``clock`` if given."""
    p = pipeline_for(parse_config(raw, base=tmp), clock)
    if sync_feeds:
        p.sync_feeds()
    return p
