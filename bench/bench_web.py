"""Server time of the web pages (a page of 200 stories renders in under 100 ms).

    python bench/bench_web.py [--stories 200] [--runs 50]

Builds a SQLite database in a temporary folder with N tracked open stories (3 versions each, from 3
outlets, in 2 watchlists), then times requests through the ASGI app in-process (routing, SQL, template,
response; no network), after a warm-up. The baseline, measured in the same run, is the same page on an
empty database, so the ratio shows what the stories cost on this machine whatever its speed.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from monitor.core.model import Article
from monitor.store.db import Database
from monitor.store.stories import ingest_transaction
from monitor.web.app import create_app

T0 = datetime(2024, 1, 1, tzinfo=UTC)
OUTLETS = ("Reuters", "AP", "AFP")
FACTS = {"numbers": ["34,000 people"], "quotes": [], "names": ["Aleppo"]}
MATCH = {"signal": "matcher", "score": 0.71, "shared_names": ["Aleppo"]}
SENTENCES = [f"Officials in city {i} said on Thursday that {i * 37} people had been evacuated." for i in range(12)]


def fill(db: Database, stories: int) -> str:
    """``stories`` tracked stories of 3 versions each; returns one story id (for the timeline timing)."""
    for n in range(stories):
        sid = f"st_bench{n:05d}"
        now = T0 + timedelta(minutes=n)
        lists = [{"name": "world" if n % 2 else "syria", "matched": ["Aleppo"]}]
        with ingest_transaction(db) as tx:
            tx.create_story(sid, f"Story {n}: evacuation of Aleppo continues", f"http://news.test/{n}", now)
            for seq, outlet in enumerate(OUTLETS, start=1):
                text = "\n\n".join(SENTENCES[: 4 * seq])
                article = Article(
                    "wire",
                    f"{sid}-{seq}",
                    f"Story {n}, version {seq}",
                    text,
                    url=f"http://news.test/{n}/{seq}",
                    outlet=outlet,
                )
                aid = tx.insert_article(article, sid, now, developing=True)
                tx.insert_version(
                    sid,
                    seq,
                    aid,
                    now,
                    added=SENTENCES[4 * (seq - 1) : 4 * seq],
                    facts=FACTS,
                    headline_changed=seq > 1,
                    material=True,
                    match=MATCH,
                )
            tx.update_story(sid, tracked=True, developing=True, watchlists=lists, version_count=3, updated_at=now)
    return "st_bench00000"


async def timings(app: Any, path: str, runs: int) -> list[float]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        for _ in range(5):  # warm-up: template compilation, connection pool, statement cache
            (await client.get(path)).raise_for_status()
        out = []
        for _ in range(runs):
            started = time.perf_counter()
            response = await client.get(path)
            out.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
    return out


def line(label: str, ms: list[float]) -> str:
    p95 = statistics.quantiles(ms, n=20)[-1]
    return f"{label:<34} median {statistics.median(ms):7.2f} ms   p95 {p95:7.2f} ms   max {max(ms):7.2f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stories", type=int, default=200)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        empty = Database(f"sqlite:///{Path(tmp) / 'empty.db'}")
        full = Database(f"sqlite:///{Path(tmp) / 'full.db'}")
        story = fill(full, args.stories)
        base = asyncio.run(timings(create_app(empty), "/", args.runs))
        page = asyncio.run(timings(create_app(full), "/", args.runs))
        one = asyncio.run(timings(create_app(full), f"/stories/{story}", args.runs))
        atom = asyncio.run(timings(create_app(full), "/updates.atom", args.runs))
        empty.close()
        full.close()
    print(f"news-monitor web pages, SQLite, {args.runs} runs each after warm-up (in-process, no network)")
    print(line("baseline: / on an empty database", base))
    print(line(f"/ with {args.stories} stories", page))
    print(line("/stories/{id} (3 versions)", one))
    print(line("/updates.atom (no events)", atom))
    ratio = statistics.median(page) / statistics.median(base)
    verdict = "OK" if statistics.quantiles(page, n=20)[-1] < 100 else "OVER"
    print(f"ratio {args.stories}-story page / baseline: {ratio:.1f}x; p95 under 100 ms: {verdict}")
    return 0 if verdict == "OK" else 1


if __name__ == "__main__":
    sys.exit(main())
