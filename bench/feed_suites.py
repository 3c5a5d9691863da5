"""Every feed file under ../shared/data/feeds, served from 127.0.0.1 and read by the real code path.

    python bench/feed_suites.py [--sample K] [--poller-sample N]

Each file is served by a local HTTP server (with the ``Header:`` lines feedparser's fixtures carry), fetched
with ``sources.fetch.fetch_feed`` and parsed with ``sources.feeds.parse_feed`` in a worker process with a
per-file time limit (a hang is reported, not waited for). Then a sample goes through the whole daemon path
(``Pipeline`` -> ``Poller`` -> ingest -> the feed's row in a real SQLite file).

What counts as right:
* gofeed fixtures with an expected-output JSON: every expected item title (as text) and link (canonical)
  must be among our articles';
* every file: our titles/links match feedparser's own entries for the same bytes (we must not lose or
  garble what feedparser read), and where feedparser reads no feed at all, our precise error is expected;
* no crash (an exception outside our error tree) and no hang, anywhere.

The data is read at run time from ``../shared/data`` and never copied into the repository.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import re
import site
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "feeds"
SKIP = {"README.txt", "MANIFEST.tsv"}
HEADER = re.compile(rb"^Header:\s*([\w-]+):\s*(.*?)\s*$", re.M)
PER_FILE_SECONDS = 20.0


@dataclass(frozen=True)
class Case:
    rel: str
    suite: str
    expected: str | None  # gofeed expected-output JSON (relative path), if any


@dataclass
class Result:
    rel: str
    suite: str
    outcome: str  # parsed | error | crash | hang
    articles: int = 0
    detail: str = ""
    expected_error: bool = False
    mismatches: list[str] = field(default_factory=list)


def discover(root: Path = DATA) -> list[Case]:
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.name not in SKIP and "LICENSE" not in p.name)
    names = {p.relative_to(root).as_posix() for p in files}
    cases = []
    for p in files:
        rel = p.relative_to(root).as_posix()
        if rel.startswith("gofeed"):
            stem = rel.rsplit(".", 1)[0] if "." in p.name else rel
            if rel.endswith("_expected.json") or (rel.endswith(".json") and f"{stem}.xml" in names):
                continue  # an expected output, not an input
            expected = next((c for c in (f"{stem}.json", f"{stem}_expected.json") if c in names and c != rel), None)
            cases.append(Case(rel, "gofeed", expected))
        else:
            cases.append(Case(rel, "feedparser", None))
    return cases


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    root: Path = DATA

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        path = (self.root / unquote(self.path.lstrip("/"))).resolve()
        if not path.is_relative_to(self.root.resolve()) or not path.is_file():
            self.send_error(404)
            return
        body = path.read_bytes()
        headers = {k.decode().title(): v.decode("latin-1") for k, v in HEADER.findall(body[:2048])}
        headers.setdefault("Content-Type", "application/json" if path.suffix == ".json" else "application/xml")
        self.send_response(200)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def serve(root: Path = DATA) -> Iterator[str]:
    handler = type("Handler", (_Handler,), {"root": root})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def _norm(title: str) -> str:
    """Titles as bare words: markup and entities removed twice over, because fixtures disagree on whether
    "<p>Title</p>" in a title is markup, escaped markup or literal text (the words are what must survive)."""
    import html

    for _ in range(2):
        title = re.sub(r"<[^>]*>", " ", html.unescape(title))
    return " ".join(title.split())


def check_parse(body: bytes, url: str, content_type: str | None, expected: str | None) -> dict[str, Any]:
    """In a worker: our parse, feedparser's own reading of the same bytes, and the comparison."""
    import feedparser

    from monitor.errors import MonitorError
    from monitor.sources.feeds import canonical_url, parse_feed

    out: dict[str, Any] = {"mismatches": []}
    headers = {"content-location": url, **({"content-type": content_type} if content_type else {})}
    ref = feedparser.parse(body, response_headers=headers, sanitize_html=False, resolve_relative_uris=False)
    out["ref_is_feed"] = bool(ref.get("version") or ref.get("entries"))
    try:
        parsed = parse_feed(body, feed_name="suite", url=url, content_type=content_type)
    except MonitorError as e:
        out.update(outcome="error", detail=str(e))
        if expected and _expected_items(expected):
            out["mismatches"].append("error, but the expected output has items")
        return out
    except Exception as e:  # a crash: exactly what this suite exists to find
        out.update(outcome="crash", detail=f"{type(e).__name__}: {e}")
        return out
    titles = Counter(_norm(a.title) for a in parsed.articles)  # both sides as plain text
    urls = {a.url for a in parsed.articles}
    out.update(outcome="parsed", articles=len(parsed.articles))
    for item in _expected_items(expected) if expected else _reference_items(ref):
        title, link = item.get("title"), item.get("link")
        if title and _norm(str(title)) and _norm(str(title)) not in titles:
            out["mismatches"].append(f"title {_norm(str(title))[:60]!r} missing")
        if link and isinstance(link, str) and link.startswith("http") and canonical_url(link) not in urls:
            out["mismatches"].append(f"link {link[:60]!r} missing")
    return out


def _reference_items(ref: Any) -> list[dict[str, Any]]:
    # Only entries we would keep: ones with a title or some body text.
    return [
        {"title": e.get("title"), "link": e.get("link")}
        for e in ref.get("entries", [])
        if e.get("title") or e.get("summary") or e.get("content")
    ]


def _expected_items(expected: str) -> list[dict[str, Any]]:
    doc = json.loads((DATA / expected).read_text(encoding="utf-8"))
    items = doc.get("items") or doc.get("entries") or []
    return [i for i in items if isinstance(i, dict) and (i.get("title") or i.get("content") or i.get("description"))]


