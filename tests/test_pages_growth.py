"""A page check costs the same however many versions its story holds (the rule of ingest, for page checks).

Work is counted, not timed: the SQL statements and SQLite virtual-machine instructions (what reading rows
costs inside the database) of one check of a page that shows new paragraphs (new to the page, all already
in the story), at 10 and at 150 versions of the story.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, event

from monitor.service.pagecheck import PageOutcome
from monitor.service.pipeline import Pipeline
from monitor.store import pages as page_store
from monitor.store.db import Database
from tests.servers import FeedServer
from tests.support import Clock, SeedStory
from tests.support.growth import version
from tests.support.pages import T0, World, html, open_story


@dataclass
class Work:
    statements: int = 0
    vm_steps: int = 0
    on: bool = True


@contextmanager
def counting(db: Database) -> Iterator[Work]:
    """Count the statements and every SQLite VM instruction (fetching rows included) of what runs inside."""
    work = Work()

    def step() -> int:
        work.vm_steps += work.on  # the handler stays on the pooled connection: count only while inside
        return 0

    def on_begin(conn: Connection) -> None:
        conn.connection.dbapi_connection.set_progress_handler(step, 1)  # type: ignore[union-attr]

    def on_execute(*_: Any) -> None:
        work.statements += 1

    event.listen(db.engine, "begin", on_begin)
    event.listen(db.engine, "before_cursor_execute", on_execute)
    try:
        yield work
    finally:
        work.on = False
        event.remove(db.engine, "before_cursor_execute", on_execute)
        event.remove(db.engine, "begin", on_begin)


@pytest.fixture
def world(tmp_path: Path, feed_server: FeedServer) -> World:
    return World(feed_server, Clock(T0), tmp_path, {})


def check_the_page(world: World, p: Pipeline) -> tuple[PageOutcome, Work]:
    """Claim the story's page and check it, counting the check alone (not the tick's claim and sync, nor
    the pipeline's shutdown)."""
    world.clock.now += timedelta(seconds=4000)
    [page] = page_store.claim_due_pages(p.db, world.clock(), p.owner, 60.0)

    async def check() -> tuple[PageOutcome, Work]:
        try:
            with counting(p.db) as work:
                outcome = await p.pages.check(p.client, page, world.clock)
            return outcome, work
        finally:
            await p.aclose()

    return asyncio.run(check())


def test_a_page_check_does_not_read_more_as_the_story_grows(world: World, seed_story: SeedStory) -> None:
    p = open_story(world, seed_story.headline, seed_story.full, html(seed_story.headline, [seed_story.full]))
    world.later(p)
    least: dict[int, Work] = {}
    done = 0
    for size in (10, 150):
        for i in range(done, size):  # versions from other outlets' feeds (no page of their own to watch)
            res = p.ingestor.ingest(replace(version(seed_story, i), url=None), world.clock.now)
            assert res.seq == i + 2, f"version {i} went to another story: {res}"
        done = size
        runs = []
        for k in range(3):  # the least of three: a new pooled connection reads the schema once
            # The page now shows the text of a version the story already holds: new to the page, so it is
            # read and compared with the story; nothing new to the story, so no version.
            shown = version(seed_story, size - 1 - k).text.split("\n\n")
            world.server.set("/story", html(seed_story.headline, shown), content_type="text/html")
            outcome, work = check_the_page(world, p)
            assert outcome.result == "churn"
            runs.append(work)
        least[size] = Work(min(w.statements for w in runs), min(w.vm_steps for w in runs))
    small, big = least[10], least[150]
    assert big.statements == small.statements, (small, big)
    # Reading every version's text again on each check: 229 SQLite instructions at 10 versions, 1,349 at 150.
    assert big.vm_steps <= small.vm_steps * 1.1, (small, big)
