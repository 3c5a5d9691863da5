"""Ingest benchmark: CPU per article as one story grows, the first poll, a mixed stream, memory.

    python bench/bench_ingest.py                 # everything: sizes 10..5,000, 1,000 feeds x 50 items
    python bench/bench_ingest.py --quick         # sizes 10..1,000, 100 feeds, 40 vs 240 in-process only
    python bench/bench_ingest.py --only story    # one part: story | cli | poll | mixed | new

Every part prints its baseline, measured in the same run:

- story: versions of ONE story (the seed article plus three sentences of its own, as the issue measured),
  ingested through ``Ingestor.ingest`` on a real SQLite file; at each size the next 30 versions are timed
  (CPU of this process): the whole ingest, and apart from it the matcher and novelty on the same article.
  Baseline: what novelty cost when it re-read the story (every version's text read back and split again).
  Also the RSS it takes per 1,000 versions of the story.
- cli: the acceptance check, ``news-monitor once`` over N seed files (one story of N versions) from an
  empty database, CPU of the child process with start-up (0 files) subtracted, at 40 and 240: the ratio;
  and the same through the pipeline in this process.
- poll: the first poll of F feeds x 50 new items (bench_feeds' synthetic feeds on a local server) through
  the real Poller and Ingestor; baseline: feedparser plus a plain SQLAlchemy Core insert of the same items.
- new: the first poll's new articles decided in this process at 1,000, 7,500 and 30,000 stored stories: CPU
  per article and the matcher's part (what bounds a first poll: one process decides).
- mixed: real local-news articles (../shared/data/gva_incidents, read at run time) interleaved with
  versions of one big story; CPU per article and RSS per 1,000 articles held.

Timings on a shared 2-core machine are noisy: compare the ratios, and run twice.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import multiprocessing
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from monitor.config import Config, parse_config  # noqa: E402
from monitor.core import text as textmod  # noqa: E402
from monitor.core.model import Article  # noqa: E402
from monitor.core.novelty import KnownText, compute_novelty  # noqa: E402
from monitor.service.ingest import Ingestor  # noqa: E402
from monitor.store.db import Database  # noqa: E402

SEED = ROOT / "seeds" / "000_900818fe0882e21f.txt"
GVA = ROOT.parent / "shared" / "data" / "gva_incidents" / "docs.jsonl"
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
FIRST = ["Omar", "Lina", "Samir", "Rania", "Fadi", "Huda", "Karim", "Maya", "Tarek", "Nour", "Ziad", "Dana"]
LAST = ["Haddad", "Khalil", "Nasser", "Saleh", "Mansour", "Aziz", "Hamdan", "Youssef", "Darwish", "Bitar"]
NOUNS = ["convoy", "checkpoint", "hospital", "bridge", "district", "bus", "school", "market", "mosque", "depot",
         "crossing", "clinic", "bakery", "warehouse", "road", "camp", "shelter", "square"]  # fmt: skip
VERBS = ["reached", "left", "passed", "shelled", "closed", "reopened", "guarded", "emptied", "searched"]


def seed_parts(words: int = 560) -> tuple[str, str]:
    """The seed article's headline and its first paragraphs up to about ``words`` words (an ordinary
    article: with its three sentences of its own, a version is ~600 words)."""
    headline, _, body = SEED.read_text(encoding="utf-8").partition("\n")
    kept: list[str] = []
    for para in body.strip().split("\n\n"):
        if sum(len(p.split()) for p in kept) >= words:
            break
        kept.append(para)
    return headline.strip(), "\n\n".join(kept)


def story_version(i: int, headline: str, body: str) -> Article:
    """One more version of the seed story, from another outlet: the article plus three sentences of its
    own (people, places and times that vary, in the story's words)."""
    rng = random.Random(i)
    own = []
    for _ in range(3):
        who = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        own.append(
            f"{who}, who works at the {rng.choice(NOUNS)}, said the {rng.choice(NOUNS)} was "
            f"{rng.choice(VERBS)} at {rng.randint(1, 12)}:{rng.randint(0, 59):02d} near the {rng.choice(NOUNS)} "
            f"where {rng.randint(2, 400)} people waited."
        )
    return Article(f"outlet-{i}", f"v-{i}", headline, body + "\n\n" + "\n\n".join(own), url=f"http://o{i}.test/a")


def config(tmp: Path, **monitor: Any) -> Config:
    raw = {"monitor": {"database": "sqlite://", "jitter": 0, **monitor},
           "watchlists": [{"name": "syria", "keywords": ["Aleppo", "Idlib"]}]}  # fmt: skip
    return parse_config(raw, base=tmp)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_ms(fn: Callable[[], Any]) -> tuple[float, Any]:
    c0 = time.process_time()
    out = fn()
    return (time.process_time() - c0) * 1000, out


# --- story: one story growing -------------------------------------------------------------------------------


def rescan_novelty_ms(db: Database, story_id: str, art: Article) -> float:
    """The baseline: novelty as it was, re-reading every version's (title, text) and splitting them again."""
    from sqlalchemy import select

    from monitor.store.schema import articles, versions

    def run() -> None:
        query = (
            select(articles.c.title, articles.c.text)
            .join(versions, versions.c.article_id == articles.c.id)
            .where(versions.c.story_id == story_id)
            .order_by(versions.c.seq)
        )
        with db.read() as conn:
            texts = [(r.title, r.text) for r in conn.execute(query)]
        compute_novelty(KnownText.of(texts), art.title, art.text)

    return cpu_ms(run)[0]


def part_story(sizes: list[int], tmp: Path) -> None:
    print("\n## one story growing: CPU ms per article (next 30 versions at each size), pipeline in-process")
    headline, body = seed_parts()
    words = len(story_version(0, headline, body).text.split())
    print(f"# article: {words} words (the seed article's first paragraphs + 3 sentences of its own)")
    db = Database(f"sqlite:///{tmp / 'story.db'}")
    ing = Ingestor(config(tmp), db)
    done, story, rss = 0, "", {}
    header = f"{'versions':>8} {'ingest':>8} {'match':>7} {'novelty':>8} {'compared':>9} {'held':>7} {'rescan':>9}"
    print(header + "   (rescan = baseline: re-read and re-split every version, novelty only)")
    for size in sizes:
        while done < size:
            res = ing.ingest(story_version(done, headline, body), NOW + timedelta(seconds=done))
            story = res.story_id or story
            done += 1
        rss[size] = rss_mb()
        arts = [story_version(done + k, headline, body) for k in range(30)]
        total = match = novelty = 0.0
        compared = 0
        seqs = set()
        for art in arts:
            when = NOW + timedelta(seconds=done)
            # Matcher and novelty alone first, on the state the ingest will see (not counted in "ingest").
            inp = ing._input(art.guid, art.title, art.text, when, art.url, art.source)
            match += cpu_ms(lambda i=inp: ing.matcher.match(i))[0]  # type: ignore[misc]
            known = known_of(ing, story)
            if known is not None:
                before = known.index.compared
                novelty += cpu_ms(lambda a=art, kn=known: compute_novelty(kn, a.title, a.text))[0]  # type: ignore[misc]
                compared += known.index.compared - before
            ms, res = cpu_ms(lambda a=art, w=when: ing.ingest(a, w))  # type: ignore[misc]
            total += ms
            seqs.add(res.story_id)
            done += 1
        held = len(known.sentences) if (known := known_of(ing, story)) is not None else 0
        base = rescan_novelty_ms(db, story, arts[-1]) if size <= 1000 or size == sizes[-1] else float("nan")
        n = len(arts)
        print(
            f"{size:>8} {total / n:>8.2f} {match / n:>7.2f} {novelty / n:>8.2f} {compared / n:>9.1f} {held:>7}"
            f" {base:>9.1f}" + ("" if len(seqs) == 1 else f"  (!) {len(seqs)} stories")
        )
    if len(sizes) > 1 and sizes[-1] > sizes[-2]:
        a, b = sizes[-2], sizes[-1]
        print(f"# RSS {rss[a]:.0f} MB at {a} versions, {rss[b]:.0f} MB at {b}: "
              f"{(rss[b] - rss[a]) / (b - a) * 1000:.1f} MB per 1,000 versions of one story")  # fmt: skip
    db.close()


def known_of(ing: Ingestor, story: str) -> KnownText | None:
    cache = getattr(ing, "known", None)
    entry = cache._entries.get(story) if cache is not None else None
    return entry.known if entry is not None else None


# --- cli: the acceptance check ------------------------------------------------------------------------------


def once_cpu(tmp: Path, n: int) -> float:
    """CPU seconds of ``news-monitor once`` over ``n`` seed files (one story), from an empty database."""
    work = Path(tempfile.mkdtemp(dir=tmp))
    seeds = work / "seeds"
    seeds.mkdir()
    headline, body = seed_parts()
    for i in range(n):
        art = story_version(i, headline, body)
        (seeds / f"{i:05d}.txt").write_text(f"{art.title}\n\n{art.text}\n", encoding="utf-8")
    (work / "monitor.toml").write_text(
        '[monitor]\ndatabase = "sqlite:///monitor.db"\nseeds_dir = "seeds"\n\n'
        '[[watchlists]]\nname = "syria"\nkeywords = ["Aleppo", "Idlib"]\n',
        encoding="utf-8",
    )
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "once", "--config", "monitor.toml", "--flush-timeout", "1s", "-q"],
        cwd=work,
        capture_output=True,
        text=True,
        check=False,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"news-monitor once failed: {done.stderr[-2000:]}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def part_cli(tmp: Path, with_cli: bool) -> None:
    print("\n## the acceptance check: CPU per article at 40 and 240 versions of one story (ratio <= 1.5)")
    if with_cli:
        start = min(once_cpu(tmp, 0) for _ in range(2))
        per = {n: (once_cpu(tmp, n) - start) / n * 1000 for n in (40, 240)}
        print(f"news-monitor once: start-up {start:.2f} s CPU; {per[40]:.1f} ms/article at 40, "
              f"{per[240]:.1f} ms at 240: ratio {per[240] / per[40]:.2f}")  # fmt: skip
    headline, body = seed_parts()
    per = {}
    for n in (40, 240):
        db = Database(f"sqlite:///{tempfile.mkdtemp(dir=tmp)}/m.db")
        ing = Ingestor(config(tmp), db)
        ms, _ = cpu_ms(lambda: [ing.ingest(story_version(i, headline, body), NOW) for i in range(n)])  # noqa: B023
        per[n] = ms / n
        db.close()
    print(f"pipeline in-process: {per[40]:.1f} ms/article at 40, {per[240]:.1f} ms at 240: "
          f"ratio {per[240] / per[40]:.2f}")  # fmt: skip


