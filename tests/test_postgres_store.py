"""Several instances on one database: leases that exclude and expire, and story decisions that
stay single when two instances ingest about the same story at the same moment.

Each "instance" is its own ``Database`` (its own engine and connections) and ``Ingestor`` (its own match
index), as two processes would have. The lease tests run on a real PostgreSQL; the ingest race runs on
both backends.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select

from monitor.config import Config, parse_config
from monitor.core.model import Article
from monitor.service.ingest import Ingestor
from monitor.store import feed_state, outbox
from monitor.store import stories as story_store
from monitor.store.db import LOCK_INGEST, Database
from monitor.store.schema import articles, events, stories, versions
from tests.support import SeedStory

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
postgres = pytest.mark.postgres


def config(tmp: Path) -> Config:
    raw = {"monitor": {"database": "sqlite://", "jitter": 0},
           "watchlists": [{"name": "syria", "keywords": ["Aleppo", "Idlib"]}]}  # fmt: skip
    return parse_config(raw, base=tmp)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shared.db'}"
    return str(request.getfixturevalue("pg_url"))


def race(dbs: tuple[Database, ...], claim: Callable[[Database, str], list[str]]) -> dict[str, list[str]]:
    """One thread per database handle, started together, each claiming batches until none is left."""
    claims: dict[str, list[str]] = {}
    start = threading.Barrier(len(dbs))

    def worker(db: Database, owner: str) -> None:
        start.wait()
        got: list[str] = []
        while batch := claim(db, owner):
            got += batch
        claims[owner] = got

    threads = [threading.Thread(target=worker, args=(db, f"i{n}")) for n, db in enumerate(dbs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return claims


# --- feed leases ---------------------------------------------------------------------------------------


@postgres
def test_concurrent_feed_claims_are_disjoint(two: tuple[Database, Database]) -> None:
    a, b = two
    feed_state.sync_feeds(a, [(f"f{i:03d}", f"http://127.0.0.1/{i}", 60) for i in range(200)], NOW)
    claims = race((a, b, a, b), lambda db, owner: [f.name for f in feed_state.claim_due_feeds(db, NOW, owner, 300, 7)])
    everything = [name for got in claims.values() for name in got]
    assert sorted(everything) == [f"f{i:03d}" for i in range(200)]  # each feed once, none left out
    assert sum(1 for got in claims.values() if got) >= 2, "one instance took everything"


@postgres
def test_a_dead_instances_feed_lease_expires_and_its_late_record_is_ignored(
    two: tuple[Database, Database],
) -> None:
    a, b = two
    feed_state.sync_feeds(a, [("wire", "http://127.0.0.1/wire", 60)], NOW)
    assert [f.name for f in feed_state.claim_due_feeds(a, NOW, "dead", lease=30)] == ["wire"]
    assert feed_state.claim_due_feeds(b, NOW + timedelta(seconds=29), "alive", lease=30) == []
    taken = feed_state.claim_due_feeds(b, NOW + timedelta(seconds=31), "alive", lease=30)
    assert [f.name for f in taken] == ["wire"]
    later = NOW + timedelta(minutes=5)
    feed_state.record_poll(a, "wire", "dead", next_poll_at=later, last_error="stale")  # lost its lease
    feed_state.record_poll(b, "wire", "alive", next_poll_at=later + timedelta(minutes=1), last_error=None)
    state = feed_state.get_feed(a, "wire")
    assert state is not None and state.last_error is None and state.next_poll_at == later + timedelta(minutes=1)


@postgres
def test_a_claim_that_waited_past_its_lease_is_fenced_off_before_fetching(two: tuple[Database, Database]) -> None:
    """The CI failure of the scale test: a claimed feed queued behind its host's limit past the lease, another
    instance took it and polled it, then the first one fetched it too (two polls 0.9 s apart)."""
    a, b = two
    feed_state.sync_feeds(a, [("wire", "http://127.0.0.1/wire", 60)], NOW)
    assert [f.name for f in feed_state.claim_due_feeds(a, NOW, "slow", lease=30)] == ["wire"]
    late = NOW + timedelta(seconds=31)
    assert [f.name for f in feed_state.claim_due_feeds(b, late, "quick", lease=30)] == ["wire"]
    assert feed_state.mark_fetching(b, "wire", "quick", late, interval=60, lease=30)
    assert not feed_state.mark_fetching(a, "wire", "slow", late + timedelta(seconds=1), interval=60, lease=30)
    # An expired lease nobody took is still ours: the fence renews it, so no one can claim it mid-fetch.
    feed_state.record_poll(b, "wire", "quick", next_poll_at=NOW)
    assert [f.name for f in feed_state.claim_due_feeds(a, NOW, "slow", lease=30)] == ["wire"]
    assert feed_state.mark_fetching(a, "wire", "slow", late, interval=60, lease=30)
    assert feed_state.claim_due_feeds(b, late + timedelta(seconds=29), "quick", lease=30, every_feed=True) == []


@postgres
def test_instances_starting_together_insert_each_feed_once(two: tuple[Database, Database]) -> None:
    feeds = [(f"f{i}", f"http://127.0.0.1/{i}", 60) for i in range(50)]
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def sync(db: Database) -> None:
        start.wait()
        try:
            feed_state.sync_feeds(db, feeds, NOW)
        except BaseException as e:  # the assertion below shows it
            errors.append(e)

    threads = [threading.Thread(target=sync, args=(db,)) for db in (*two, *two)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(feed_state.feed_states(two[0])) == 50


# --- delivery leases -----------------------------------------------------------------------------------


@postgres
def test_concurrent_delivery_claims_are_disjoint_and_expire(two: tuple[Database, Database]) -> None:
    a, b = two
    with story_store.ingest_transaction(a) as tx:
        for i in range(60):  # one event per story: per-story ordering does not hold any back
            tx.create_story(f"st_{i}", f"story {i}", None, NOW)
            tx.insert_event(f"evt_{i}", "story.opened", f"st_{i}", 1, NOW, {"id": f"evt_{i}"}, ("desk",))
    claims = race((a, b, a, b), lambda db, owner: [d.event_id for d in outbox.claim_due(db, NOW, owner, 120, 5)])
    everything = sorted(e for got in claims.values() for e in got)
    assert everything == sorted(f"evt_{i}" for i in range(60))
    # Nobody marked them: after the lease, another instance sends them (same ids: at-least-once).
    assert outbox.claim_due(b, NOW + timedelta(seconds=119), "late", 120) == []
    assert len(outbox.claim_due(b, NOW + timedelta(seconds=121), "late", 120, limit=100)) == 60


# --- the ingest race -------------------------------------------------------------------------------------


def _articles(seed: SeedStory) -> tuple[Article, Article]:
    flash = Article("wire", "wire-1", seed.headline, seed.flash, url="http://wire.test/aleppo")
    full = Article("news", "news-7", "Syria's army retakes all of Aleppo; U.N. warns Idlib may be next",
                   seed.full, url="http://news.test/world/aleppo-full")  # fmt: skip
    return flash, full


def pause_before_the_ingest_lock(db: Database) -> tuple[threading.Event, threading.Event]:
    """Two events for ``db``'s next ingest: the first is set when it is about to take the ingest lock (its
    catch-up outside the lock is done), then it waits until the test sets the second. An engine hook, so the
    test orders the two instances by events, not by sleeping and hoping."""
    at_lock, go_on = threading.Event(), threading.Event()

    def hook(conn: Any, cursor: Any, statement: str, params: Any, context: Any, executemany: bool) -> None:
        taking = statement == "BEGIN IMMEDIATE" or (  # SQLite: the write lock; PostgreSQL: the advisory lock
            "pg_advisory_xact_lock" in statement and LOCK_INGEST in dict(params or {}).values()
        )
        if taking and not at_lock.is_set():
            at_lock.set()
            assert go_on.wait(30), "the test never let the paused ingest go on"

    event.listen(db.engine, "before_cursor_execute", hook)
    return at_lock, go_on


def test_an_article_committed_while_waiting_for_the_lock_is_matched(
    url: str, tmp_path: Path, seed_story: SeedStory
) -> None:
    """Instance A has caught up and is about to take the ingest lock when instance B stores the flash of a
    story. A then ingests the long version: it must join B's story, not open a second one (the catch-up
    outside the lock alone would have missed B's article)."""
    cfg = config(tmp_path)
    db_a, db_b = Database(url), Database(url)
    a, b = Ingestor(cfg, db_a), Ingestor(cfg, db_b)
    flash, full = _articles(seed_story)
    results = []
    try:
        at_lock, go_on = pause_before_the_ingest_lock(db_a)
        racer = threading.Thread(target=lambda: results.append(a.ingest(full, NOW + timedelta(minutes=5))))
        racer.start()
        assert at_lock.wait(30), "A never came to the ingest lock"
        opened = b.ingest(flash, NOW)
        go_on.set()
        racer.join(timeout=30)
        assert opened.status == "new-story"
        assert [r.status for r in results] == ["new-version"]
        assert results[0].story_id == opened.story_id
        with db_a.read() as conn:
            assert conn.execute(select(func.count()).select_from(stories)).scalar_one() == 1
    finally:
        db_a.close()
        db_b.close()


