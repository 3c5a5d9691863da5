"""Page checks shared by several instances on a real PostgreSQL: claims are disjoint, the fence keeps a page
from being fetched twice within its interval, and a killed instance's pages are taken over."""

from __future__ import annotations

import asyncio
import itertools
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from monitor.config import parse_config
from monitor.core.model import Article
from monitor.service.pipeline import Pipeline
from monitor.store import pages as page_store
from monitor.store import stories as story_store
from monitor.store.db import Database
from tests.servers import FeedServer

pytestmark = pytest.mark.postgres
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def live_story(db: Database, story_id: str) -> None:
    with story_store.ingest_transaction(db) as tx:
        tx.create_story(story_id, "BREAKING: Porto bridge", None, NOW)
        tx.update_story(story_id, developing=True, tracked=True, markers=["breaking"])


def watch(db: Database, n: int, base: str = "http://127.0.0.1:9") -> None:
    """A live story with ``n`` versions, each from its own page (the text the page shows), all watched."""
    live_story(db, "st_pg")
    with story_store.ingest_transaction(db) as tx:
        for i in range(n):
            url = f"{base}/p{i:03d}"
            article = Article("wire", url, "BREAKING: Porto bridge", f"Page {i} says the same.", url=url)
            tx.insert_version("st_pg", i + 1, tx.insert_article(article, "st_pg", NOW, True), NOW)
        tx.update_story("st_pg", version_count=n)
    for i in range(n):
        assert page_store.add_page(db, "st_pg", f"{base}/p{i:03d}", None, NOW, NOW)


