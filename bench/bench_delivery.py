"""Webhook delivery through the real outbox: events/s, and the delay from the story change to
the receiver's 200, with a receiver that always answers 200 and one that answers 500 to 20% of the POSTs.

    python bench/bench_delivery.py           # 2000-event backlogs, 30 s of steady arrivals (~8 minutes)
    python bench/bench_delivery.py --quick   # 300-event backlogs, 10 s of arrivals (~2 minutes)

What runs: ``monitor.service.pipeline.Pipeline`` with a real SQLite file in a temporary folder, its
``Deliverer`` (the semaphore bounds concurrent POSTs; 8 is the default), signed JSON bodies, and a receiver
on 127.0.0.1 in a process of its own (``bench/_servers.py``; it answers 500 to a seeded share of POSTs).
Events are written the way the ingest writes them (``IngestTx.create_story`` + ``insert_event``: event and
pending delivery in one transaction), with real ``story.opened`` payloads (~1.4 KB). The delay of an event
is the receiver's clock when it answered 200 minus the event's ``created_at`` (same machine, wall clock).

Three ways to drive the outbox, because they answer different questions:

* **backlog, tight**: N events are written at once, then ``Pipeline.deliver`` runs back to back; when
  nothing is due it sleeps until the soonest retry. This is what the Deliverer can do (its capacity).
* **backlog, once**: the same backlog drained by ``Pipeline.flush_outbox`` (``news-monitor once``).
* **daemon clock**: events arrive at a steady rate (one transaction each, from a thread, as polls do) while
  APScheduler calls ``Pipeline.deliver`` every ``deliver_interval``, with the daemon's job settings. This
  is the latency an operator sees.

The baseline, measured in the same run just before each backlog row (the load of a shared machine drifts):
a plain httpx POST loop (same client settings, same bodies, same concurrency, no database, no signing) to the
same receiver answering 200. A failed delivery is retried after
``delivery_retry_delay`` (5 s base, doubling, full jitter: 2.5-5 s, then 5-10 s, ...), so with 20% failures
about 4% of events need a third attempt and the p99 delay is made of backoff, not of HTTP.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _servers import Post, Receiver

from monitor.alerts import payload as payloads
from monitor.alerts.delivery import encode_body
from monitor.config import parse_config
from monitor.core.model import Article, WatchHit
from monitor.core.novelty import KnownText, compute_novelty
from monitor.service.delivering import Deliverer
from monitor.service.pipeline import Pipeline
from monitor.sources.fetch import build_client
from monitor.store.db import Database
from monitor.store.schema import deliveries, events
from monitor.store.stories import ingest_transaction

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # the Standard Webhooks spec's example key
TEXT = (
    "Syria's army retook the last rebel-held districts of east Aleppo on Thursday, state television said.\n\n"
    "At least 34,000 people, civilians and fighters, have been evacuated from east Aleppo, the U.N. said.\n\n"
    '"Many of them have gone to Idlib, which could be in theory the next Aleppo," U.N. envoy Staffan de '
    "Mistura told reporters in Geneva.\n\nThis is a developing story. Check back for updates."
)
NOVELTY = compute_novelty(KnownText.of([]), "Syria's army retakes Aleppo", TEXT)
DRAIN_TIMEOUT = 600.0


@dataclass(frozen=True)
class Row:
    mode: str
    concurrency: int
    fail: float
    events: int
    posts: int
    rate: float  # first attempts answered per second
    done_s: float  # from the start to the last 200
    p50: float
    p99: float
    worst: float
    lost: int  # events the receiver never answered 200
    extra: str = ""
    base: float = 0.0  # the baseline's events/s, measured just before this row


def payload(event_id: str, story_id: str, seq: int, prev: str | None, now: datetime, n: int) -> dict[str, Any]:
    title = f"UPDATE {seq}-Syria's army retakes Aleppo (story {n})"
    article = Article("wire", f"a{n}-{seq}", title, TEXT, url=f"http://wire.test/{n}/{seq}", outlet="Bench wire")
    story = {"id": story_id, "title": title, "url": article.url, "status": "open", "developing": True}
    return payloads.story_event(
        event_id=event_id,
        type_="story.opened" if seq == 1 else "story.updated",
        created_at=now,
        story=story,
        event_seq=seq,
        previous_event_id=prev,
        version_seq=seq,
        article=article,
        novelty=NOVELTY,
        hits=(WatchHit("all", ("Aleppo", "Idlib")),),
        match={"signal": "matcher", "score": 0.9},
        markers=("developing-story", "check-back"),
    )


def write_events(db: Database, keys: list[tuple[int, int]]) -> None:
    """Events ``(story n, seq)`` in one transaction, stamped now (seq 1 creates the story)."""
    now = datetime.now(UTC)
    with ingest_transaction(db) as tx:
        for n, seq in keys:
            story_id = f"st_bench{n:06d}"
            if seq == 1:
                tx.create_story(story_id, f"story {n}", None, now)
            prev = f"evt_bench{n:06d}_{seq - 1}" if seq > 1 else None
            event_id = f"evt_bench{n:06d}_{seq}"
            body = payload(event_id, story_id, seq, prev, now, n)
            tx.insert_event(event_id, body["type"], story_id, seq, now, body, ("desk",))


def make_pipeline(folder: Path, url: str, concurrency: int) -> Pipeline:
    raw = {
        "monitor": {"database": "sqlite:///bench.db"},
        "webhooks": [{"name": "desk", "url": url, "secret": SECRET}],
        "watchlists": [{"name": "all", "regex": ["."], "webhooks": ["desk"]}],
    }
    config = parse_config(raw, base=folder)
    p = Pipeline(config, Database(config.monitor.database), owner="bench")
    p.deliverer = Deliverer(config, p.db, p.owner, concurrency=concurrency)
    return p


def pending(db: Database) -> tuple[int, datetime | None]:
    """How many deliveries are pending, and the soonest next attempt among them."""
    query = select(func.count(), func.min(deliveries.c.next_attempt_at)).where(deliveries.c.status == "pending")
    with db.read() as conn:
        count, soonest = conn.execute(query).one()
    if isinstance(soonest, datetime) and soonest.tzinfo is None:
        soonest = soonest.replace(tzinfo=UTC)
    return int(count), soonest


async def drain_tight(p: Pipeline) -> None:
    """``deliver`` back to back while it finds work; otherwise sleep until the soonest retry."""
    end = time.monotonic() + DRAIN_TIMEOUT
    while time.monotonic() < end:
        report = await p.deliver()
        if report.delivered + report.retrying + report.dead:
            continue
        count, soonest = await asyncio.to_thread(pending, p.db)
        if not count:
            return
        wait = (soonest - datetime.now(UTC)).total_seconds() if soonest else 0.0
        await asyncio.sleep(max(wait, 0.02))


async def drain_once(p: Pipeline) -> None:
    await p.flush_outbox(DRAIN_TIMEOUT)


def measure(db: Database, posts: list[Post], start: float) -> dict[str, Any]:
    with db.read() as conn:
        created = {r.id: r.created_at for r in conn.execute(select(events.c.id, events.c.created_at))}
    first: dict[str, float] = {}
    ok: dict[str, float] = {}
    for post in posts:
        first.setdefault(post.webhook_id, post.at)
        if post.status == 200:
            ok.setdefault(post.webhook_id, post.at)
    delays = sorted(ok[i] - _ts(c) for i, c in created.items() if i in ok)
    q = statistics.quantiles(delays, n=100, method="inclusive") if len(delays) > 1 else delays * 99
    return {
        "events": len(created),
        "posts": len(posts),
        "lost": len(set(created) - set(ok)),
        "rate": len(first) / max(max(first.values(), default=start) - start, 1e-9),
        "done_s": max(ok.values(), default=start) - start,
        "p50": q[49] if q else 0.0,
        "p99": q[98] if q else 0.0,
        "worst": delays[-1] if delays else 0.0,
    }


def _ts(when: datetime) -> float:
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def backlog_run(receiver: Receiver, mode: str, concurrency: int, fail: float, stories: int, per_story: int) -> Row:
    receiver.set(fail)
    with tempfile.TemporaryDirectory() as tmp:
        p = make_pipeline(Path(tmp), receiver.url, concurrency)
        keys = [(n, seq) for seq in range(1, per_story + 1) for n in range(stories)]
        write_events(p.db, keys)
        start = time.time()

        async def go() -> None:
            try:
                await (drain_tight(p) if mode == "tight" else drain_once(p))
            finally:
                await p.aclose()

        asyncio.run(go())
        m = measure(p.db, receiver.posts(), start)
        p.db.close()
    label = f"backlog, {mode}" + (f", {per_story}/story" if per_story > 1 else "")
    return Row(label, concurrency, fail, **m)


def producer(db: Database, rate: float, seconds: float, stop: threading.Event) -> None:
    """One event per transaction, ``rate`` per second for ``seconds``, each its own story."""
    start = time.monotonic()
    n = 0
    while n < rate * seconds and not stop.is_set():
        wait = start + n / rate - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        write_events(db, [(n, 1)])
        n += 1


def clock_run(receiver: Receiver, interval: float, rate: float, seconds: float, fail: float) -> Row:
    receiver.set(fail)
    with tempfile.TemporaryDirectory() as tmp:
        p = make_pipeline(Path(tmp), receiver.url, 8)
        stop = threading.Event()
        start = time.time()

        async def go() -> None:
            # The daemon's deliver job, with the daemon's job defaults (monitor/service/daemon.py).
            scheduler = AsyncIOScheduler(job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": 30})
            scheduler.add_job(p.deliver, "interval", seconds=interval, next_run_time=datetime.now(UTC))
            scheduler.start()
            writer = threading.Thread(target=producer, args=(p.db, rate, seconds, stop))
            writer.start()
            try:
                await asyncio.to_thread(writer.join)
                end = time.monotonic() + DRAIN_TIMEOUT
                while time.monotonic() < end and (await asyncio.to_thread(pending, p.db))[0]:
                    await asyncio.sleep(0.2)
            finally:
                stop.set()
                scheduler.shutdown(wait=False)
                await asyncio.sleep(0.1)
                await p.aclose()

        asyncio.run(go())
        m = measure(p.db, receiver.posts(), start)
        p.db.close()
    extra = f"{rate:g} events/s for {seconds:g} s"
    return Row(f"daemon clock, every {interval:g} s", 8, fail, **m, extra=extra)


def baseline(receiver: Receiver, concurrency: int, n: int) -> float:
    """Plain httpx POSTs of the same bodies, ``concurrency`` at a time: events/s."""
    receiver.set(0.0)
    now = datetime.now(UTC)
    bodies = [encode_body("json", payload(f"evt_base{k}", f"st_base{k}", 1, None, now, k)) for k in range(n)]

    async def go() -> float:
        sem = asyncio.Semaphore(concurrency)
        async with build_client("bench", 10.0) as client:

            async def one(k: int, body: bytes) -> None:
                async with sem:
                    headers = {"Content-Type": "application/json", "webhook-id": f"evt_base{k}"}
                    (await client.post(receiver.url, content=body, headers=headers)).raise_for_status()

            started = time.perf_counter()
            await asyncio.gather(*(one(k, b) for k, b in enumerate(bodies)))
            return n / (time.perf_counter() - started)

    return asyncio.run(go())


def table(rows: list[Row]) -> str:
    head = (
        f"{'mode':<28} {'conc':>4} {'fail':>4} {'events':>6} {'POSTs':>6} {'events/s':>8} {'base':>5} {'ratio':>5} "
        f"{'all 200 in':>10} {'p50 delay':>9} {'p99 delay':>9} {'max':>7} {'lost':>4}  note"
    )
    out = [head, "-" * len(head)]
    for r in rows:
        base, ratio = (f"{r.base:.0f}", f"{r.rate / r.base:.2f}") if r.base else ("-", "-")
        out.append(
            f"{r.mode:<28} {r.concurrency:>4} {r.fail:>4.0%} {r.events:>6} {r.posts:>6} {r.rate:>8.0f} "
            f"{base:>5} {ratio:>5} {r.done_s:>9.1f}s {r.p50:>8.2f}s {r.p99:>8.2f}s {r.worst:>6.1f}s {r.lost:>4}  "
            + r.extra
        )
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller backlogs and shorter arrivals")
    parser.add_argument("--events", type=int, help="events per backlog (default 2000, quick 300)")
    args = parser.parse_args()
    # Each retry is a warning in the monitor's log; only dead letters (errors) belong in the output.
    logging.getLogger("monitor").setLevel(logging.ERROR)
    n = args.events or (300 if args.quick else 2000)
    seconds = 10.0 if args.quick else 30.0
    concurrencies = (1, 8) if args.quick else (1, 8, 32)
    rows: list[Row] = []
    with Receiver() as receiver:
        baseline(receiver, 8, 50)  # warm-up: imports, the receiver's first connections
        plan: list[tuple[Any, ...]] = [("tight", c, 0.0, n, 1) for c in concurrencies]
        plan += [("tight", c, 0.2, n, 1) for c in concurrencies if c > 1]
        plan += [("once", 8, 0.0, n, 1), ("once", 8, 0.2, n, 1)]
        plan += [("tight", 8, 0.0, n // 5, 5), ("tight", 8, 0.2, n // 5, 5)]
        print(table([]), flush=True)
        for mode, c, fail, stories, per in plan:
            # The baseline right before each row: the machine's load drifts (other work, 2 CPUs), and
            # a ratio is only fair between two numbers measured under the same load.
            base = baseline(receiver, c, n)
            rows.append(replace(backlog_run(receiver, mode, c, fail, stories, per), base=base))
            print(table(rows[-1:]).splitlines()[-1], flush=True)
        clock: list[tuple[float, float, float]] = [(5.0, 10.0, 0.0), (5.0, 10.0, 0.2), (1.0, 10.0, 0.0)]
        clock += [(5.0, 40.0, 0.0)]  # above one claim (100 events) per tick: the backlog grows
        for interval, rate, fail in clock:
            rows.append(clock_run(receiver, interval, rate, seconds, fail))
            print(table(rows[-1:]).splitlines()[-1], flush=True)
    print()
    run = "--quick" if args.quick else "full"
    print(
        f"news-monitor webhook delivery, SQLite outbox, receiver on 127.0.0.1 (own process); {run} run; "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    print(table(rows))
    print("events/s: first attempts answered per second (with 0% failures = deliveries/s); base: the plain")
    print("httpx POST loop at the same concurrency, measured just before the row; ratio = events/s / base;")
    print("delay: the receiver's 200 minus the event's created_at.")
    lost = sum(r.lost for r in rows)
    print(f"every event answered 200 at least once: {'yes' if not lost else f'NO, {lost} lost'}")
    return 0 if not lost else 1


if __name__ == "__main__":
    sys.exit(main())
