"""The ingest's per-version statements, per call, against the same statements built per call.

    python bench/bench_statements.py             # 2,000 calls of each, a real SQLite file

Every version of a tracked story writes or joins an outbox event inside the ingest transaction: a new event
with one delivery per receiver (``IngestTx.insert_event``), or a look for the story's unsent update and a
merge into it (``unsent_update``, ``merge_into_event``); and every ingest call reads what other
instances stored since (``articles_after``, most often nothing). ``store.stories`` builds those statements
once; the baseline, measured in the same run on the same database, builds each one per call as the code
did before (SQLAlchemy then constructs, hashes and looks up the statement every time). CPU of this process
per call.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import Connection, insert, select, update  # noqa: E402

from monitor.core.states import DeliveryStatus, EventType  # noqa: E402
from monitor.store import stories as story_store  # noqa: E402
from monitor.store.db import Database  # noqa: E402
from monitor.store.records import StoryRecord  # noqa: E402
from monitor.store.schema import articles, deliveries, events  # noqa: E402

NOW = datetime(2026, 3, 1, tzinfo=UTC)
RECEIVERS = ("desk", "slack")


def _payload(i: int) -> dict[str, Any]:
    return {"sequence": i, "previous_event_id": None, "summary": "x" * 200}


# --- the baseline: each statement built per call -----------------------------------------------------------


def built_insert_event(conn: Connection, i: int) -> None:
    conn.execute(insert(events).values(id=f"b{i}", type=EventType.STORY_UPDATED, story_id=f"s{i % 200}",
                                       story_seq=i, created_at=NOW, payload=_payload(i)))  # fmt: skip
    for hook in RECEIVERS:
        conn.execute(insert(deliveries).values(event_id=f"b{i}", webhook=hook, status=DeliveryStatus.PENDING,
                                               attempts=0, next_attempt_at=NOW))  # fmt: skip


def built_unsent_update(conn: Connection, i: int) -> None:
    updated = (events.c.story_id == f"s{i % 200}", events.c.type == EventType.STORY_UPDATED)
    row = conn.execute(
        select(events.c.id, events.c.payload)
        .where(*updated, events.c.created_at >= NOW - timedelta(hours=1))
        .order_by(events.c.story_seq.desc())
        .limit(1)
    ).first()
    if row is not None:
        columns = (deliveries.c.webhook, deliveries.c.status, deliveries.c.attempts, deliveries.c.lease_owner)
        conn.execute(select(*columns).where(deliveries.c.event_id == row.id)).fetchall()


def built_merge(conn: Connection, i: int) -> None:
    conn.execute(update(events).where(events.c.id == f"b{i}").values(payload=_payload(i + 1)))
    conn.execute(insert(deliveries).values(event_id=f"b{i}", webhook="pager", status=DeliveryStatus.PENDING,
                                           attempts=0, next_attempt_at=NOW))  # fmt: skip


def built_catch_up(conn: Connection, i: int) -> None:
    conn.execute(select(articles).where(articles.c.id > 10**9).order_by(articles.c.id)).fetchall()


# --- ours: IngestTx ----------------------------------------------------------------------------------------


def ours_insert_event(conn: Connection, i: int) -> None:
    story_store.IngestTx(conn).insert_event(
        f"o{i}", EventType.STORY_UPDATED, f"s{i % 200}", 1_000_000 + i, NOW, _payload(i), RECEIVERS
    )


def ours_unsent_update(conn: Connection, i: int) -> None:
    story_store.IngestTx(conn).unsent_update(f"s{i % 200}", NOW - timedelta(hours=1))


def ours_merge(conn: Connection, i: int) -> None:
    story_store.IngestTx(conn).merge_into_event(f"o{i}", _payload(i + 1), ("pager",), NOW)


def ours_catch_up(conn: Connection, i: int) -> None:
    story_store.IngestTx(conn).articles_after(10**9)


def per_call_us(db: Database, step: Callable[[Connection, int], None], calls: int) -> float:
    with db.write() as conn:
        c0 = time.process_time()
        for i in range(calls):
            step(conn, i)
        return (time.process_time() - c0) / calls * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=2000, help="calls of each statement (default 2000)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'statements.db'}")
        with story_store.ingest_transaction(db) as tx:
            for k in range(200):
                tx.insert_story(StoryRecord.opening(f"s{k}", "A story", None, NOW))
        print(f"# {args.calls:,} calls of each on a real SQLite file; CPU us per call (lower is better)")
        print(f"{'step':<40} {'built per call':>15} {'built once':>11} {'ratio':>7}")
        for name, built, ours in (
            ("a new event, 2 receivers", built_insert_event, ours_insert_event),
            ("the story's unsent update (+ deliveries)", built_unsent_update, ours_unsent_update),
            ("merge into it, 1 new receiver", built_merge, ours_merge),
            ("catch-up read, nothing new", built_catch_up, ours_catch_up),
        ):
            before, after = per_call_us(db, built, args.calls), per_call_us(db, ours, args.calls)
            print(f"{name:<40} {before:15.0f} {after:11.0f} {after / before:7.2f}")
        db.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