# --- poll: the first poll of many feeds -------------------------------------------------------------------


def baseline_store(bodies: list[bytes], tmp: Path) -> tuple[float, float, int]:
    """feedparser + one plain SQLAlchemy Core insert per feed of the same items: (wall s, CPU s, items)."""
    import feedparser
    from sqlalchemy import Column, Integer, MetaData, Table, Text, create_engine, insert

    meta = MetaData()
    table = Table("items", meta, Column("id", Integer, primary_key=True), Column("guid", Text),
                  Column("title", Text), Column("link", Text), Column("body", Text))  # fmt: skip
    engine = create_engine(f"sqlite:///{tmp / 'baseline.db'}")
    meta.create_all(engine)
    n = 0
    c0, w0 = time.process_time(), time.perf_counter()
    for body in bodies:
        parsed = feedparser.parse(body)
        rows = [{"guid": e.get("id"), "title": e.get("title"), "link": e.get("link"),
                 "body": e.get("description")} for e in parsed.entries]  # fmt: skip
        with engine.begin() as conn:
            conn.execute(insert(table), rows)
        n += len(rows)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    engine.dispose()
    return wall, cpu, n


def part_poll(feeds: int, tmp: Path) -> None:
    import bench_feeds

    print(f"\n## first poll: {feeds} feeds x 50 new items (synthetic, local server; 16 in flight, 2 parse processes)")
    ctx = multiprocessing.get_context("spawn")
    port, mode = ctx.Value("i", 0), ctx.Value("i", 1)
    server = ctx.Process(target=bench_feeds.serve, args=(feeds, port, mode), daemon=True)
    server.start()
    try:
        while port.value == 0:
            time.sleep(0.05)
        bodies = [bench_feeds.make_feed(i) for i in range(feeds)]
        wall, cpu, items = baseline_store(bodies, tmp)
        print(f"{'baseline: feedparser + Core insert':<44} {items:6d} items {wall:7.1f} s wall "
              f"{items / wall:7.0f}/s {cpu / items * 1000:6.2f} ms CPU/item")  # fmt: skip
        wall2, cpu2, own, stored, stories = asyncio.run(real_first_poll(port.value, feeds, tmp))
        print(f"{'news-monitor: Poller + Ingestor':<44} {stored:6d} items {wall2:7.1f} s wall "
              f"{stored / wall2:7.0f}/s {cpu2 / max(stored, 1) * 1000:6.2f} ms CPU/item "
              f"({stories} stories)")  # fmt: skip
        # The process that ingests is the bottleneck (one GIL for the event loop and the ingest thread);
        # the parse workers (and the feed server, a child too) run beside it.
        print(f"# of which the ingesting process: {own / max(stored, 1) * 1000:.2f} ms CPU/item "
              f"({own / wall2:.0%} of one core)")  # fmt: skip
        print(f"# ratio: news-monitor takes x{wall2 / wall:.1f} the baseline's wall time "
              f"(x{cpu2 / max(stored, 1) / (cpu / items):.1f} CPU per item)")  # fmt: skip
    finally:
        server.terminate()
        server.join()


