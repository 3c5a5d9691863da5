"""CPU per page check, with a bare GET of the same page by the same client as the baseline (docs/pages.md).

    .venv/bin/python bench/bench_pages.py [--pages 200] [--rounds 3] [--idle-pages 10000]

The daemon's page checker (service.pagecheck, SQLite in a temp dir, the daemon's HTTP client) checks
``--pages`` watched pages served by a server in another process (its CPU is not counted), in rounds, the
clock moved on between rounds so every page is due. Printed per kind of check: CPU ms per check (this
process, all threads), wall-clock pages/s, and the ratio to a bare ``client.get`` of the same URL:

* 304: the page answers Not Modified to its validators;
* unchanged 200: the same bytes without validators (hashed, not read);
* churn 200: new bytes outside the article (main text extracted, nothing new: no version);
* changed 200: one new paragraph each time (extracted, ingested: a version and an event).

Then the cost of a tick with nothing due among ``--idle-pages`` watched pages (the job runs every 2 s), and
what 10,000 unchanged pages at their 1 h cadence cost in share of one core.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import hashlib
import json
import multiprocessing
import re
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from monitor.config import parse_config
from monitor.core.model import Article
from monitor.service.pipeline import Pipeline
from monitor.sources.feeds import build_client
from monitor.store import pages as page_store
from monitor.store import stories as story_store
from monitor.store.db import Database

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "article_pages"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def sample_page() -> bytes:
    """A real article page of median size from the data set (synthetic where the data is absent)."""
    files = sorted(DATA.glob("html/*.html.gz")) if DATA.exists() else []
    if not files:
        paras = "".join(f"<p>Paragraph {i} of the article says something about the bridge.</p>" for i in range(30))
        return f"<html><head><title>Bridge</title></head><body><article>{paras}</article></body></html>".encode()
    pages = sorted((gzip.decompress(f.read_bytes()) for f in files), key=len)
    # Its canonical link points at the publisher on the internet: a second watched page per page, failing
    # here (no network). Not what this measures.
    return re.sub(rb"rel=[\"']?canonical", b'rel="x-canonical"', pages[len(pages) // 2], flags=re.I)


def serve(port_out: Any, page: bytes) -> None:
    hits: dict[str, int] = {}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            kind = self.path.split("/")[1]
            n = hits[self.path] = hits.get(self.path, 0) + 1
            body = page
            if kind == "churn":
                box = f"<aside><p>{n} comments</p><p>Top story {n}</p></aside></body>"
                body = page.replace(b"</body>", box.encode())
            elif kind == "grow":
                page_no = self.path.rsplit("/", 1)[-1]
                extra = "".join(f"<p>Update {i} on site {page_no}: officials said {i * 7} more people were "
                                f"evacuated from zone {i}.</p>" for i in range(n))  # fmt: skip
                body = page.replace(b"</article>", extra.encode() + b"</article>")
                if b"</article>" not in page:
                    body = page.replace(b"</body>", extra.encode() + b"</body>")
            etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
            if kind == "p" and self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            if kind == "p":
                self.send_header("ETag", etag)
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port_out.send(server.server_address[1])
    server.serve_forever()


def watched(db: Database, urls: list[str], text: str) -> None:
    """One open, tracked, developing story per page (its first version), every page watched and due."""
    with story_store.ingest_transaction(db) as tx:
        for i, url in enumerate(urls):
            sid = f"st_{i}"
            tx.create_story(sid, "BREAKING: bench", url, T0)
            article = Article("wire", url, "BREAKING: bench", text, url=url)
            tx.insert_version(sid, 1, tx.insert_article(article, sid, T0, True), T0)
            tx.update_story(sid, developing=True, tracked=True, markers=["breaking"], version_count=1)
    page_store.sync_watched(db, T0, 0)


async def rounds(p: Pipeline, clock: dict[str, datetime], n: int) -> list[tuple[float, float, dict[str, int]]]:
    """CPU seconds, wall seconds and outcomes of each of ``n`` rounds (every page due in each)."""
    out = []
    for _ in range(n):
        clock["now"] += timedelta(hours=2)
        cpu, wall = time.process_time(), time.perf_counter()
        outcomes = await p.check_pages()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        kinds: dict[str, int] = {}
        for o in outcomes:
            kinds[o.result] = kinds.get(o.result, 0) + 1
        out.append((cpu, wall, kinds))
    return out


async def bare(urls: list[str], concurrency: int) -> tuple[float, float]:
    client = build_client("bench", 20.0)
    limit = asyncio.Semaphore(concurrency)

    async def one(url: str) -> None:
        async with limit:
            r = await client.get(url)
            r.read()

    try:
        await asyncio.gather(*(one(u) for u in urls[:10]))  # warm the connections
        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.gather(*(one(u) for u in urls))
        return time.process_time() - cpu, time.perf_counter() - wall
    finally:
        await client.aclose()


def measure(kind: str, base: str, n: int, nrounds: int, page_text: str, tmp: Path) -> dict[str, Any]:
    urls = [f"{base}/{kind}/{i}" for i in range(n)]
    clock = {"now": T0}
    raw = {"monitor": {"database": f"sqlite:///{tmp / kind}.db", "allow_private_addresses": True,
                       "host_concurrency": 16, "poll_concurrency": 16}}  # fmt: skip
    config = parse_config(raw, base=tmp)
    db = Database(config.monitor.database)
    watched(db, urls, page_text)
    p = Pipeline(config, db, clock=lambda: clock["now"])

    async def go() -> tuple[list[tuple[float, float, dict[str, int]]], tuple[float, float]]:
        try:
            await rounds(p, clock, 1)  # the first check of every page: baseline, validators
            measured = await rounds(p, clock, nrounds)
            return measured, await bare(urls, 16)
        finally:
            await p.aclose()

    measured, (bare_cpu, _) = asyncio.run(go())
    db.close()
    cpu = sum(c for c, _, _ in measured) / (n * nrounds)
    wall = sum(w for _, w, _ in measured)
    outcomes: dict[str, int] = {}
    for _, _, k in measured:
        for key, v in k.items():
            outcomes[key] = outcomes.get(key, 0) + v
    return {
        "check": kind,
        "cpu_ms_per_check": round(1000 * cpu, 2),
        "pages_per_s": round(n * nrounds / wall, 1),
        "bare_get_cpu_ms": round(1000 * bare_cpu / n, 2),
        "ratio_to_bare_get": round(cpu / (bare_cpu / n), 1),
        "outcomes": outcomes,
    }


def idle_tick(n: int, tmp: Path) -> dict[str, Any]:
    """CPU of one tick of the job with ``n`` watched pages, none due (what the daemon pays every 2 s)."""
    raw = {"monitor": {"database": f"sqlite:///{tmp / 'idle'}.db"}}
    config = parse_config(raw, base=tmp)
    db = Database(config.monitor.database)
    watched(db, [f"http://127.0.0.1:9/idle/{i}" for i in range(n)], "Text.")
    clock = {"now": T0}
    p = Pipeline(config, db, clock=lambda: clock["now"])

    async def go() -> float:
        try:
            await p.check_pages()  # nothing due: all pages were first seen at T0 + 0 s... but not yet due
            cpu = time.process_time()
            for _ in range(20):
                await p.check_pages()
            return (time.process_time() - cpu) / 20
        finally:
            await p.aclose()

    clock["now"] = T0 - timedelta(seconds=1)  # every page is due at T0: one second early, none is
    tick = asyncio.run(go())
    db.close()
    return {"watched_pages": n, "cpu_ms_per_idle_tick": round(1000 * tick, 2), "tick_s": 2.0}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--idle-pages", type=int, default=10_000)
    args = ap.parse_args()
    page = sample_page()
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.Process(target=serve, args=(child, page), daemon=True)
    server.start()
    base = f"http://127.0.0.1:{parent.recv()}"
    from monitor.sources.pages import read_page

    text = read_page(page, base).text or "Text."
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("p", "same", "churn", "grow"):
            results.append(measure(kind, base, args.pages, args.rounds, text, Path(tmp)))
        idle = idle_tick(args.idle_pages, Path(tmp))
    server.terminate()
    names = {"p": "304", "same": "unchanged 200", "churn": "churn 200", "grow": "changed 200"}
    for r in results:
        r["check"] = names[r["check"]]
    by = {r["check"]: r for r in results}
    per_s = 10_000 / 3600  # 10,000 unchanged pages at the 1 h maximum interval
    ticks = idle["cpu_ms_per_idle_tick"] / 1000 / 2.0  # share of a core the idle ticks take
    cadence = {
        "checks_per_s": round(per_s, 2),
        "core_share_if_all_304": round(per_s * by["304"]["cpu_ms_per_check"] / 1000 + ticks, 4),
        "core_share_if_all_churn": round(per_s * by["churn 200"]["cpu_ms_per_check"] / 1000 + ticks, 4),
    }
    report = {"page_bytes": len(page), "checks": results, "idle": idle, "10k_pages_at_1h": cadence}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
