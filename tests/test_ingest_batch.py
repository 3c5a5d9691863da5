"""A poll's articles decided in batches (``Ingestor.ingest_many``): the same decisions as one by one, and a
failing article rolls back nothing but itself."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select

from monitor.config import Config, parse_config
from monitor.core.model import Article
from monitor.errors import StoreError
from monitor.service.ingest import BATCH, Ingestor, IngestResult
from monitor.store.db import Database
from monitor.store.schema import articles, story_sentences
from tests.support import SeedStory

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def config(tmp: Path) -> Config:
    raw = {"monitor": {"database": "sqlite://", "jitter": 0},
           "watchlists": [{"name": "syria", "keywords": ["Aleppo", "Idlib"]}]}  # fmt: skip
    return parse_config(raw, base=tmp)


def stream(seed: SeedStory) -> list[Article]:
    """The flash, unrelated items, the long version (joins the flash), the flash again (unchanged), more."""
    other = [
        Article("local", f"o-{i}", f"Council approves budget for district {i}",
                f"The council of district {i} approved a budget of {i * 7} million for roads and schools "
                f"on Monday after a long debate about parking in ward {i}.")
        for i in range(BATCH + 5)
    ]  # fmt: skip
    flash = Article("wire", "w-1", seed.headline, seed.flash, url="http://wire.test/aleppo")
    full = Article("news", "n-7", "Syria retakes Aleppo; U.N. warns on Idlib", seed.full, url="http://news.test/a")
    return [flash, *other[:10], full, flash, *other[10:]]


def clock_from(start: datetime) -> Any:
    ticks = iter(range(10**6))
    return lambda: start + timedelta(seconds=next(ticks))


def summary(results: list[IngestResult]) -> list[tuple[Any, ...]]:
    """What was decided, with story ids replaced by their order of appearance."""
    names: dict[str | None, int] = {}
    return [(r.status, names.setdefault(r.story_id, len(names)), r.seq, r.novelty, r.events) for r in results]


def test_batches_decide_as_one_by_one(tmp_path: Path, seed_story: SeedStory) -> None:
    items = stream(seed_story)
    one_db = Database(f"sqlite:///{tmp_path / 'one.db'}")
    one = Ingestor(config(tmp_path), one_db)
    clock = clock_from(NOW)
    expected = [one.ingest(a, clock()) for a in items]
    many_db = Database(f"sqlite:///{tmp_path / 'many.db'}")
    many = Ingestor(config(tmp_path), many_db)
    got = many.ingest_many(items, clock_from(NOW))
    assert summary(got) == summary(expected)
    assert [r.status for r in got][11:13] == ["new-version", "unchanged"]  # the long version joined the flash
    for db in (one_db, many_db):
        db.close()


def test_a_failing_article_rolls_back_only_itself(tmp_path: Path, seed_story: SeedStory) -> None:
    db = Database(f"sqlite:///{tmp_path / 'm.db'}")
    ing = Ingestor(config(tmp_path), db)
    items = stream(seed_story)
    bad = Article("local", "bad", "Broken", "A sentence that the database will refuse to store today.")
    batch = [*items[:5], bad, *items[5:]]

    def refuse(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        # The bad item's GUID as a whole value: a substring test also hit random hex ids holding "bad".
        values = params.values() if isinstance(params, dict) else params
        if statement.startswith("INSERT INTO articles") and "bad" in tuple(values):
            raise sqlite3.OperationalError("disk on fire")

    event.listen(db.engine, "before_cursor_execute", refuse)
    with pytest.raises(StoreError, match="disk on fire"):
        ing.ingest_many(batch, clock_from(NOW))
    event.remove(db.engine, "before_cursor_execute", refuse)
    with db.read() as conn:
        stored = conn.execute(select(func.count()).select_from(articles)).scalar_one()
        held = conn.execute(select(func.count()).select_from(story_sentences)).scalar_one()
    assert stored == 5  # those before the bad one, ingested again one by one; nothing of the rolled-back batch
    # The in-memory indexes forgot the rolled-back batch: the rest goes on as if the bad one had never come.
    rest = ing.ingest_many(items[5:], clock_from(NOW + timedelta(minutes=5)))
    assert [r.status for r in rest][6:8] == ["new-version", "unchanged"]
    assert rest[6].seq == 2 and rest[6].novelty is not None and rest[6].novelty.added
    assert held > 0
    db.close()


def test_a_new_story_costs_a_few_statements(tmp_path: Path) -> None:
    """Most articles of a first poll open a story: one read of what is stored of them, then the writes
    (story once, article, sentences, version) and the outlet's furniture; no read-back of the story row."""
    db = Database(f"sqlite:///{tmp_path / 'n.db'}")
    ing = Ingestor(config(tmp_path), db)
    topics = [
        ("Ferry strike halts crossings to Brindle Island", "Ferry crews walked out over pay at dawn."),
        ("Glacier museum opens in Vaskor", "The museum shows ice cores drilled by Norwegian teams."),
        ("Violin stolen from Lintmoor concert hall", "Detectives said the instrument was insured."),
        ("Orchard frost ruins apple harvest near Quell", "Growers lost most blossoms in two cold nights."),
        ("Tunnel boring machine reaches Caldo station", "Engineers finished the second bore ahead of plan."),
        ("Lantern festival draws record crowd in Opelly", "Organisers counted paper lanterns over the river."),
        ("Quarry blast cracks windows in Redgate village", "Residents complained about dust and noise."),
        ("Canyon rescue team saves hiker on Morrow trail", "A helicopter lifted the injured climber out."),
        ("Meadow wildflower survey finds rare orchid", "Botanists logged the species for the first time."),
        ("Harbour crane collapse injures dock worker", "Inspectors closed berth four pending an inquiry."),
    ]
    items = [Article("local", f"n-{i}", title, f"{lede} {title}, officials confirmed on Monday.")
             for i, (title, lede) in enumerate(topics)]  # fmt: skip
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if not statement.startswith(("BEGIN", "SAVEPOINT", "RELEASE")):
            seen.append(statement.split(None, 3)[2] if statement.startswith("INSERT") else statement[:30])

    ing.ingest_many(items[:2], clock_from(NOW))  # the match index and the connection warmed up
    event.listen(db.engine, "before_cursor_execute", count)
    results = ing.ingest_many(items[2:], clock_from(NOW + timedelta(hours=1)))
    event.remove(db.engine, "before_cursor_execute", count)
    assert [r.status for r in results] == ["new-story"] * 8
    per_article = len(seen) / 8
    assert per_article <= 7.5, seen  # 12 before: four reads of what is stored, and insert, read, update the story
    assert seen.count("stories") == 8  # one INSERT per new story, no UPDATE
    db.close()
