"""The multi-instance proof, shared by tests/test_scale.py (small) and bench/bench_scale.py (full):
many feeds on one local server that keep publishing for a bounded time, N real ``news-monitor run``
processes on one PostgreSQL, one webhook receiver, optionally one instance SIGKILLed midway.

``PublishingFeeds`` serves ``/f/<i>.rss``: item ``j`` of feed ``i`` appears at ``start + offset_i + j *
period`` until ``publish_for`` has passed; a feed lists its last ``window`` items, answers 304 to a matching
ETag, and the server records when each feed was asked for. ``Cluster`` runs the instances; ``analyse``
turns what the server, the receiver and the database saw into the numbers the test asserts and the
benchmark prints.
"""

from __future__ import annotations

import itertools
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select

from monitor.store.schema import articles, deliveries, events
from monitor.store.schema import feeds as feeds_t
from tests.servers import Receiver, rss


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024


def feed_index(path: str, n: int) -> int | None:
    """Which of ``n`` feeds a "/f/<i>.rss" request path asks for (None: no such feed, answer 404)."""
    try:
        i = int(path.removeprefix("/f/").removesuffix(".rss"))
    except ValueError:
        return None
    return i if 0 <= i < n else None


def answer_feed(h: BaseHTTPRequestHandler, etag: str, body: Callable[[], bytes]) -> None:
    """304 when the client's ETag is current, else 200 with ``body()`` (built only then)."""
    if h.headers.get("If-None-Match") == etag:
        h.send_response(304)
        h.send_header("ETag", etag)
        h.send_header("Content-Length", "0")
        h.end_headers()
        return
    data = body()
    h.send_response(200)
    h.send_header("Content-Type", "application/rss+xml; charset=utf-8")
    h.send_header("Content-Length", str(len(data)))
    h.send_header("ETag", etag)
    h.end_headers()
    h.wfile.write(data)


@dataclass
class PublishingFeeds:
    n: int
    period: float  # seconds between two items of one feed
    publish_for: float  # seconds; after that the feeds stop changing
    window: int = 10  # items listed per feed
    start: float = field(default_factory=time.time)
    hits: dict[int, list[float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        rnd = random.Random(7)
        self.offsets = [rnd.uniform(0, self.period) for _ in range(self.n)]
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive: the instances' pooled connections are reused

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                outer._serve(self)

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, i: int) -> str:
        return f"http://127.0.0.1:{self.port}/f/{i}.rss"

    def latest(self, i: int, now: float) -> int:
        """Index of the newest item of feed ``i`` published by ``now`` (-1: none yet)."""
        t = min(now, self.start + self.publish_for) - self.start - self.offsets[i]
        return int(t // self.period) if t >= 0 else -1

    def item(self, i: int, j: int) -> dict[str, str]:
        """A story of its own: made-up words, so the matcher joins nothing (one event per item)."""
        rnd = random.Random(i * 100_003 + j)
        words = ["".join(rnd.choice("bcdfghklmnprstvz") + rnd.choice("aeiou") for _ in range(3)) for _ in range(40)]
        sentences = [" ".join(words[k : k + 10]).capitalize() + "." for k in range(0, 40, 10)]
        body = f"<p>{' '.join(sentences)}</p><p>Check back for updates on this developing story.</p>"
        return {"title": f"{words[0]} {words[1]} {words[2]}".capitalize(), "link": f"http://news.test/{i}/{j}",
                "guid": f"f{i}-{j}", "description": body}  # fmt: skip

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        now = time.time()
        i = feed_index(h.path, self.n)
        if i is None:
            h.send_error(404)
            return
        with self._lock:
            self.hits.setdefault(i, []).append(now)
        last = self.latest(i, now)

        def body() -> bytes:
            items = [self.item(i, j) for j in range(last, max(-1, last - self.window), -1)]
            return rss(items, title=f"Feed {i}").encode()

        answer_feed(h, f'"{i}-{last}"', body)

    def published(self) -> set[tuple[str, str]]:
        """(source, guid) of every item published (as the daemon will name them)."""
        end = self.start + self.publish_for
        return {(f"f{i}", f"f{i}-{j}") for i in range(self.n) for j in range(self.latest(i, end) + 1)}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def write_config(path: Path, db_url: str, feeds: PublishingFeeds, receiver: Receiver, *, interval: float,
                 feed_lease: float, delivery_lease: float) -> Path:  # fmt: skip
    lines = ["[monitor]", f'database = "{db_url}"', f'poll_interval = "{interval}s"', "jitter = 0",
             'deliver_interval = "1s"', f'feed_lease = "{feed_lease}s"',
             f'delivery_lease = "{delivery_lease}s"', 'log_format = "human"',
             # Not what these runs measure (tests/test_fulltext.py is): the items link to news.test, and a
             # failed lookup took 0.4-0.5 s on this machine's resolver, inside every poll with a new item.
             # The same for page checks (docs/pages.md, tests/test_pages.py).
             "fulltext = false", "page_checks = false"]  # fmt: skip
    for i in range(feeds.n):
        lines += ["[[feeds]]", f'name = "f{i}"', f'url = "{feeds.url(i)}"']
    lines += ["[[webhooks]]", 'name = "desk"', f'url = "{receiver.url}"', 'timeout = "10s"']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class Cluster:
    """N ``python -m monitor run`` processes on one config (one database); logs in ``folder``."""

    def __init__(self, config: Path, n: int, folder: Path) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []
        self.killed: list[int] = []
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        for k in range(n):
            with (folder / f"instance-{k}.log").open("wb") as log:  # the child keeps its own copy
                command = [sys.executable, "-m", "monitor", "run", "--config", str(config)]
                self.procs.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env))

    def kill(self, k: int) -> None:
        self.procs[k].send_signal(signal.SIGKILL)
        self.procs[k].wait()
        self.killed.append(k)

    def holding_leases(self, db_url: str) -> int | None:
        """An instance that holds feed leases right now (by ``host:pid`` in ``lease_owner``), if any."""
        engine = create_engine(db_url)
        try:
            with engine.connect() as conn:
                owners = {
                    r[0] for r in conn.execute(select(feeds_t.c.lease_owner).where(feeds_t.c.lease_owner.is_not(None)))
                }
        finally:
            engine.dispose()
        pids = {int(o.rsplit(":", 1)[1]) for o in owners}
        return next((k for k, p in enumerate(self.procs) if p.pid in pids and p.poll() is None), None)

    def alive(self) -> list[int]:
        return [k for k, p in enumerate(self.procs) if p.poll() is None]

    def stop(self, timeout: float = 30) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