async def real_first_poll(port: int, feeds: int, tmp: Path) -> tuple[float, float, float, int, int]:
    import bench_feeds

    from monitor.service.polling import Poller
    from monitor.sources.fetch import build_client
    from monitor.store import feed_state
    from monitor.store import stories as story_store

    def clock() -> datetime:
        return datetime.now(UTC)

    raw = {
        "monitor": {"database": f"sqlite:///{tmp / 'poll.db'}", "poll_interval": "10m", "poll_concurrency": 16,
                    "host_concurrency": 16, "parse_processes": 2},
        "feeds": [{"name": f"f{i}", "url": f"http://127.0.0.1:{port}/f{i}.xml"} for i in range(feeds)],
    }  # fmt: skip
    cfg = parse_config(raw, base=tmp)
    db = Database(cfg.monitor.database)
    feed_state.sync_feeds(db, [(f.name, f.url, f.interval) for f in cfg.feeds], clock())
    poller = Poller(cfg, db, Ingestor(cfg, db), "bench")
    client = build_client("news-monitor-bench", 30.0)
    try:
        states = feed_state.claim_due_feeds(db, clock(), "bench", 3600, limit=feeds, every_feed=True)
        c0, w0, p0 = bench_feeds.cpu_seconds(), time.perf_counter(), time.process_time()
        await poller.poll_many(client, states, clock)
        wall, cpu, own = time.perf_counter() - w0, bench_feeds.cpu_seconds() - c0, time.process_time() - p0
        counts = story_store.counts(db)
        return wall, cpu, own, counts["articles"], counts["stories"]
    finally:
        poller.close()
        await client.aclose()
        db.close()