def test_concurrent_page_claims_are_disjoint(two: tuple[Database, Database]) -> None:
    a, b = two
    watch(a, 120)
    claims: dict[str, list[int]] = {}
    start = threading.Barrier(4)

    def worker(db: Database, owner: str) -> None:
        start.wait()
        got: list[int] = []
        while batch := page_store.claim_due_pages(db, NOW, owner, 300, 7):
            got += [p.id for p in batch]
        claims[owner] = got

    threads = [threading.Thread(target=worker, args=(db, f"i{k}")) for k, db in enumerate((a, b, a, b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    everything = [i for got in claims.values() for i in got]
    assert len(everything) == len(set(everything)) == 120
    assert sum(1 for got in claims.values() if got) >= 2, "one instance took everything"


def test_a_killed_instances_pages_are_taken_over_and_its_fence_fails(two: tuple[Database, Database]) -> None:
    a, b = two
    watch(a, 1)
    [page] = page_store.claim_due_pages(a, NOW, "dead", lease=30)
    assert page_store.claim_due_pages(b, NOW + timedelta(seconds=29), "alive", lease=30) == []
    late = NOW + timedelta(seconds=31)
    assert [p.id for p in page_store.claim_due_pages(b, late, "alive", lease=30)] == [page.id]
    assert page_store.mark_checking_many(b, "alive", [(page.id, late, 120, 30)]) == [True]
    # The dead instance wakes up (a SIGSTOPped process, say): its fence fails, it does not fetch.
    assert page_store.mark_checking_many(a, "dead", [(page.id, late, 120, 30)]) == [False]
    # And the fence moved the next check one interval on: no one claims it again within that interval.
    page_store.record_checks(b, "dead", [(page.id, {"last_error": "stale"})])  # a late record is ignored
    assert page_store.claim_due_pages(a, late + timedelta(seconds=119), "third", lease=30) == []


def test_two_daemons_never_check_a_page_twice_within_its_interval(
    two: tuple[Database, Database],
    pg_url: str,
    tmp_path: Path,
    feed_server: FeedServer,
) -> None:
    """Two pipelines (two instances) on one PostgreSQL check 30 pages on a real server for 2 simulated
    hours; every page's fetches are at least its interval apart, and both instances do some of the work."""
    n = 30
    for i in range(n):
        feed_server.set(f"/p{i:03d}", f"<html><body><article><p>Page {i} says the same.</p></article></body></html>",
                        content_type="text/html")  # fmt: skip
    watch(two[0], n, base=f"http://127.0.0.1:{feed_server.port}")
    clock = {"now": NOW}
    raw = {"monitor": {"database": pg_url, "allow_private_addresses": True, "page_check_min": "2m",
                       "page_check_max": "10m", "jitter": 0.1}}  # fmt: skip
    config = parse_config(raw, base=tmp_path)
    pipes = [Pipeline(config, Database(pg_url), clock=lambda: clock["now"], owner=f"inst{k}") for k in range(2)]
    fetched_at: dict[str, list[datetime]] = {}
    done: Counter[str] = Counter()

    async def run() -> None:
        for _ in range(2 * 60 * 2):  # every 30 simulated seconds for two hours
            before = len(feed_server.requests)
            results = await asyncio.gather(*(p.check_pages() for p in pipes))
            for k, outcomes in enumerate(results):
                done[f"inst{k}"] += sum(o.result != "skipped" for o in outcomes)
            for r in feed_server.requests[before:]:
                fetched_at.setdefault(r["path"], []).append(clock["now"])
            clock["now"] += timedelta(seconds=30)
        for p in pipes:
            await p.aclose()

    asyncio.run(run())
    for p in pipes:
        p.db.close()
    assert len(fetched_at) == n
    for path, times in fetched_at.items():
        gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
        assert min(gaps) >= 120 * 0.9, f"{path} fetched twice within its interval: {gaps}"
    assert all(done[f"inst{k}"] > 0 for k in range(2)), done
    assert len(page_store.list_pages(two[0])) == n  # the checks found nothing new: no version, no new page
    rows = page_store.list_pages(two[0])
    assert {r.interval_s for r in rows} == {600}  # unchanged pages reached the maximum


class TimedPages:
    """Serves /p000.. (the same text as their versions) and records when each was fetched."""

    def __init__(self, n: int) -> None:
        self.hits: list[tuple[str, float]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                outer.hits.append((self.path, time.monotonic()))
                i = int(self.path.removeprefix("/p"))
                body = f"<html><body><article><p>Page {i} says the same.</p></article></body></html>".encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_a_sigkilled_daemons_pages_are_taken_over(
    two: tuple[Database, Database],
    pg_url: str,
    tmp_path: Path,
) -> None:
    """Two real daemons share 20 pages; one is SIGKILLed. Its pages are checked again by the other once
    their leases expire, and no page is ever fetched twice within its interval (2 s at least)."""
    n = 20
    pages = TimedPages(n)
    watch(two[0], n, base=f"http://127.0.0.1:{pages.port}")
    config = tmp_path / "monitor.toml"
    config.write_text(
        "\n".join([
            "[monitor]", f'database = "{pg_url}"', "allow_private_addresses = true", 'feed_lease = "6s"',
            'page_check_min = "2s"', 'page_check_max = "4s"', "jitter = 0.1",
        ]) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    logs = [(tmp_path / f"d{k}.log").open("w") for k in range(2)]
    daemons = [
        subprocess.Popen([sys.executable, "-m", "monitor", "run", "--config", str(config)], cwd=tmp_path,
                         stdout=logs[k], stderr=subprocess.STDOUT)
        for k in range(2)
    ]  # fmt: skip
    try:
        time.sleep(12)  # both check pages for a while
        daemons[0].kill()  # SIGKILL: no shutdown, its leases stay until they expire
        daemons[0].wait()
        killed_at = time.monotonic()
        time.sleep(16)  # lease (6 s) + max interval (4 s) + ticks
    finally:
        for d in daemons:
            if d.poll() is None:
                d.send_signal(signal.SIGTERM)
                d.wait(timeout=60)
        for log in logs:
            log.close()
        pages.server.shutdown()
        pages.server.server_close()
    by_page: dict[str, list[float]] = {}
    for path, at in pages.hits:
        by_page.setdefault(path, []).append(at)
    assert len(by_page) == n
    for path, times in by_page.items():
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert min(gaps) >= 2 * 0.9 - 0.05, f"{path} fetched twice within its interval: {gaps}"
        assert max(times) > killed_at + 6, f"{path} was not checked after the kill: taken over by no one"
