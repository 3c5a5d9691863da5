"""Polling feeds through the real poll path, for the tests of feeds, feed events and full text."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from monitor.config import Config, parse_config
from monitor.service.pipeline import Pipeline
from monitor.service.polling import PollOutcome
from monitor.store import feed_state
from monitor.store.db import Database
from tests.support import Clock, pipeline_for

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


def make_config(tmp: Path, feeds: dict[str, str], **monitor: Any) -> Config:
    raw: dict[str, Any] = {
        "monitor": {"database": "sqlite:///monitor.db", "poll_interval": "10m", "jitter": 0, **monitor},
        "feeds": [{"name": n, "url": u} for n, u in feeds.items()],
    }
    return parse_config(raw, base=tmp)


def poll(config: Config, clock: Clock, client: httpx.AsyncClient | None = None) -> list[PollOutcome]:
    async def run() -> list[PollOutcome]:
        pipeline = pipeline_for(config, clock, client=client)
        try:
            pipeline.sync_feeds()
            return await pipeline.poll_due(every_feed=True)
        finally:
            await pipeline.aclose()
            pipeline.poller.close()
            pipeline.db.close()

    return asyncio.run(run())


def state(config: Config, name: str) -> feed_state.FeedState:
    db = Database(config.monitor.database)
    try:
        found = feed_state.get_feed(db, name)
        assert found is not None
        return found
    finally:
        db.close()


def poll_due(p: Pipeline) -> Any:
    """One poll of every feed, due or not, by the pipeline ``p``."""

    async def go() -> Any:
        try:
            return await p.poll_due(every_feed=True)
        finally:
            await p.aclose()

    return asyncio.run(go())