def part_new(held: list[int], tmp: Path) -> None:
    """New articles of a first poll, decided in this process at a growing number of stored stories: what the
    one deciding process spends per article, and the matcher's part of it (the feeds are parsed and prepared
    here, as the parse workers would, and not counted)."""
    import bench_feeds

    from monitor.core import match as matchmod
    from monitor.service import prepared_parse
    from monitor.sources.feeds import parse_feed

    print("\n## new articles in the deciding process (bench_feeds' items, ingest_many by 16, in-process)")
    print(f"{'stories held':>12} {'ms CPU/article':>15} {'of which matcher':>17}")
    db = Database(f"sqlite:///{tmp / 'new.db'}")
    ing, clock_at = Ingestor(config(tmp), db), [NOW]
    spent, match = [0.0], matchmod.Matcher.match

    def clock() -> datetime:
        clock_at[0] += timedelta(milliseconds=5)
        return clock_at[0]

    def timed(self: matchmod.Matcher, article: matchmod.MatchInput) -> matchmod.MatchResult:
        c0 = time.process_time()
        try:
            return match(self, article)
        finally:
            spent[0] += time.process_time() - c0

    def items(i: int) -> list[Article]:
        parse = functools.partial(parse_feed, bench_feeds.make_feed(i), feed_name=f"f{i}", url=f"http://b/{i}.xml")
        return prepared_parse.take(prepared_parse.parse_prepared(parse)).articles

    def ingest(feed: list[Article]) -> None:
        for k in range(0, len(feed), 16):
            ing.ingest_many(feed[k : k + 16], clock)

    done = 0
    for target in held:
        while done < target // 50:
            ingest(items(done))
            done += 1
        feeds = [items(done + j) for j in range(20)]  # the next 1,000 items, timed
        spent[0], c0 = 0.0, time.process_time()
        matchmod.Matcher.match = timed  # type: ignore[method-assign]
        try:
            for feed in feeds:
                ingest(feed)
        finally:
            matchmod.Matcher.match = match  # type: ignore[method-assign]
        cpu, n = time.process_time() - c0, sum(map(len, feeds))
        done += 20
        print(f"{done * 50 - n:12,d} {cpu / n * 1000:15.2f} {spent[0] / n * 1000:17.2f}")
    db.close()