async def run_case(client: Any, pool: ProcessPoolExecutor, base: str, case: Case) -> Result:
    from monitor.errors import MonitorError
    from monitor.sources.fetch import Fetched, fetch_feed

    url = base + quote(case.rel)
    result = Result(case.rel, case.suite, "error")
    try:
        fetched = await fetch_feed(client, url, where=f"feed {case.rel!r}", deadline=PER_FILE_SECONDS)
    except MonitorError as e:
        result.detail = str(e)
        return result
    assert isinstance(fetched, Fetched)
    loop = asyncio.get_running_loop()
    job = loop.run_in_executor(pool, check_parse, fetched.body, url, fetched.content_type, case.expected)
    try:
        out = await asyncio.wait_for(job, PER_FILE_SECONDS)
    except TimeoutError:
        result.outcome, result.detail = "hang", f"no result within {PER_FILE_SECONDS:g}s"
        return result
    result.outcome, result.detail = out["outcome"], out.get("detail", "")
    result.articles, result.mismatches = out.get("articles", 0), out["mismatches"]
    name_says_broken = case.suite == "gofeed" and re.search(r"invalid|unknown|empty", case.rel) is not None
    result.expected_error = result.outcome == "error" and (not out["ref_is_feed"] or name_says_broken)
    if result.outcome == "error" and not result.expected_error and not result.mismatches:
        result.mismatches.append("error where feedparser reads a feed")
    return result


async def run_all(cases: list[Case], workers: int = 2) -> list[Result]:
    import httpx

    # forkserver: no fork() of a process that runs the server thread; workers find this module by path.
    ctx = multiprocessing.get_context("forkserver")
    here = str(Path(__file__).resolve().parent)
    pool = ProcessPoolExecutor(workers, mp_context=ctx, initializer=site.addsitedir, initargs=(here,))
    with serve() as base, pool:
        async with httpx.AsyncClient(timeout=10.0, follow_redirects=True) as client:
            sem = asyncio.Semaphore(8)

            async def one(case: Case) -> Result:
                async with sem:
                    return await run_case(client, pool, base, case)

            return list(await asyncio.gather(*(one(c) for c in cases)))


def run_poller_sample(cases: list[Case], tmp: Path) -> dict[str, int]:
    """A sample through Pipeline -> Poller -> ingest -> the feed row, on a real SQLite file."""
    from monitor.config import parse_config
    from monitor.service.pipeline import Pipeline
    from monitor.store import feed_state
    from monitor.store.db import Database

    async def go(base: str) -> dict[str, int]:
        feeds = [{"name": f"f{i}", "url": base + quote(c.rel)} for i, c in enumerate(cases)]
        raw = {
            "monitor": {
                "database": f"sqlite:///{tmp / 'suite.db'}",
                "poll_interval": "10m",
                "parse_processes": 0,
            },
            "feeds": feeds,
        }
        config = parse_config(raw, base=tmp)
        pipeline = Pipeline(config, Database(config.monitor.database))
        try:
            pipeline.sync_feeds()
            await pipeline.poll_due(every_feed=True)
            rows = feed_state.feed_states(pipeline.db)
        finally:
            await pipeline.aclose()
            pipeline.db.close()
        counts = Counter(r.status for r in rows)
        counts["internal_errors"] = sum("internal error" in (r.last_error or "") for r in rows)
        counts["failing_without_error"] = sum(r.status == "failing" and not r.last_error for r in rows)
        return dict(counts)

    with serve() as base:
        return asyncio.run(go(base))


def summarize(results: list[Result]) -> list[dict[str, Any]]:
    rows = []
    for suite in ("feedparser", "gofeed", "all"):
        rs = [r for r in results if suite in ("all", r.suite)]
        rows.append(
            {
                "suite": suite,
                "files": len(rs),
                "parsed": sum(r.outcome == "parsed" for r in rs),
                "expected_errors": sum(r.expected_error for r in rs),
                "other_errors": sum(r.outcome == "error" and not r.expected_error for r in rs),
                "mismatches": sum(bool(r.mismatches) for r in rs),
                "crashes": sum(r.outcome == "crash" for r in rs),
                "hangs": sum(r.outcome == "hang" for r in rs),
                "articles": sum(r.articles for r in rs),
            }
        )
    return rows


def markdown(rows: list[dict[str, Any]]) -> str:
    keys = list(rows[0])
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(str(r[k]) for k in keys) + " |" for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sample", type=int, default=0, help="every k-th file only (0 = all)")
    ap.add_argument("--poller-sample", type=int, default=200, help="files also polled through Pipeline")
    ap.add_argument("--show", type=int, default=15, help="list this many mismatches and errors")
    args = ap.parse_args(argv)
    if not DATA.is_dir():
        print(f"no data at {DATA}", file=sys.stderr)
        return 2
    cases = discover()
    if args.sample:
        cases = cases[:: args.sample]
    started = time.perf_counter()
    results = asyncio.run(run_all(cases))
    elapsed = time.perf_counter() - started
    print(markdown(summarize(results)))
    print(f"\n{len(cases)} files in {elapsed:.1f} s")
    for r in [r for r in results if r.mismatches or r.outcome in ("crash", "hang")][: args.show]:
        print(f"  MISMATCH {r.rel}: {r.outcome} {'; '.join(r.mismatches)[:150]} {r.detail[:100]}")
    for r in [r for r in results if r.expected_error][: args.show]:
        print(f"  expected error {r.rel}: {r.detail[:140]}")
    if args.poller_sample:
        import tempfile

        step = max(1, len(cases) // args.poller_sample)
        with tempfile.TemporaryDirectory() as tmp:
            print(
                f"\nPipeline/Poller on {len(cases[::step])} files:",
                run_poller_sample(cases[::step], Path(tmp)),
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
