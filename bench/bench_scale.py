"""Scale-out benchmark: N real ``news-monitor run`` processes on one PostgreSQL, 600 feeds.

    python bench/bench_scale.py                  # scaling curve (1, 2, 3 instances) + the full proof run
    python bench/bench_scale.py --curve-only --seconds 40 --instances 1 2 3

Scaling curve: the feeds are due far more often than the instances can poll them (demand exceeds
capacity), so requests per second at the feed server measure capacity. Two workloads:
``publishing`` (every poll finds a new item: fetch + parse + ingest + an event to deliver) and ``idle``
(every poll is answered 304: the claim/poll/record loop alone).

Proof run: 600 feeds publishing for a bounded time, 3 instances, one SIGKILLed midway; checks the same
invariants as tests/test_scale.py at full size (polls per interval, nothing lost, every event once per id,
takeover within the lease).

Everything (PostgreSQL, the feed server, the receiver, the instances) shares this machine's cores, so the
curve flattens where the machine runs out of CPU, not necessarily where the design does: the output says
how many cores there were. PostgreSQL runs with its default durability (fsync on).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout: tests/ helpers

from sqlalchemy import create_engine, func, select

from monitor.store.db import Database
from monitor.store.schema import articles
from tests.pg import PostgresServer, start_postgres
from tests.scale_servers import Cluster, PublishingFeeds, analyse, write_config
from tests.servers import Receiver, running


def count_articles(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(articles)).scalar_one())
    finally:
        engine.dispose()


def capacity(server: PostgresServer, n: int, feeds_n: int, seconds: float, workload: str) -> dict[str, float]:
    url = server.url(server.create_database("bench"))
    Database(url).close()  # migrate once, before the clock starts
    tmp = Path(tempfile.mkdtemp(prefix="nm-bench-"))
    with running(Receiver()) as receiver:
        # publishing: a new item every 2 s per feed, polled every 1 s -> 600 polls/s demanded, most with news.
        period = 2.0 if workload == "publishing" else 1e9
        feeds = PublishingFeeds(feeds_n, period=period, publish_for=10_000, window=5)
        if workload == "idle":
            feeds.offsets = [0.0] * feeds_n  # one item each, from the start: 200 once, then 304s
        config = write_config(
            tmp / "monitor.toml", url, feeds, receiver, interval=1.0, feed_lease=60, delivery_lease=60
        )
        cluster = Cluster(config, n, tmp)
        try:
            time.sleep(10)  # start-up and the first burst of every feed being due at once
            hits0, art0, t0 = sum(len(h) for h in feeds.hits.values()), count_articles(url), time.time()
            time.sleep(seconds)
            hits1, art1, t1 = sum(len(h) for h in feeds.hits.values()), count_articles(url), time.time()
            alive = len(cluster.alive())
        finally:
            cluster.stop()
            feeds.close()
        posts = len(receiver.all_posts())
    server.drop_database(url.rsplit("/", 1)[1])
    return {
        "instances": n,
        "alive": alive,
        "polls_s": (hits1 - hits0) / (t1 - t0),
        "articles_s": (art1 - art0) / (t1 - t0),
        "posts": posts,
    }


def proof(server: PostgresServer, feeds_n: int, interval: float, lease: float, publish_for: float) -> None:
    url = server.url(server.create_database("proof"))
    Database(url).close()
    tmp = Path(tempfile.mkdtemp(prefix="nm-proof-"))
    with running(Receiver()) as receiver:
        feeds = PublishingFeeds(feeds_n, period=interval * 0.8, publish_for=publish_for)
        config = write_config(
            tmp / "monitor.toml",
            url,
            feeds,
            receiver,
            interval=interval,
            feed_lease=lease,
            delivery_lease=lease,
        )
        cluster = Cluster(config, 3, tmp)
        try:
            time.sleep(max(0.0, feeds.start + publish_for / 2 - time.time()))
            victim = None
            while victim is None:
                victim = cluster.holding_leases(url)
            cluster.kill(victim)
            killed_at = time.time() - feeds.start
            time.sleep(max(0.0, feeds.start + publish_for + interval + lease + 5 - time.time()))
            deadline = time.time() + 60
            while analyse(feeds, receiver, url, time.time()).undelivered and time.time() < deadline:
                time.sleep(1)
            until = time.time()
        finally:
            cluster.stop()
            feeds.close()
        out = analyse(feeds, receiver, url, until)
    elapsed = until - feeds.start
    print(
        f"\nproof: {feeds_n} feeds, interval {interval:g}s, lease {lease:g}s, publishing {publish_for:g}s, "
        f"3 instances, instance {victim} SIGKILLed at {killed_at:.0f}s; logs in {tmp}"
    )
    most = max(out.polls_per_feed.values())
    print(
        f"  polls {out.polls} in {elapsed:.0f}s; most polls of one feed {most} "
        f"(allowed {elapsed / interval + 1:.1f}); gaps between polls of a feed {out.min_gap:.1f}s .. "
        f"{out.max_gap:.1f}s (interval {interval:g}s, "
        f"takeover bound {interval + lease + 6:g}s)"
    )
    print(f"  items published {out.published}, stored {out.stored}, missing {out.missing}")
    print(
        f"  events {out.events}, delivered ids {out.delivered_ids}, raw POSTs {out.raw_posts} "
        f"(re-sends {out.duplicate_posts}), undelivered {out.undelivered}, "
        f"unknown ids {out.unknown_ids}"
    )
    correct = (
        out.missing == 0
        and out.delivered_ids == out.events
        and out.undelivered == 0
        and out.unknown_ids == 0
        and out.min_gap >= interval - 1
    )
    late = out.max_gap - (interval + lease + 6)
    print(
        f"  correctness {'OK' if correct else 'FAILED'}; takeover "
        + ("within the bound" if late <= 0 else f"{late:.0f}s past the bound (queueing: see docs/scaling.md)")
    )
    server.drop_database(url.rsplit("/", 1)[1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--feeds", type=int, default=600)
    ap.add_argument("--seconds", type=float, default=30.0, help="measuring window per point of the curve")
    ap.add_argument("--instances", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--workloads", nargs="+", default=["publishing", "idle"], choices=["publishing", "idle"])
    ap.add_argument("--curve-only", action="store_true")
    ap.add_argument("--proof-only", action="store_true")
    args = ap.parse_args()
    server = start_postgres(fast=False)
    print(f"cores: {os.cpu_count()}; PostgreSQL at {server.url()} (fsync on); feeds: {args.feeds}")
    try:
        if not args.proof_only:
            for workload in args.workloads:
                print(f"\n{workload}: instances  polls/s  articles/s  (demand {args.feeds} polls/s)")
                base = None
                for n in args.instances:
                    r = capacity(server, n, args.feeds, args.seconds, workload)
                    base = base or r["polls_s"]
                    died = "" if r["alive"] == n else "  (an instance died!)"
                    print(f"  {n:>19}  {r['polls_s']:7.1f}  {r['articles_s']:10.1f}  x{r['polls_s'] / base:.2f}{died}")
        if not args.curve_only:
            proof(server, args.feeds, interval=30.0, lease=30.0, publish_for=90.0)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