# --- mixed: many stories at once --------------------------------------------------------------------------


def part_mixed(tmp: Path, limit: int) -> None:
    print("\n## mixed stream: real local news (gva_incidents) with versions of one big story between them")
    if not GVA.exists():
        print(f"# skipped: {GVA} is absent (evaluation data is read at run time, never copied)")
        return
    docs = [json.loads(line) for line in GVA.open(encoding="utf-8")]
    docs.sort(key=lambda d: (d.get("dct") or "", d["doc_id"]))
    docs = docs[:limit]
    headline, body = seed_parts()
    db = Database(f"sqlite:///{tmp / 'mixed.db'}")
    ing = Ingestor(config(tmp), db)
    rss0 = rss_mb()
    total, n, big, marks = 0.0, 0, 0, []
    for k, d in enumerate(docs):
        when = NOW + timedelta(minutes=k)
        title, text = d.get("title") or "", d.get("text") or ""
        art = Article(d.get("source") or "gva", d["doc_id"], title, text, url=d.get("url"))
        ms, _ = cpu_ms(lambda a=art, w=when: ing.ingest(a, w))  # type: ignore[misc]
        total, n = total + ms, n + 1
        if k % 3 == 0:  # the big story gets a version every third article
            version = story_version(big, headline, body)
            ms, _ = cpu_ms(lambda v=version, w=when: ing.ingest(v, w))  # type: ignore[misc]
            total, n, big = total + ms, n + 1, big + 1
        if (k + 1) % 1000 == 0:
            marks.append((n, rss_mb()))
    stories = len({s.id for s in __import__("monitor.store.stories", fromlist=["x"]).list_stories(db, limit=10**6)})
    print(f"{n} articles ({len(docs)} real, {big} versions of one story): {total / n:.2f} ms CPU/article, "
          f"{stories} stories")  # fmt: skip
    if marks:
        per = (marks[-1][1] - rss0) / marks[-1][0] * 1000
        print(f"# RSS +{marks[-1][1] - rss0:.0f} MB for {marks[-1][0]} articles held: {per:.1f} MB per 1,000 articles")
    db.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="sizes up to 1,000, 100 feeds, no CLI runs")
    ap.add_argument("--only", choices=("story", "cli", "poll", "mixed", "new"), help="run one part")
    ap.add_argument("--feeds", type=int, default=0, help="feeds in the first poll (default 1,000; --quick 100)")
    ap.add_argument("--sizes", help="story sizes, comma-separated (default 10,100,1000,5000)")
    args = ap.parse_args(argv)
    textmod.news_sentences("warm up.")
    print(f"# {os.cpu_count()} cores, Python {sys.version.split()[0]}; CPU is this process (and its children)")
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        if args.only in (None, "story"):
            sizes = [int(x) for x in args.sizes.split(",")] if args.sizes else [10, 100, 1000, 5000]
            part_story([s for s in sizes if s <= 1000] if args.quick else sizes, tmp)
        if args.only in (None, "cli"):
            part_cli(tmp, with_cli=not args.quick)
        if args.only in (None, "mixed"):
            part_mixed(tmp, 1000 if args.quick else 3160)
        if args.only in (None, "new"):
            part_new([1_000, 7_500] if args.quick else [1_000, 7_500, 30_000], tmp)
        if args.only in (None, "poll"):
            part_poll(args.feeds or (100 if args.quick else 1000), tmp)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
