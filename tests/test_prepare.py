"""An article's text worked out in a parse worker (``core.prepare``) changes nothing downstream: the memo
answers what the functions compute, and an ingest fed from it stores and reports exactly what one that
computed everything itself does (on real local news, and on one story grown past the bounded lookups).
The worker is a spawned process: its string hashes differ from ours, as a real parse worker's do."""

from __future__ import annotations

import json
import multiprocessing
import random
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.config import parse_config
from monitor.core import developing, facts, furniture, novelty, prepared, signals
from monitor.core import text as textmod
from monitor.core.model import Article
from monitor.core.prepare import prepare
from monitor.service.ingest import Ingestor, IngestResult
from monitor.store.db import Database

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)

TEXT = """BEIRUT, Dec 22 (Reuters) – At least 34,000 people were evacuated from eastern Aleppo, U.N. envoy Staffan \
de Mistura said on Thursday. "We will not leave our homes without guarantees," said Ahmad al-Dbis.

Photo: AFP/Getty Images

Check back for updates on this developing story. Follow us on Twitter @newsdesk.

Two people died and 12 were hurt when the convoy reached the Ramouseh crossing at 5 p.m. Sign up for our \
newsletter. The $2 million aid package, 35% of the request, arrived in Idlib."""


@pytest.fixture(autouse=True)
def empty_memo() -> Iterator[None]:
    prepared.forget()
    yield
    prepared.forget()


def in_worker(items: list[tuple[str, str, tuple[str, ...]]]) -> list[prepared.Prepared]:
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=ctx) as pool:
        return list(pool.map(_prepare, items, chunksize=64))


def _prepare(item: tuple[str, str, tuple[str, ...]]) -> prepared.Prepared:
    return prepare(*item)


def answers(title: str, body: str) -> dict[str, Any]:
    """What the functions the memo stands in for return on one article (sets as they iterate)."""
    sents = [title, *textmod.sentences(body)]
    return {
        "paragraphs": textmod.paragraph_sentences(body),
        "news": textmod.news_sentences_of(body),
        "markers": developing.developing_markers(title, body, ("LiveBlogPosting",)),
        "per sentence": [
            (
                textmod.sentence_key(s),
                list(novelty._analysed(s)[1]),  # iteration order: SentenceIndex breaks ties in it
                facts.extract_numbers(s),
                facts.extract_names(s),
                facts.extract_quotes(s),
                furniture.is_furniture(s),
                textmod.is_boilerplate(s),
                furniture.fingerprint(s),
            )
            for s in sents
        ],
    }


def test_the_memo_answers_what_the_functions_compute() -> None:
    title = "UPDATE 2-Thousands evacuated from Aleppo as convoy reaches Idlib"
    computed = answers(title, TEXT)
    [prep] = in_worker([(title, TEXT, ("LiveBlogPosting",))])
    assert prep.sentences[title].names  # the worker did work it out
    for cache in (novelty._analysed, textmod._paragraph_sentences, textmod._news_sentences_of):
        cache.cache_clear()  # answered from the memo below, not from these
    prepared.remember([(TEXT, prep)])
    assert prepared.TEXTS and prepared.SENTENCES
    assert answers(title, TEXT) == computed


def test_the_matcher_takes_the_workers_reading_unless_the_stream_repeats_a_sentence() -> None:
    title = "UPDATE 2-Thousands evacuated from Aleppo as convoy reaches Idlib"
    [ramouseh] = [s for s in textmod.news_sentences_of(TEXT) if "Ramouseh" in s]
    chrome = signals.sentence_hash(ramouseh)
    plain = signals.features(title, TEXT, None, None)
    without = signals.features(title, TEXT, None, None, lambda h: h == chrome)
    assert without.names < plain.names  # the repeated sentence's names are left out
    [prep] = in_worker([(title, TEXT, ())])
    assert prep.signals is not None
    prepared.remember([(TEXT, prep)])
    assert signals.features(title, TEXT, None, None, lambda h: h == chrome) == without  # computed here
    assert (title, TEXT) in prepared.SIGNALS
    assert signals.features(title, TEXT, None, None) == plain  # the worker's, with our own sentence hashes
    assert (title, TEXT) not in prepared.SIGNALS  # taken: read once an article


def gva_articles(limit: int) -> list[Article]:
    source = DATA / "gva_incidents" / "docs.jsonl"
    if not source.exists():
        pytest.skip(f"labelled data {source} is absent (the shared data folder sits beside the repository)")
    with source.open(encoding="utf-8") as fh:
        docs = [json.loads(line) for line in fh]
    docs.sort(key=lambda d: (d.get("dct") or "", d["doc_id"]))
    return [
        Article(d.get("source") or "gva", d["doc_id"], d.get("title") or "", d.get("text") or "", url=d.get("url"))
        for d in docs[:limit]
    ]


def one_story(versions: int) -> list[Article]:
    """Versions of one story from many outlets, in a small vocabulary: the bounded lookups' hard case."""
    who = ["Omar Haddad", "Lina Khalil", "Samir Nasser", "Rania Saleh", "Fadi Mansour"]
    where = ["convoy", "checkpoint", "hospital", "bridge", "market", "school", "depot", "camp"]
    base = TEXT.split("\n\n")[0]
    out = []
    for i in range(versions):
        rng = random.Random(i)
        own = [
            f"{rng.choice(who)} said the {rng.choice(where)} was closed near the {rng.choice(where)} where "
            f"{rng.randint(2, 400)} people waited."
            for _ in range(3)
        ]
        out.append(Article(f"outlet-{i}", f"v-{i}", "Aleppo evacuation", "\n\n".join([base, *own])))
    return out


def outcome(results: list[IngestResult]) -> list[tuple[Any, ...]]:
    ids: dict[str | None, int] = {}
    return [
        (r.status, ids.setdefault(r.story_id, len(ids)), r.seq, r.events, r.novelty, r.match.get("signal"))
        for r in results
    ]


def ingest_all(tmp: Path, name: str, articles: list[Article], memo: list[prepared.Prepared] | None) -> list[Any]:
    cfg = parse_config(
        {"monitor": {"database": "sqlite://", "jitter": 0}, "watchlists": [{"name": "w", "keywords": ["shot"]}]},
        base=tmp,
    )
    db = Database(f"sqlite:///{tmp / name}")
    ingestor = Ingestor(cfg, db)
    results = []
    for k in range(0, len(articles), 50):  # a poll's worth at a time, as the poller hands them over
        chunk = articles[k : k + 50]
        if memo is not None:
            prepared.remember(zip((a.text for a in chunk), memo[k : k + 50], strict=True))
        results += ingestor.ingest_many(chunk, lambda i=k: NOW + timedelta(minutes=i))
    db.close()
    prepared.forget()
    return outcome(results)


@pytest.mark.data
def test_an_ingest_fed_from_the_memo_decides_and_reports_the_same(tmp_path: Path) -> None:
    articles = gva_articles(600) + one_story(220)
    preps = in_worker([(a.title, a.text, a.html_markers) for a in articles])
    plain = ingest_all(tmp_path, "plain.db", articles, None)
    fed = ingest_all(tmp_path, "fed.db", articles, preps)
    assert sum(r[0] == "new-version" for r in plain) > 220  # versions of stories, not only first sightings
    assert fed == plain
