"""What a hostile or broken feed sends cannot hurt the daemon (issue 14): errors cross the worker-process
boundary intact, a dead parse worker costs one feed one poll, entity tricks are refused by a real XML
tokenizer, one bad item never sinks the rest, and a huge feed is taken a slice at a time.

Polling cases run against real feed servers on 127.0.0.1 (tests/servers.py) and a real SQLite file.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import pickle
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

from monitor import errors
from monitor.service.pipeline import Pipeline
from monitor.store.db import Database
from tests.servers import FeedServer, rss
from tests.test_feeds_poll import Clock, make_config, poll, state


def items(n: int, prefix: str = "Item", words: int = 5) -> list[dict[str, str]]:
    filler = " ".join(f"word{w}" for w in range(words))
    return [
        {
            "title": f"{prefix} {i} about harbour number {i}",
            "link": f"http://news.test/{prefix.lower()}/{i}",
            "description": f"<p>{prefix} {i} said {filler}.</p>",
        }
        for i in range(n)
    ]


# -- item 2: errors cross process boundaries; a broken parse pool is rebuilt --------------------------------

SAMPLES: dict[type[errors.MonitorError], errors.MonitorError] = {
    errors.MonitorError: errors.MonitorError("plain"),
    errors.ConfigError: errors.ConfigError("monitor.toml", ["a: bad", "b: worse"]),
    errors.SourceError: errors.SourceError("feed 'x'", "broken"),
    errors.FetchError: errors.FetchError("feed 'x'", "503", status=503, retry_after=30.0),
    errors.FeedParseError: errors.FeedParseError("feed 'x'", "not a feed"),
    errors.SeedFileError: errors.SeedFileError("seed file a.txt", "not UTF-8"),
    errors.StoreError: errors.StoreError("database gone"),
    errors.DeliveryError: errors.DeliveryError("desk", "HTTP 400", status=400, permanent=True),
}


def test_every_error_class_survives_pickle() -> None:
    classes = {c for _, c in inspect.getmembers(errors, inspect.isclass) if issubclass(c, errors.MonitorError)}
    for cls in classes:
        # A class added to errors.py without a sample here is checked with the generic base constructor.
        error = SAMPLES.get(cls) or cls.__new__(cls, "generic")
        back = pickle.loads(pickle.dumps(error))
        assert type(back) is cls
        assert str(back) == str(error)
        assert back.__dict__ == error.__dict__


LOGIN_PAGE = "<!doctype html><html><head><title>Sign in</title></head><body><form>" + (
    "<input name='x' value='y'><p>Please sign in to continue.</p>" * 700
) + "</form></body></html>"


def test_a_login_page_next_to_a_big_feed_does_not_break_parsing(tmp_path: Path, feed_server: FeedServer) -> None:
    assert len(LOGIN_PAGE) > 40_000  # over POOL_MIN_BYTES: parsed in the worker process
    feed_server.set("/login", LOGIN_PAGE, content_type="text/html")
    feed_server.set("/big", rss(items(120, words=40)))
    config = make_config(
        tmp_path, {"login": feed_server.url("/login"), "big": feed_server.url("/big")}, parse_processes=1
    )
    clock = Clock()
    poll(config, clock)
    assert "not an RSS/Atom/RDF/JSON feed" in (state(config, "login").last_error or "")
    # The same pool serves the next polls of the same daemon: poll twice more in one pipeline.
    outcomes = polls_in_one_pipeline(
        config,
        clock,
        [
            lambda _: feed_server.set("/big", rss(items(150, words=40))),
            lambda _: feed_server.set("/big", rss(items(160, words=40))),
        ],
    )
    big = [o for o in outcomes if o.feed == "big"]
    assert [o.result for o in big] == ["changed", "changed"], big
    assert state(config, "big").status == "ok"


def polls_in_one_pipeline(config: Any, clock: Clock, before_each: list[Callable[[Pipeline], None]]) -> list[Any]:
    """One pipeline (one parse pool), one poll of every feed after each step."""

    async def run() -> list[Any]:
        pipeline = Pipeline(config, Database(config.monitor.database), clock=clock)
        outcomes: list[Any] = []
        try:
            pipeline.sync_feeds()
            for step in before_each:
                step(pipeline)
                outcomes += await pipeline.poll_due(every_feed=True)
            return outcomes
        finally:
            await pipeline.aclose()
            pipeline.poller.close()
            pipeline.db.close()

    return asyncio.run(run())


def kill_parse_workers(pipeline: Pipeline) -> None:
    pool = pipeline.poller._pool()
    assert pool is not None
    pool.submit(int).result()  # the worker processes exist once a task ran
    for pid in list(getattr(pool, "_processes", {})):
        os.kill(pid, signal.SIGKILL)


def test_a_killed_parse_worker_costs_one_feed_one_poll(tmp_path: Path, feed_server: FeedServer) -> None:
    config = make_config(tmp_path, {"big": feed_server.url("/big")}, parse_processes=1)

    def serve(n: int, kill: bool = False) -> Callable[[Pipeline], None]:
        def step(pipeline: Pipeline) -> None:
            feed_server.set("/big", rss(items(n, words=40)))
            if kill:
                kill_parse_workers(pipeline)

        return step

    outcomes = polls_in_one_pipeline(config, Clock(), [serve(120), serve(130, kill=True), serve(140), serve(150)])
    assert [o.result for o in outcomes] == ["changed", "error", "changed", "changed"], outcomes
    assert "parse worker process died" in (outcomes[1].error or "")
