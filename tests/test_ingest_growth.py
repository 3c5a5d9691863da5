"""Ingest work per article does not grow with the story; the known text survives restarts,
other instances and the upgrade of an existing database.

Work is counted, not timed (timings live in bench/bench_ingest.py): SQL statements, SQLite virtual-machine
steps (what reading rows costs inside the database), sentence keys computed and sentences compared.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Connection, create_engine, event, select

from monitor.config import Config, parse_config
from monitor.core import text as textmod
from monitor.core.novelty import KnownText, compute_novelty
from monitor.service.ingest import Ingestor
from monitor.store.db import Database, _alembic_config
from monitor.store.schema import story_sentences
from tests.support import SeedStory
from tests.support.growth import version

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def config(tmp: Path) -> Config:
    raw = {"monitor": {"database": "sqlite://", "jitter": 0},
           "watchlists": [{"name": "other", "keywords": ["Zanzibar"]}]}  # fmt: skip
    return parse_config(raw, base=tmp)


@dataclass
class Work:
    statements: int = 0
    vm_steps: int = 0
    keys: int = 0


@contextmanager
def counting(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Work]:
    """Count the statements, SQLite VM steps (in hundreds) and sentence keys of what runs inside."""
    work = Work()

    def step() -> int:
        work.vm_steps += 1
        return 0

    def on_begin(conn: Connection) -> None:
        conn.connection.dbapi_connection.set_progress_handler(step, 100)  # type: ignore[union-attr]

    def on_execute(*_: Any) -> None:
        work.statements += 1

    real_key = textmod.sentence_key

    def key(sentence: str) -> str:
        work.keys += 1
        return real_key(sentence)

    event.listen(db.engine, "begin", on_begin)
    event.listen(db.engine, "before_cursor_execute", on_execute)
    monkeypatch.setattr(textmod, "sentence_key", key)
    try:
        yield work
    finally:
        monkeypatch.undo()
        event.remove(db.engine, "before_cursor_execute", on_execute)
        event.remove(db.engine, "begin", on_begin)


def grow(ing: Ingestor, seed: SeedStory, start: int, stop: int) -> None:
    for i in range(start, stop):
        res = ing.ingest(version(seed, i), NOW + timedelta(seconds=i))
        assert res.seq == i + 1, f"version {i} went to another story: {res}"


def test_work_per_article_does_not_grow_with_the_story(
    tmp_path: Path, seed_story: SeedStory, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = Database(f"sqlite:///{tmp_path / 'm.db'}")
    ing = Ingestor(config(tmp_path), db)
    least: dict[int, Work] = {}
    done = 0
    for size in (10, 150):  # no watchlist matches: the events written would differ, not the work
        grow(ing, seed_story, done, size)
        loaded = ing.known.loaded
        runs = []
        for i in range(size, size + 3):  # the least of three: a new pooled connection reads the schema once
            with counting(db, monkeypatch) as work:
                ing.ingest(version(seed_story, i), NOW + timedelta(seconds=i))
            runs.append(work)
        done = size + 3
        least[size] = Work(*(min(getattr(w, f) for w in runs) for f in ("statements", "vm_steps", "keys")))
        assert ing.known.loaded == loaded  # nothing re-read: the cache learnt every version
    small, big = least[10], least[150]
    assert big.statements == small.statements
    # The versions differ a little (how many of their own sentences turn out to be rewrites), the story
    # does not: reading every earlier version cost ~3,000 keys and ~15x the VM steps at 150 versions.
    assert big.keys <= small.keys * 1.2, (small, big)
    assert big.vm_steps <= small.vm_steps * 1.5 + 20, (small, big)
    db.close()


def test_sentences_compared_stay_bounded(seed_story: SeedStory) -> None:
    """Past a few hundred versions every word of the new sentences is in hundreds of known ones; the
    sentences compared per version level off instead of growing with the story (a full scan of the
    lists compared twice as many at 1,200 versions as at 550)."""
    known = KnownText()
    done = []
    for i in range(1200):
        art = version(seed_story, i)
        before = known.index.compared
        compute_novelty(known, art.title, art.text)
        done.append(known.index.compared - before)
        known.learn(art.title, art.text)
    assert len(known.sentences) > 3000

    def mean(a: int, b: int) -> float:
        return sum(done[a:b]) / (b - a)

    assert mean(100, 200) > 50  # the hard case is reached: many candidates per version
    assert mean(1100, 1200) <= 1.25 * mean(500, 600), (mean(500, 600), mean(1100, 1200))


def test_known_text_is_the_same_after_a_restart_and_across_instances(tmp_path: Path, seed_story: SeedStory) -> None:
    """A fresh instance reads the story's sentences from the database once; two instances taking turns
    catch up with each other's versions; the novelty is what one instance alone finds."""
    alone = KnownText()  # what the story holds: the raw sentences of every version, as the store keeps them
    solo = Ingestor(config(tmp_path), Database(f"sqlite:///{tmp_path / 'solo.db'}"))
    expected = []
    for i in range(13):
        art = version(seed_story, i)
        expected.append(solo.ingest(art, NOW + timedelta(seconds=i)).novelty)
        if i < 12:
            alone.learn(art.title, art.text)
    solo.db.close()
    url = f"sqlite:///{tmp_path / 'm.db'}"
    db_a, db_b = Database(url), Database(url)
    a, b = Ingestor(config(tmp_path), db_a), Ingestor(config(tmp_path), db_b)
    got = []
    for i in range(12):
        who = a if i % 3 else b
        got.append(who.ingest(version(seed_story, i), NOW + timedelta(seconds=i)).novelty)
    db_c = Database(url)
    fresh = Ingestor(config(tmp_path), db_c)
    restarted = fresh.ingest(version(seed_story, 12), NOW + timedelta(seconds=12))
    assert got == expected[:12]
    assert restarted.novelty == expected[12]
    assert fresh.known.loaded == len(alone.sentences)
    for db in (db_a, db_b, db_c):
        db.close()


def test_upgrade_backfills_the_stories_already_stored(tmp_path: Path, seed_story: SeedStory) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    db = Database(url)
    ing = Ingestor(config(tmp_path), db)
    grow(ing, seed_story, 0, 6)
    with db.read() as conn:
        written = [tuple(r) for r in conn.execute(select(story_sentences.c.seq, story_sentences.c.text))]
    db.close()
    engine = create_engine(url)
    with engine.begin() as conn:  # back to the schema before this table, then up again: the backfill
        cfg = _alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0003")
        command.upgrade(cfg, "head")
    with engine.connect() as conn:
        backfilled = [tuple(r) for r in conn.execute(select(story_sentences.c.seq, story_sentences.c.text))]
    engine.dispose()
    assert backfilled == written
    texts = [(seed_story.headline, version(seed_story, i).text) for i in range(6)]
    assert [t for _, t in written] == KnownText.of(texts).sentences
