"""Feed polling benchmark: N feeds of 50 items on a local server, polled by the real daemon code.

    python bench/bench_feeds.py            # 1,000 feeds
    python bench/bench_feeds.py --quick    # 100 feeds, fewer repetitions
    python bench/bench_feeds.py --passes-only --ingest-feeds 1   # the daemon passes only (~20 s)

Prints, in one run: the fetch layer (plain asyncio HTTP/1.1 client as the baseline, then httpx setups side by
side, at several requests in flight), feedparser's own parse time per feed, and three passes of
``Pipeline.poll_due`` -> ``Poller`` over a real SQLite file: a first poll (every feed new: fetch, parse,
ingest), an unchanged body (200 with the same bytes: hashed, not parsed) and a 304. CPU is this process plus
the parse worker processes; the server runs in its own process and is not counted.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import itertools
import multiprocessing
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from email.utils import formatdate
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# A 20,000-word synthetic lexicon with Zipf-like use: real news text has a large vocabulary, and a tiny one
# would make every article look like every other to the matcher (a pathological, not a realistic, load).
_SYL = (
    "ka",
    "lo",
    "mi",
    "ne",
    "ru",
    "ta",
    "vo",
    "ze",
    "bi",
    "do",
    "fa",
    "gu",
    "hi",
    "jo",
    "pe",
    "si",
    "tu",
    "wa",
)


def _word(k: int) -> str:
    out = ""
    while True:
        k, r = divmod(k, len(_SYL))
        out += _SYL[r]
        if k == 0:
            return out


WORDS = [_word(k) for k in range(20000)]
_CUM = list(itertools.accumulate(1.0 / (r + 1) for r in range(len(WORDS))))  # computed once: choices() is O(k)


def make_feed(i: int, items: int = 50) -> bytes:
    rng = random.Random(i)
    parts = [
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Feed {i}</title>'
        f"<link>http://bench.test/{i}</link><description>bench</description>"
    ]
    for j in range(items):
        title = " ".join(rng.choices(WORDS[1000:], k=8)).capitalize() + f" {i}-{j}"
        paras = "".join(
            "<p>" + " ".join(rng.choices(WORDS, cum_weights=_CUM, k=60)) + f" ({i}.{j}.{k}).</p>" for k in range(5)
        )
        parts.append(
            f"<item><title>{title}</title><link>http://bench.test/{i}/{j}?utm_source=rss</link>"
            f'<guid isPermaLink="false">b-{i}-{j}</guid><pubDate>{formatdate(1.7e9 + j)}</pubDate>'
            f"<description><![CDATA[{paras}]]></description></item>"
        )
    parts.append("</channel></rss>")
    return "".join(parts).encode()


# --- the server: its own process, asyncio, HTTP/1.1 keep-alive, ETag/304; mode 1 ignores validators ---------


def serve(n: int, port_out: Any, mode: Any) -> None:
    bodies = {f"/f{i}.xml".encode(): make_feed(i) for i in range(n)}
    etags = {k: b'"' + hashlib.sha1(v).hexdigest()[:16].encode() + b'"' for k, v in bodies.items()}

    class Proto(asyncio.Protocol):
        def connection_made(self, transport: Any) -> None:
            self.t, self.buf = transport, b""

        def data_received(self, data: bytes) -> None:
            self.buf += data
            while b"\r\n\r\n" in self.buf:
                head, self.buf = self.buf.split(b"\r\n\r\n", 1)
                self.answer(head)

        def answer(self, head: bytes) -> None:
            lines = head.split(b"\r\n")
            path = lines[0].split(b" ")[1]
            body, etag = bodies.get(path), etags.get(path, b"")
            inm = next(
                (ln.split(b":", 1)[1].strip() for ln in lines if ln.lower().startswith(b"if-none-match")),
                None,
            )
            if body is None:
                self.t.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            elif inm == etag and mode.value == 0:
                self.t.write(b"HTTP/1.1 304 Not Modified\r\nETag: " + etag + b"\r\nContent-Length: 0\r\n\r\n")
            else:
                self.t.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml; charset=utf-8\r\nETag: "
                    + etag
                    + b"\r\nContent-Length: "
                    + str(len(body)).encode()
                    + b"\r\n\r\n"
                    + body
                )

    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(Proto, "127.0.0.1", 0, backlog=1024)
        port_out.value = server.sockets[0].getsockname()[1]
        await server.serve_forever()

    asyncio.run(main())


# --- CPU accounting: this process plus its live children (the parse workers) ---


def cpu_seconds() -> float:
    total = time.process_time()
    tick = os.sysconf("SC_CLK_TCK")
    for child in multiprocessing.active_children():
        try:
            fields = Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError, ValueError):
            continue
    return total


def measure(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    c0, w0 = cpu_seconds(), time.perf_counter()
    out = fn()
    return time.perf_counter() - w0, cpu_seconds() - c0, out


# --- fetch layer ---


async def plain_get(port: int, paths: list[str], inflight: int, etag: bytes | None) -> int:
    """The baseline: a minimal keep-alive HTTP/1.1 client on asyncio streams, one connection per worker."""
    queue = list(paths)
    done = 0

    async def worker() -> None:
        nonlocal done
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while queue:
            path = queue.pop()
            extra = b"If-None-Match: " + etag + b"\r\n" if etag else b""
            writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode() + extra + b"\r\n")
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(ln.split(b":")[1]) for ln in head.split(b"\r\n") if ln.lower().startswith(b"content-length")
            )
            await reader.readexactly(length)
            done += 1
        writer.close()

    await asyncio.gather(*(worker() for _ in range(inflight)))
    return done


async def httpx_get(
    port: int, paths: list[str], inflight: int, clients: int, etag: str | None, transport: str = "httpcore"
) -> int:
    """Our fetch_feed on httpx: ``clients`` pooled clients round-robin, ``inflight`` requests at once, on
    httpx's own connection pool (httpcore) or on aiohttp's: ``aiohttp`` is the daemon's transport
    (``sources.transport.Transport``), ``aiohttp-raw`` the ``httpx_aiohttp`` one it corrects."""
    import httpx
    from httpx_aiohttp import AiohttpTransport

    from monitor.sources.fetch import fetch_feed
    from monitor.sources.transport import Transport

    per = max(1, inflight // clients)
    limits = httpx.Limits(max_connections=per, max_keepalive_connections=per)

    def client() -> httpx.AsyncClient:
        if transport == "aiohttp":
            return httpx.AsyncClient(transport=Transport(limits=limits), timeout=30)
        if transport == "aiohttp-raw":
            return httpx.AsyncClient(transport=AiohttpTransport(limits=limits), timeout=30)
        return httpx.AsyncClient(limits=limits, timeout=30)

    pool = [client() for _ in range(clients)]
    sem = asyncio.Semaphore(inflight)

    async def one(k: int, path: str) -> None:
        async with sem:
            await fetch_feed(pool[k % clients], f"http://127.0.0.1:{port}{path}", where="bench", etag=etag)

    await asyncio.gather(*(one(k, p) for k, p in enumerate(paths)))
    for c in pool:
        await c.aclose()
    return len(paths)


def fetch_table(port: int, n: int) -> list[tuple[str, float, float]]:
    paths = [f"/f{i}.xml" for i in range(n)]
    etag = '"' + hashlib.sha1(make_feed(0)).hexdigest()[:16] + '"'
    same = ["/f0.xml"] * max(n, 1000)
    rows = []
    for inflight in (1, 10, 50):
        wall, cpu, _ = measure(lambda f=inflight: asyncio.run(plain_get(port, same, f, etag.encode())))
        rows.append((f"plain asyncio, {inflight:>2} in flight, 304", len(same) / wall, cpu / len(same)))
    for inflight, clients in ((1, 1), (10, 1), (50, 1), (10, 10), (50, 10), (16, 4)):
        wall, cpu, _ = measure(lambda f=inflight, c=clients: asyncio.run(httpx_get(port, same, f, c, etag)))
        rows.append((f"httpx {clients:>2} client(s), {inflight:>2} in flight, 304", len(same) / wall, cpu / len(same)))
    for inflight in (1, 10, 16, 50):  # the daemon's client: httpx on aiohttp connections
        wall, cpu, _ = measure(lambda f=inflight: asyncio.run(httpx_get(port, same, f, 1, etag, "aiohttp")))
        rows.append((f"httpx+aiohttp 1 client, {inflight:>2} in flight, 304", len(same) / wall, cpu / len(same)))
    for inflight in (1, 16):  # the same without our corrections (redirect bodies, error names): their cost
        wall, cpu, _ = measure(lambda f=inflight: asyncio.run(httpx_get(port, same, f, 1, etag, "aiohttp-raw")))
        rows.append((f"httpx+aiohttp-raw 1 client, {inflight:>2} in flight, 304", len(same) / wall, cpu / len(same)))
    for inflight in (1, 10):
        wall, cpu, _ = measure(lambda f=inflight: asyncio.run(plain_get(port, paths, f, None)))
        rows.append((f"plain asyncio, {inflight:>2} in flight, 200 ~96KiB", n / wall, cpu / n))
    for inflight, clients in ((10, 1), (16, 4)):
        wall, cpu, _ = measure(lambda f=inflight, c=clients: asyncio.run(httpx_get(port, paths, f, c, None)))
        rows.append((f"httpx {clients:>2} client(s), {inflight:>2} in flight, 200 ~96KiB", n / wall, cpu / n))
    for inflight in (10, 16):
        wall, cpu, _ = measure(lambda f=inflight: asyncio.run(httpx_get(port, paths, f, 1, None, "aiohttp")))
        rows.append((f"httpx+aiohttp 1 client, {inflight:>2} in flight, 200 ~96KiB", n / wall, cpu / n))
    return rows


# --- parse and the daemon passes ---


def parse_table(reps: int) -> list[tuple[str, float]]:
    import feedparser

    from monitor.sources.feeds import parse_feed

    body = make_feed(0)
    rows = []
    for label, fn in (
        ("feedparser.parse, defaults (sanitize + resolve)", lambda: feedparser.parse(body)),
        (
            "feedparser.parse, sanitize/resolve off",
            lambda: feedparser.parse(body, sanitize_html=False, resolve_relative_uris=False),
        ),
        (
            "monitor parse_feed (feedparser + text + Article)",
            lambda: parse_feed(body, feed_name="f", url="http://b/"),
        ),
        ("sha256 of the body (the unchanged-body check)", lambda: hashlib.sha256(body).hexdigest()),
    ):
        t = time.process_time()
        for _ in range(reps):
            fn()
        rows.append((label, (time.process_time() - t) / reps))
    return rows


class NullIngestor:
    """Stands in for ``Ingestor`` in the passes that isolate polling (fetch, hash, parse, record)."""

    def ingest(self, article: Any, now: Any, **kwargs: Any) -> Any:
        from monitor.service.ingest import IngestResult

        return IngestResult("unchanged")


def daemon_passes(
    port: int, n: int, ingest_feeds: int, mode: Any, tmp: Path
) -> list[tuple[str, int, float, float, str]]:
    from datetime import UTC, datetime

    from monitor.config import parse_config
    from monitor.service.ingest import Ingestor
    from monitor.service.polling import Poller
    from monitor.sources.fetch import build_client
    from monitor.store import feed_state
    from monitor.store.db import Database

    def clock() -> datetime:
        return datetime.now(UTC)

    rows = []

    async def one_pass(label: str, poller: Poller, db: Database, count: int, client: Any) -> None:
        states = feed_state.claim_due_feeds(db, clock(), "bench", 3600, limit=count, every_feed=True)
        c0, w0 = cpu_seconds(), time.perf_counter()
        outcomes = await poller.poll_many(client, states, clock)
        wall, cpu = time.perf_counter() - w0, cpu_seconds() - c0
        rows.append((label, len(states), wall, cpu, ",".join(sorted({o.result for o in outcomes}))))

    async def run(db_name: str, count: int, real_ingest: bool) -> None:
        feeds = [{"name": f"f{i}", "url": f"http://127.0.0.1:{port}/f{i}.xml"} for i in range(count)]
        raw = {
            "monitor": {
                "database": f"sqlite:///{tmp / db_name}",
                "poll_interval": "10m",
                "poll_concurrency": 16,
                "host_concurrency": 16,
                "parse_processes": 2,
            },
            "feeds": feeds,
        }
        config = parse_config(raw, base=tmp)
        db = Database(config.monitor.database)
        feed_state.sync_feeds(db, [(f.name, f.url, f.interval) for f in config.feeds], clock())
        ingestor: Any = Ingestor(config, db) if real_ingest else NullIngestor()
        poller = Poller(config, db, ingestor, "bench")
        client = build_client("news-monitor-bench", 30.0)
        try:
            mode.value = 1
            if real_ingest:
                await one_pass("first poll, real ingest (50 new articles each)", poller, db, count, client)
                return
            await one_pass("first poll, ingest stubbed (fetch+parse+record)", poller, db, count, client)
            await one_pass("unchanged body (200, same bytes)", poller, db, count, client)
            mode.value = 0
            await one_pass("304 Not Modified", poller, db, count, client)
        finally:
            poller.close()
            await client.aclose()
            db.close()

    asyncio.run(run("polling.db", n, False))
    asyncio.run(run("ingest.db", ingest_feeds, True))
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="100 feeds, fewer repetitions")
    ap.add_argument("--feeds", type=int, default=0)
    ap.add_argument("--ingest-feeds", type=int, default=0, help="feeds in the real-ingest first poll (default 40)")
    ap.add_argument("--passes-only", action="store_true", help="only the daemon passes (repeat them quickly)")
    args = ap.parse_args(argv)
    n = args.feeds or (100 if args.quick else 1000)
    ctx = multiprocessing.get_context("spawn")
    port, mode = ctx.Value("i", 0), ctx.Value("i", 0)
    server = ctx.Process(target=serve, args=(n, port, mode), daemon=True)
    server.start()
    while port.value == 0:
        time.sleep(0.05)
    print(
        f"# {n} feeds x 50 items, {len(make_feed(0)) / 1024:.0f} KiB each; {os.cpu_count()} cores; "
        f"server pid {server.pid}"
    )
    try:
        if not args.passes_only:
            print("\n## fetch layer (requests/s, client CPU ms/request)")
            rows = fetch_table(port.value, n)
            base = rows[0][1]
            for label, rps, cpu in rows:
                ratio = f"x{rps / base:4.2f} vs plain 1-in-flight"
                print(f"{label:<48} {rps:>8.0f} req/s  {cpu * 1000:6.2f} ms CPU  {ratio}")
            print("\n## parse, one 50-item feed (CPU ms)")
            for label, sec in parse_table(5 if args.quick else 20):
                print(f"{label:<52} {sec * 1000:7.1f} ms")
        print("\n## daemon passes: Poller over a real SQLite file (16 in flight, 2 parse processes)")
        ingest_feeds = args.ingest_feeds or (10 if args.quick else 40)
        with tempfile.TemporaryDirectory() as tmp:
            for label, count, wall, cpu, kinds in daemon_passes(port.value, n, ingest_feeds, mode, Path(tmp)):
                print(
                    f"{label:<48} {count:5d} feeds {wall:7.2f} s wall {count / wall:7.0f} polls/s "
                    f"{cpu / count * 1000:8.2f} ms CPU/poll [{kinds}]"
                )
    finally:
        server.terminate()
        server.join()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