TOPICS = [
    ("Aleppo", "Government forces retook the eastern districts of Aleppo after a four-year siege.",
     "The United Nations said 34,000 civilians had been evacuated to Idlib province.",
     "Buses carrying rebel fighters left the Ramouseh crossing; {n} convoys waited at checkpoints."),
    ("Reykjanes", "A volcanic fissure opened near Grindavik on the Reykjanes peninsula late on Monday.",
     "Iceland's Met Office measured lava fountains reaching 80 metres above the crater row.",
     "Geologists recorded {n} earthquakes beneath Svartsengi as magma kept flowing north."),
    ("Frankfurt", "The European Central Bank raised its deposit rate by half a point to 3.5 percent.",
     "President Christine Lagarde told reporters in Frankfurt that inflation remained far too high.",
     "Bund yields jumped {n} basis points while the euro strengthened against sterling."),
    ("Valparaiso", "Wildfires tore through hillside neighbourhoods of Vina del Mar near Valparaiso.",
     "Chile's interior minister Carolina Toha said 112 people had died and 1,600 homes had burned.",
     "Firefighting aircraft dropped retardant on {n} hectares of eucalyptus plantations at Quilpue."),
]  # fmt: skip


def _story_articles(k: int, n: int) -> list[Article]:
    """Story ``k`` told in ``n`` growing versions by different sources (each version adds a sentence)."""
    place, first, second, more = TOPICS[k]
    lines = [first, second]
    out = []
    for v in range(n):
        lines.append(more.format(n=17 * (v + 1) + k))
        out.append(Article(f"src{v % 3}", f"{place}-{v}", first.split(",")[0], "\n\n".join(lines),
                           url=f"http://news.test/{place}/{v}"))  # fmt: skip
    return out


