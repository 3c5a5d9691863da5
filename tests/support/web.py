"""The seed scenario as stories in a real SQLite database, and the web app over it (tests of web, metrics,
browser)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from monitor.config import parse_config
from monitor.service import http as http_listener
from monitor.service import metrics
from monitor.service.pipeline import Pipeline
from monitor.store import stories as story_store
from monitor.store.db import Database
from monitor.web.app import create_app
from tests.support import SeedStory

T0 = datetime(2024, 1, 5, 9, 0, tzinfo=UTC)


MARKETS = (
    "Stocks edge higher as investors weigh central bank comments\n\n"
    "Shares rose modestly on Tuesday in New York as traders weighed comments from central bank officials. "
    "The benchmark index gained 0.4 percent.\n"
)


@dataclass
class Built:
    db: Database
    story_id: str  # the Aleppo story: flash, then the long version
    other_id: str  # a markets story, in another watchlist
    clock: Callable[[], datetime]
    tmp: Path


def build_stories(tmp: Path, seed: SeedStory) -> Built:
    """The seed scenario through the pipeline: flash (T0), a markets story (T0+30m), long version (T0+1h)."""
    seeds = tmp / "seeds"
    seeds.mkdir(exist_ok=True)
    raw = {
        "monitor": {"database": "sqlite:///web.db", "seeds_dir": "seeds"},
        "watchlists": [
            {"name": "syria", "keywords": ["Aleppo", "Idlib"]},
            {"name": "markets", "keywords": ["benchmark index"], "developing_only": False},
        ],
    }
    config = parse_config(raw, base=tmp)
    db = Database(config.monitor.database)
    now = [T0]
    pipeline = Pipeline(config, db, clock=lambda: now[0])
    (seeds / "aleppo.txt").write_text(f"{seed.headline}\n\n{seed.flash}\n", encoding="utf-8")
    pipeline.scan_seeds()
    now[0] = T0 + timedelta(minutes=30)
    (seeds / "markets.txt").write_text(MARKETS, encoding="utf-8")
    pipeline.scan_seeds()
    now[0] = T0 + timedelta(hours=1)
    (seeds / "aleppo.txt").write_text(f"Syria's army retakes all of Aleppo\n\n{seed.full}\n", encoding="utf-8")
    pipeline.scan_seeds()
    by_title = {s.title: s.id for s in story_store.list_stories(db)}
    now[0] = T0 + timedelta(hours=2)
    return Built(
        db,
        by_title["Syria's army retakes all of Aleppo"],
        by_title[MARKETS.split("\n")[0]],
        lambda: now[0],
        tmp,
    )


def get(app: Any, path: str, method: str = "GET") -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as client:
            return await client.request(method, path)

    return asyncio.run(go())


def app_for(b: Built, **kwargs: Any) -> Any:
    registry = metrics.registry_for(b.db, b.clock, base=metrics.Metrics())
    return create_app(b.db, clock=b.clock, registry=registry, **kwargs)


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """The real uvicorn listener on 127.0.0.1 (a free port), in a thread with its own event loop."""
    loop = asyncio.new_event_loop()
    listener = http_listener.build(app, "127.0.0.1", 0)
    started = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(listener.start())
        started.set()
        loop.run_forever()  # until the test is done; stop() runs in this loop too

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert started.wait(10), "listener did not start"
    try:
        yield listener.url
    finally:
        asyncio.run_coroutine_threadsafe(listener.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
