"""Novelty measured on real data; used by bench/bench_novelty.py and tests/test_novelty_data.py.

``article_pages``: every page of ../shared/data/article_pages goes through the daemon's own path: its main
text is extracted (``sources.fulltext.extract_main_text``, trafilatura) and ingested by a real ``Ingestor``
on a SQLite file as two versions of one feed item: version 1 = the first half of the text's paragraphs,
version 2 = the whole text. The events written to the outbox are read back, and every sentence the
payloads report as added (``story.opened`` and ``story.updated``) and every reported name is looked up
in the body the annotators wrote. Pages keep their real URL, so furniture is learnt per real host.

``furniture_sample``: tests/data/furniture_sample.tsv labels sentences of gva_incidents documents
(ids into the data and a hash, never the text) as furniture, news or unclear; the filter's precision and
recall are counted on the furniture/news ones, by its patterns alone and with what repetition would have
taught it (the outlet's sentences counted over all 3,160 documents, incidents standing for stories).

Nothing of the data is copied: it is read at run time.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import json
import re
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from monitor.config import parse_config
from monitor.core import furniture
from monitor.core import text as textmod
from monitor.core.model import Article
from monitor.service.ingest import Ingestor
from monitor.sources.fulltext import extract_main_text
from monitor.store.db import Database
from monitor.store.schema import events

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
SAMPLE = REPO / "tests" / "data" / "furniture_sample.tsv"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.S | re.I)


@dataclass(frozen=True)
class Page:
    id: str
    url: str
    title: str
    body: str  # the annotators' article body
    text: str  # the main text as the daemon extracts it


def load_pages(root: Path = DATA / "article_pages") -> list[Page]:
    truth = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for pid, item in sorted(truth.items()):
        raw = gzip.decompress((root / "html" / f"{pid}.html.gz").read_bytes())
        m = _TITLE.search(raw)
        title = html.unescape(m.group(1).decode("utf-8", "replace")).strip() if m else ""
        text = extract_main_text(raw, item["url"]) or ""
        pages.append(Page(pid, item["url"], " ".join(title.split()) or pid, item["articleBody"], text))
    return pages


@dataclass
class Tally:
    hits: int = 0
    total: int = 0
    misses: list[str] | None = None

    def add(self, ok: bool, what: str) -> None:
        self.total += 1
        self.hits += ok
        if not ok and self.misses is not None:
            self.misses.append(what)

    @property
    def share(self) -> float:
        return self.hits / self.total if self.total else 1.0


@dataclass
class PageScores:
    added: Tally
    names: Tally
    events: int
    pages: int


def in_body(sentence: str, body_key: str) -> bool:
    return textmod.sentence_key(sentence) in body_key


def name_in_body(name: str, body_key: str) -> bool:
    key = textmod.sentence_key(name)
    return key in body_key if _CJK.search(body_key) else f" {key} " in f" {body_key} "


def _halves(text: str) -> tuple[str, str]:
    paras = textmod.paragraphs(text)
    return "\n\n".join(paras[: max(1, len(paras) // 2)]), "\n\n".join(paras)


def score_pages(pages: list[Page], workdir: Path, *, keep_misses: bool = False) -> PageScores:
    """Each page as two versions of one feed item through a real Ingestor; payloads scored against bodies."""
    raw = {
        "monitor": {"database": f"sqlite:///{workdir / 'pages.db'}", "jitter": 0},
        # Every story is followed (not only developing ones): each page then yields its events.
        "watchlists": [{"name": "all", "regex": [r"\w"], "developing_only": False}],
    }
    cfg = parse_config(raw, base=workdir)
    db = Database(cfg.monitor.database)
    ingestor = Ingestor(cfg, db)
    added, names = Tally(misses=[] if keep_misses else None), Tally(misses=[] if keep_misses else None)
    n_events = 0
    try:
        for i, page in enumerate(pages):
            if not page.text:
                continue
            first, whole = _halves(page.text)
            when = NOW + timedelta(minutes=10 * i)
            story_ids = set()
            for k, body in enumerate((first, whole)):
                art = Article(f"pages-{i}", page.id, page.title, body, page.url, None, None)
                result = ingestor.ingest(art, when + timedelta(minutes=k))
                story_ids.add(result.story_id)
            body_key = textmod.sentence_key(page.body)
            for payload in _payloads(db, story_ids, f"pages-{i}"):
                n_events += 1
                update = payload["update"]
                for s in update["added"]:
                    added.add(in_body(s, body_key), f"{page.id[:8]} {s}")
                for name in update["facts"]["names"]:
                    names.add(name_in_body(name, body_key), f"{page.id[:8]} {name}")
    finally:
        db.close()
    return PageScores(added, names, n_events, len(pages))


def _payloads(db: Database, story_ids: set[str | None], source: str) -> list[dict[str, Any]]:
    """The events about this page's item (its story may hold other pages the matcher joined to it)."""
    query = select(events.c.payload).where(events.c.story_id.in_([s for s in story_ids if s]))
    with db.read() as conn:
        rows = [r.payload for r in conn.execute(query.order_by(events.c.created_at))]
    return [p for p in rows if p.get("update") and p["update"]["article"]["source"] == source]