@dataclass
class Outcome:
    polls: int
    polls_per_feed: Counter[int]
    min_gap: float  # shortest time between two requests for one feed
    max_gap: float  # longest (while feeds were being polled)
    published: int
    stored: int
    missing: int  # published items not in the database
    events: int
    delivered_ids: int  # distinct webhook-ids the receiver accepted
    raw_posts: int
    duplicate_posts: int  # raw POSTs minus distinct ids (at-least-once re-sends after a crash)
    undelivered: int  # deliveries not in status "delivered"
    unknown_ids: int  # ids the receiver got that are not events in the database


def gaps(feeds: PublishingFeeds, until: float) -> list[float]:
    out = []
    for times in feeds.hits.values():
        ts = sorted(t for t in times if t <= until)
        out += [b - a for a, b in itertools.pairwise(ts)]
    return out


def analyse(feeds: PublishingFeeds, receiver: Receiver, db_url: str, until: float) -> Outcome:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            stored = {(r.source, r.guid) for r in conn.execute(select(articles.c.source, articles.c.guid))}
            event_ids = {r.id for r in conn.execute(select(events.c.id))}
            undelivered = conn.execute(
                select(func.count()).select_from(deliveries).where(deliveries.c.status != "delivered")
            ).scalar_one()
    finally:
        engine.dispose()
    posts = [p for p in receiver.all_posts() if 200 <= p["status"] < 300]
    ids = {p["headers"]["webhook-id"] for p in posts}
    published = feeds.published()
    all_gaps = gaps(feeds, until)
    per_feed = Counter({i: len(t) for i, t in feeds.hits.items()})
    return Outcome(
        polls=sum(per_feed.values()), polls_per_feed=per_feed, min_gap=min(all_gaps, default=0.0),
        max_gap=max(all_gaps, default=0.0), published=len(published), stored=len(stored),
        missing=len(published - stored), events=len(event_ids), delivered_ids=len(ids), raw_posts=len(posts),
        duplicate_posts=len(posts) - len(ids), undelivered=int(undelivered), unknown_ids=len(ids - event_ids),
    )  # fmt: skip