def test_instances_ingesting_at_once_keep_one_story_and_a_clean_sequence(url: str, tmp_path: Path) -> None:
    cfg = config(tmp_path)
    per_story = 6
    todo = [_story_articles(k, per_story) for k in range(4)]
    instances = [Ingestor(cfg, Database(url)) for _ in range(3)]
    try:
        start = threading.Barrier(len(instances))
        errors: list[BaseException] = []

        def run(i: int) -> None:
            start.wait()
            try:  # instance i takes every third version of every story: the versions interleave across instances
                for v in range(per_story):
                    for k, story in enumerate(todo):
                        if (v + k) % len(instances) == i:
                            instances[i].ingest(story[v], NOW + timedelta(seconds=v))
            except BaseException as e:
                errors.append(e)

        threads = [threading.Thread(target=run, args=(i,)) for i in range(len(instances))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        db = instances[0].db
        with db.read() as conn:
            by_story = conn.execute(select(versions.c.story_id, versions.c.seq).order_by(versions.c.story_id)).all()
            n_articles = conn.execute(select(func.count()).select_from(articles)).scalar_one()
            event_seqs = conn.execute(select(events.c.story_id, events.c.story_seq)).all()
            counts = dict(conn.execute(select(stories.c.id, stories.c.version_count)).all())
            topic_story = dict(conn.execute(select(articles.c.guid, articles.c.story_id)).all())
        seqs: dict[str, list[int]] = {}
        for story_id, seq in by_story:
            seqs.setdefault(story_id, []).append(seq)
        assert n_articles == 4 * per_story  # no lost version
        for k in range(4):  # no duplicate story: every version of a topic landed in one story
            homes = {topic_story[a.guid] for a in todo[k]}
            assert len(homes) == 1, f"topic {k} split over {homes}: {seqs}"
        # (Two topics in one story would be a matching error, which the matcher's own tests and backtests
        # measure; this test is about concurrency, so it checks the sequence of whatever story they are in.)
        for story_id, got in seqs.items():
            assert sorted(got) == list(range(1, len(got) + 1)), f"duplicate or missing seq in {story_id}: {got}"
            assert counts[story_id] == len(got)
        per_story_events: dict[str, list[int]] = {}
        for story_id, seq in event_seqs:
            per_story_events.setdefault(story_id, []).append(seq)
        for got in per_story_events.values():
            assert sorted(got) == list(range(1, len(got) + 1))
    finally:  # closed even when an assertion fails: a leaked connection would break the next test
        for ing in instances:
            ing.db.close()


@postgres
def test_batched_fences_and_records_answer_each_feed_in_the_callers_order(two: tuple[Database, Database]) -> None:
    a, b = two
    feed_state.sync_feeds(a, [(n, f"http://127.0.0.1/{n}", 60) for n in ("w1", "w2", "w3")], NOW)
    assert sorted(f.name for f in feed_state.claim_due_feeds(a, NOW, "a", lease=30, limit=2)) == ["w1", "w2"]
    assert [f.name for f in feed_state.claim_due_feeds(b, NOW, "b", lease=30)] == ["w3"]
    fences = [("w3", NOW, 60.0, 30.0), ("w2", NOW, 60.0, 30.0), ("w1", NOW, 60.0, 30.0)]
    assert feed_state.mark_fetching_many(a, "a", fences) == [False, True, True]  # w3 is b's
    later = NOW + timedelta(minutes=1)
    feed_state.record_polls(a, "a", [("w2", {"next_poll_at": later}), ("w1", {"next_poll_at": later})])
    feed_state.record_polls(a, "a", [("w3", {"next_poll_at": NOW, "last_error": "stale"})])  # not a's lease
    states = {f.name: f for f in feed_state.feed_states(a)}
    assert states["w1"].next_poll_at == states["w2"].next_poll_at == later
    assert states["w3"].last_error is None  # a's late record of b's feed was ignored
    assert feed_state.mark_fetching(b, "w3", "b", NOW, 60, 30)  # and b still holds its lease