# --- the labelled furniture sample ------------------------------------------------------------------------


@dataclass(frozen=True)
class Labelled:
    doc_id: str
    index: int
    digest: str
    label: str  # furniture | news | unclear


def load_sample(path: Path = SAMPLE) -> list[Labelled]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        doc, index, digest, label = line.split("\t")
        out.append(Labelled(doc, int(index), digest, label))
    return out


def load_gva(root: Path = DATA / "gva_incidents") -> list[dict[str, Any]]:
    with (root / "docs.jsonl").open(encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def learnt_by_outlet(docs: list[dict[str, Any]]) -> dict[str, frozenset[str]]:
    """What repetition teaches: per outlet, the fingerprints seen in LEARN_AFTER_STORIES or more incidents."""
    seen: dict[tuple[str, str], set[str]] = defaultdict(set)
    for d in docs:
        outlet = furniture.outlet_key(d["url"], d["source"])
        for fp in furniture.fingerprints(d["text"] or ""):
            seen[(outlet, fp)].add(d["cluster_id"])
    learnt: dict[str, set[str]] = defaultdict(set)
    for (outlet, fp), clusters in seen.items():
        if len(clusters) >= furniture.LEARN_AFTER_STORIES:
            learnt[outlet].add(fp)
    return {k: frozenset(v) for k, v in learnt.items()}


@dataclass(frozen=True)
class FilterScores:
    tp: int
    fp: int
    fn: int
    tn: int
    stale: int  # labels whose sentence no longer hashes the same (the splitter changed): not counted

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def score_sample(
    sample: list[Labelled], docs: list[dict[str, Any]], learnt: dict[str, frozenset[str]] | None = None
) -> FilterScores:
    by_id = {d["doc_id"]: d for d in docs}
    judged: dict[str, list[tuple[str, bool]]] = {}
    tp = fp = fn = tn = stale = 0
    for item in sample:
        doc = by_id[item.doc_id]
        if item.doc_id not in judged:
            known = (learnt or {}).get(furniture.outlet_key(doc["url"], doc["source"]), frozenset())
            judged[item.doc_id] = list(furniture.judged(doc["text"] or "", doc["title"] or "", known))
        sentences = judged[item.doc_id]
        if item.index >= len(sentences) or _digest(sentences[item.index][0]) != item.digest:
            stale += 1
            continue
        if item.label == "unclear":
            continue
        flagged = not sentences[item.index][1]
        truth = item.label == "furniture"
        tp += flagged and truth
        fp += flagged and not truth
        fn += truth and not flagged
        tn += not truth and not flagged
    return FilterScores(tp, fp, fn, tn, stale)


def _digest(sentence: str) -> str:
    return hashlib.sha1(sentence.encode()).hexdigest()[:10]


# --- speed ------------------------------------------------------------------------------------------------


def per_call_ms(fn: Callable[[], object], repeat: int) -> float:
    """Best of five runs of ``repeat`` calls, in ms of this process's CPU time per call: on a shared
    machine the wall clock also counts the time other processes had the core; the best run is the least
    disturbed one (caches, frequency)."""
    best = float("inf")
    for _ in range(5):
        started = time.process_time()
        for _ in range(repeat):
            fn()
        best = min(best, (time.process_time() - started) / repeat)
    return best * 1000
