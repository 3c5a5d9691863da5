"""Soak test of the real daemon: 200 local feeds that keep publishing, a receiver that sometimes
fails; RSS memory and open file descriptors sampled over time; every event delivered?

    python bench/soak.py                 # 10 minutes of publishing, then a drain (about 13 minutes)
    python bench/soak.py --minutes 2     # a short run

What runs:

* feeds: ``--feeds`` RSS feeds on 127.0.0.1, spread over 8 servers (ports: the daemon's per-host limit
  counts host and port, so these are 8 "publishers"). Feed ``i`` publishes a new item every ``--period``
  seconds (random phase) for ``--minutes``, lists its last 10 items, answers 304 to a matching ETag. About
  30% of the items are updates to one of 40 developing stories (the story's lede, two new sentences with new
  words and numbers, "This is a developing story", each update under its own URL and GUID, from any feed); 30 of the
  40 stories are on the watchlist, so their updates should become ``story.opened`` / ``story.updated``
  events. The other items are filler that no watchlist matches.
* the daemon: ``python -m monitor run`` (a subprocess, SQLite in the work folder, ``poll_interval`` =
  ``--interval``, every other setting at its default, webhook signed) with its log in the work folder.
* the receiver: ``bench/_servers.py`` in its own process, answering 500 to ``--fail`` of the POSTs.

Every ``--sample`` seconds: the daemon's VmRSS and thread count (``/proc/PID/status``), its open file
descriptors (``/proc/PID/fd``), its child processes, and the database's articles, events and delivered
deliveries. After publishing stops, the daemon keeps running (polls answered 304, retries coming due) until
every delivery is delivered (at least ``--idle`` seconds: the idle part of the curve) or ``--drain``
seconds have passed. Then it is stopped with SIGTERM and the run is
judged: every event in the database answered 200 by the receiver (de-duplicated by webhook-id), every
published item stored, the slope of RSS and the fd range over the last half of the publishing phase and
over the drain. All samples go to ``samples.csv`` in the work folder.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _servers import Receiver

from tests.scale_servers import answer_feed, feed_index

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # the Standard Webhooks spec's example key
HOSTS = 8
WINDOW = 10  # items listed per feed
TOPICS = 40
WATCHED = 30  # topics 0..29 are on the watchlist
UPDATE_SHARE = 0.3
PLACES = [
    a + b
    for a in ("Vor", "Kal", "Mer", "Tash", "Bel", "Orin", "Zar", "Hal")
    for b in ("ova", "eth", "ind", "ama", "usk")
]
KINDS = ("Fire", "Flooding", "Strike", "Earthquake", "Landslide", "Blackout", "Protest", "Explosion")
WORDS = (
    "harbour",
    "council",
    "reactor",
    "ferry",
    "glacier",
    "tariff",
    "vaccine",
    "drought",
    "senate",
    "mine",
    "bridge",
    "pipeline",
    "court",
    "refinery",
    "election",
    "border",
    "satellite",
    "railway",
    "hospital",
    "dam",
    "budget",
    "airport",
    "quarry",
    "treaty",
    "embassy",
    "outbreak",
    "verdict",
    "convoy",
    "recall",
    "merger",
    "orchestra",
    "museum",
    "festival",
    "league",
    "transfer",
    "stadium",
    "gallery",
    "recipe",
    "bakery",
    "garden",
)


# --- the feeds ------------------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 512


SYLLABLES = ("ka", "lo", "mi", "ren", "tas", "vu", "zel", "dor", "bri", "nax", "qui", "sol", "fen", "gar")


def pseudo_words(rnd: random.Random, n: int) -> list[str]:
    return ["".join(rnd.choice(SYLLABLES) for _ in range(3)) for _ in range(n)]


def topic_item(t: int, rnd: random.Random) -> tuple[str, str]:
    """An update to developing story ``t`` (title, HTML body): the story's lede, then two sentences of its
    own (new words and numbers: the novelty check treats a sentence whose words are all known as a rewrite,
    even when its numbers changed; see docs/operations.md)."""
    place, kind = PLACES[t], KINDS[t % len(KINDS)]
    w = pseudo_words(random.Random(t * 7919), 7)  # the words of story t alone: 40 stories stay 40
    lede = (
        f"A {kind.lower()} hit {place} near the {w[0]} {w[1]}, officials in {w[2].title()} said, "
        f"and {w[3]} {w[4]} crews were sent from {w[5].title()} {w[6]}."
    )
    n, m = rnd.randrange(10, 99_999), rnd.randrange(2, 900)
    f = pseudo_words(rnd, 6)
    new = (
        f"Officials in {place} said {n:,} people had been moved to shelters in {f[0].title()} and "
        f"{f[1].title()}. Engineers from {f[2].title()} counted {m} damaged {f[3]} buildings near the "
        f"{f[4]} {f[5]}."
    )
    body = f"<p>{lede}</p><p>{new}</p><p>This is a developing story. Check back for updates.</p>"
    return f"UPDATE {m % 9 + 2}-{kind} in {place}: {n:,} moved to shelters", body


def filler_item(i: int, j: int, rnd: random.Random) -> tuple[str, str]:
    words = [rnd.choice(WORDS) for _ in range(40)]
    sentences = [" ".join(words[k : k + 10]).capitalize() + "." for k in range(0, 40, 10)]
    return f"Feed {i} item {j}: {words[0]} {words[1]}", f"<p>{' '.join(sentences)}</p>"


@dataclass
class PublishingFeeds:
    """Feed ``i`` (on server ``i % HOSTS``) publishes item ``j`` at ``start + offset_i + j * period``."""

    n: int
    period: float
    publish_for: float
    start: float = 0.0
    prefill: int = 3  # items each feed already has when the run starts

    def __post_init__(self) -> None:
        self.start = self.start or time.time()
        rnd = random.Random(7)
        self.offsets = [rnd.uniform(0, self.period) for _ in range(self.n)]
        self.requests = 0
        self._cache: dict[int, tuple[int, bytes]] = {}
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real publishers

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                outer._serve(self)

        self.servers = [_Server(("127.0.0.1", 0), Handler) for _ in range(HOSTS)]
        for server in self.servers:
            threading.Thread(target=server.serve_forever, daemon=True).start()

    def url(self, i: int) -> str:
        return f"http://127.0.0.1:{self.servers[i % HOSTS].server_address[1]}/f/{i}.rss"

    def latest(self, i: int, now: float) -> int:
        t = min(now, self.start + self.publish_for) - self.start - self.offsets[i]
        return self.prefill - 1 + (int(t // self.period) if t >= 0 else 0)

    def item(self, i: int, j: int) -> dict[str, str]:
        rnd = random.Random(i * 100_003 + j)
        if rnd.random() < UPDATE_SHARE:
            title, body = topic_item(rnd.randrange(TOPICS), rnd)
        else:
            title, body = filler_item(i, j, rnd)
        return {"title": title, "link": f"http://news.test/{i}/{j}", "guid": f"f{i}-{j}", "description": body}

    def body(self, i: int, last: int) -> bytes:
        with self._lock:
            cached = self._cache.get(i)
        if cached and cached[0] == last:
            return cached[1]
        head = f"<title>Feed {i}</title><link>http://news.test/</link><description>soak</description>"
        parts = ['<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>' + head]
        for j in range(last, max(-1, last - WINDOW), -1):
            it = self.item(i, j)
            at = self.start + self.offsets[i] + (j - self.prefill) * self.period
            published = formatdate(at, usegmt=True)
            parts.append(
                f"<item><title>{escape(it['title'])}</title><link>{it['link']}</link>"
                f'<guid isPermaLink="false">{it["guid"]}</guid><pubDate>{published}</pubDate>'
                f"<description>{escape(it['description'])}</description></item>"
            )
        data = ("".join(parts) + "</channel></rss>").encode()
        with self._lock:
            self._cache[i] = (last, data)
        return data

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        i = feed_index(h.path, self.n)
        if i is None:
            h.send_error(404)
            return
        with self._lock:
            self.requests += 1
        last = self.latest(i, time.time())
        answer_feed(h, f'"{i}-{last}"', lambda: self.body(i, last))

    def published(self) -> set[tuple[str, str]]:
        """(source, guid) of every item published, as the daemon names them."""
        end = self.start + self.publish_for
        return {(f"f{i}", f"f{i}-{j}") for i in range(self.n) for j in range(self.latest(i, end) + 1)}

    def close(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()


def write_config(folder: Path, feeds: PublishingFeeds, receiver: Receiver, interval: float) -> Path:
    keywords = ", ".join(f'"{PLACES[t]}"' for t in range(WATCHED))
    lines = [
        "[monitor]",
        'database = "sqlite:///soak.db"',
        f'poll_interval = "{interval:g}s"',
        "allow_private_addresses = true",
        'log_format = "human"',
        "",
    ]
    for i in range(feeds.n):
        lines += ["[[feeds]]", f'name = "f{i}"', f'url = "{feeds.url(i)}"', ""]
    lines += ["[[webhooks]]", 'name = "desk"', f'url = "{receiver.url}"', f'secret = "{SECRET}"', ""]
    lines += ["[[watchlists]]", 'name = "disasters"', f"keywords = [{keywords}]", 'webhooks = ["desk"]']
    path = folder / "monitor.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --- sampling -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    t: float  # seconds since the daemon started
    phase: str  # publish | drain
    rss_mib: float
    fds: int
    threads: int
    children: int
    articles: int
    events: int
    delivered: int
    received: int  # distinct webhook-ids the receiver answered 200


def proc_status(pid: int) -> dict[str, str]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        out[key] = value.strip()
    return out


def children(pid: int) -> list[int]:
    """Direct and indirect children of ``pid`` (the parse pool's forkserver and workers)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    out, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        kids = [p for p, pp in parents.items() if pp == parent]
        out += kids
        frontier += kids
    return out


def db_counts(path: Path) -> tuple[int, int, int]:
    """(articles, events, delivered deliveries), read-only, beside the daemon's writes (WAL)."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    except sqlite3.Error:
        return 0, 0, 0
    try:
        one = lambda sql: int(conn.execute(sql).fetchone()[0])  # noqa: E731
        return (
            one("SELECT count(*) FROM articles"),
            one("SELECT count(*) FROM events"),
            one("SELECT count(*) FROM deliveries WHERE status = 'delivered'"),
        )
    except sqlite3.Error:
        return 0, 0, 0
    finally:
        conn.close()


def sample(pid: int, db: Path, receiver: Receiver, t: float, phase: str) -> Sample:
    status = proc_status(pid)
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    articles, events, delivered = db_counts(db)
    return Sample(
        round(t, 1),
        phase,
        int(status["VmRSS"].split()[0]) / 1024,
        fds,
        int(status["Threads"]),
        len(children(pid)),
        articles,
        events,
        delivered,
        len(receiver.accepted_ids()),
    )


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope (per second)."""
    if len(points) < 2:
        return 0.0
    mx = sum(x for x, _ in points) / len(points)
    my = sum(y for _, y in points) / len(points)
    den = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / den if den else 0.0


def row(s: Sample) -> str:
    return (
        f"{s.t:>7.0f} {s.phase:<7} {s.rss_mib:>8.1f} {s.fds:>4} {s.threads:>4} {s.children:>4} "
        f"{s.articles:>8} {s.events:>6} {s.delivered:>9} {s.received:>8}"
    )


HEADER = (
    f"{'t (s)':>7} {'phase':<7} {'RSS MiB':>8} {'fds':>4} {'thr':>4} {'kids':>4} "
    f"{'articles':>8} {'events':>6} {'delivered':>9} {'received':>8}"
)


# --- the run --------------------------------------------------------------------------------------------


def pending_deliveries(db: Path) -> int:
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
        try:
            sql = "SELECT count(*) FROM deliveries WHERE status != 'delivered'"
            return int(conn.execute(sql).fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return -1


def stop_daemon(proc: subprocess.Popen[bytes]) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return int(proc.returncode)


def run(args: argparse.Namespace, folder: Path) -> int:
    feeds = PublishingFeeds(args.feeds, args.period, args.minutes * 60)
    receiver = Receiver(fail=args.fail, seed=3)
    config = write_config(folder, feeds, receiver, args.interval)
    db = folder / "soak.db"
    samples: list[Sample] = []
    kids_seen: set[int] = set()
    log = (folder / "daemon.log").open("wb")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor", "run", "--config", str(config)], stdout=log, stderr=subprocess.STDOUT, env=env
    )
    up = time.monotonic() + 60
    while b"daemon.started" not in (folder / "daemon.log").read_bytes() and time.monotonic() < up:
        time.sleep(0.2)  # sample the running daemon, not the interpreter starting
    started = time.monotonic()
    publish_end = started + args.minutes * 60
    print(
        f"daemon pid {proc.pid}, {args.feeds} feeds on {HOSTS} local servers, "
        f"receiver fails {args.fail:.0%}; work folder {folder}",
        flush=True,
    )
    print(HEADER, flush=True)
    try:
        drained_at = None
        while proc.poll() is None:
            now = time.monotonic()
            phase = "publish" if now < publish_end else "drain"
            s = sample(proc.pid, db, receiver, now - started, phase)
            kids_seen.update(children(proc.pid))
            samples.append(s)
            if len(samples) % max(1, round(30 / args.sample)) == 1:
                print(row(s), flush=True)
            if phase == "drain":
                settled = now > publish_end + max(2.5 * args.interval, args.idle)  # every feed polled again
                if settled and s.events and pending_deliveries(db) == 0:
                    drained_at = now
                    break
                if now > publish_end + args.drain:
                    break
            time.sleep(max(0.0, started + len(samples) * args.sample - time.monotonic()))
        crashed = proc.poll()
        print(row(samples[-1]), flush=True)
    finally:
        code = stop_daemon(proc)
        log.close()
        accepted_posts = [p for p in receiver.posts() if p.status == 200]
        all_posts = len(receiver.posts())
        receiver.close()
        published = feeds.published()
        feeds.close()
    return report(
        args,
        folder,
        samples,
        crashed,
        code,
        drained_at,
        publish_end - started,
        started,
        accepted_posts,
        all_posts,
        published,
        kids_seen,
    )


def report(
    args: argparse.Namespace,
    folder: Path,
    samples: list[Sample],
    crashed: int | None,
    code: int,
    drained_at: float | None,
    publish_s: float,
    started: float,
    accepted: list[Any],
    all_posts: int,
    published: set[tuple[str, str]],
    kids_seen: set[int],
) -> int:
    with (folder / "samples.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(asdict(samples[0])))
        writer.writeheader()
        writer.writerows(asdict(s) for s in samples)
    conn = sqlite3.connect(folder / "soak.db")
    event_ids = {r[0] for r in conn.execute("SELECT id FROM events")}
    by_status = dict(conn.execute("SELECT status, count(*) FROM deliveries GROUP BY status").fetchall())
    stored = set(conn.execute("SELECT source, guid FROM articles").fetchall())
    kinds = dict(conn.execute("SELECT type, count(*) FROM events GROUP BY type").fetchall())
    conn.close()
    ids = {p.webhook_id for p in accepted}
    log_text = (folder / "daemon.log").read_text(errors="replace")
    strays = [p for p in kids_seen if Path(f"/proc/{p}").exists()]

    print("\nThe curve (one row a minute, every sample in samples.csv):")
    print(HEADER)
    step = max(1, round(60 / args.sample))
    for s in samples[::step] + ([samples[-1]] if (len(samples) - 1) % step else []):
        print(row(s))
    pub = [s for s in samples if s.phase == "publish"]
    half = pub[len(pub) // 2 :]
    drain = [s for s in samples if s.phase == "drain"]
    rss_half = slope([(s.t, s.rss_mib) for s in half]) * 60
    rss_drain = slope([(s.t, s.rss_mib) for s in drain]) * 60
    art_half = (half[-1].articles - half[0].articles) if half else 0
    mib_per_k = (half[-1].rss_mib - half[0].rss_mib) / art_half * 1000 if art_half else 0.0
    fd_half = (min(s.fds for s in half), max(s.fds for s in half)) if half else (0, 0)
    fd_drain = (min(s.fds for s in drain), max(s.fds for s in drain)) if drain else (0, 0)
    # In-flight polls and pooled keep-alive connections make the count move by a dozen or two; a leak
    # climbs: judge the trend of the last half and whether the idle drain stays under the busy maximum.
    fd_slope = slope([(s.t, s.fds) for s in half]) * 60
    fds_flat = fd_slope < 1.0 and (not drain or fd_drain[1] <= fd_half[1] + 4)
    rss_flat = rss_drain <= 0.5
    print(
        f"\nmachine: {os.cpu_count()} CPUs; {args.feeds} feeds, poll_interval {args.interval:g}s, "
        f"an item per feed every {args.period:g}s, {args.minutes:g} min publishing, "
        f"receiver fails {args.fail:.0%}"
    )
    end_pub = pub[-1].rss_mib if pub else 0.0
    print(
        f"RSS: start {samples[0].rss_mib:.1f} MiB, end of publishing {end_pub:.1f} MiB, "
        f"end {samples[-1].rss_mib:.1f} MiB, peak {max(s.rss_mib for s in samples):.1f} MiB"
    )
    print(
        f"RSS slope, last half of publishing: {rss_half:+.2f} MiB/min ({art_half} articles stored "
        f"meanwhile: {mib_per_k:+.2f} MiB per 1000 articles); during the drain (no new articles): "
        f"{rss_drain:+.2f} MiB/min"
    )
    print(
        f"fds: last half of publishing {fd_half[0]}..{fd_half[1]}, drain {fd_drain[0]}..{fd_drain[1]} "
        f"slope {fd_slope:+.2f}/min -> {'flat' if fds_flat else 'GROWING'}; threads "
        f"{min(s.threads for s in samples)}..{max(s.threads for s in samples)}; "
        f"child processes seen {len(kids_seen)}"
    )
    missing = published - stored
    lost = event_ids - ids
    print(f"articles: {len(published)} published, {len(stored)} stored, {len(missing)} published but not stored")
    print(f"events: {len(event_ids)} in the database {kinds}; deliveries by status {by_status}")
    print(
        f"receiver: {all_posts} POSTs, {len(accepted)} answered 200, {len(ids)} distinct ids "
        f"({len(accepted) - len(ids)} duplicate 200s); unknown ids: {len(ids - event_ids)}"
    )
    drain_note = "NOT drained"
    if drained_at:
        drain_note = f"drained {drained_at - started - publish_s:.0f}s after publishing stopped"
    print(f"every event delivered: {'YES' if not lost else f'NO, {len(lost)} missing'} ({drain_note})")
    words = (
        "Traceback",
        "poll.bug",
        "job.crashed",
        "job.skipped",
        "job.missed",
        "deliver.dead",
        "poll.failed",
        "deliver.retry",
        "feed.anomaly",
    )
    print("daemon log: " + ", ".join(f"{w} {log_text.count(w)}" for w in words))
    print(
        f"daemon: {'crashed with ' + str(crashed) if crashed is not None else 'ran to the end'}; "
        f"SIGTERM exit code {code}; stray child processes after stop: {len(strays)}"
    )
    verdict = "flat" if rss_flat else "GROWING"
    print(f"RSS without new articles (drain): {verdict} (criterion: <= 0.5 MiB/min)")
    ok = not lost and not missing and fds_flat and rss_flat and crashed is None and code == 0 and not strays
    print(f"verdict: {'OK' if ok else 'PROBLEMS (see above)'}")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="how long the feeds publish")
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--interval", type=float, default=30.0, help="the daemon's poll_interval, seconds")
    parser.add_argument("--period", type=float, default=60.0, help="seconds between two items of one feed")
    parser.add_argument("--fail", type=float, default=0.1, help="share of POSTs the receiver answers 500")
    parser.add_argument("--sample", type=float, default=5.0, help="seconds between samples")
    parser.add_argument("--idle", type=float, default=180.0, help="least time run after publishing stops")
    parser.add_argument("--drain", type=float, default=360.0, help="longest time run after publishing stops")
    parser.add_argument("--keep", type=Path, help="work folder to keep (default: a temporary one)")
    args = parser.parse_args()

    def interrupted(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)  # `kill` of the soak still stops the daemon (finally)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        return run(args, args.keep)
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        return run(args, Path(tmp))


if __name__ == "__main__":
    sys.exit(main())
