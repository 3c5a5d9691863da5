"""Where a first poll's CPU goes, stage by stage, against the budget of issue 15 (1,000 feeds x 50 new items
in 60 s on 2 cores: 2.4 ms of CPU per item, every process counted).

    python bench/bench_budget.py                 # 200 feeds x 50 (10,000 items: 0 to 10,000 stories held)
    python bench/bench_budget.py --feeds 1000    # the whole first poll of the issue (50,000; ~7 minutes)

bench_feeds' synthetic items, every stage in this process, one after the other, CPU time (``process_time``):

- parse: ``sources.feeds.parse_feed`` (feedparser and our item handling), per feed;
- prepare: ``core.prepare`` on every item (what the parse workers run: sentence split, keys, facts, names,
  furniture and boilerplate patterns, the matcher's text signals);
- IPC: pickling a parsed and prepared feed and unpickling it (worker -> the deciding process);
- decide: ``Ingestor.ingest_many`` by 16 on a real SQLite file, split into exclusive parts (a part nested in
  another counts for itself only): the matcher's ``match``, its ``add`` (learning the article), SQL
  (SQLAlchemy ``Connection.execute``, begin and commit), novelty with furniture (``service.updates``) and the
  rest (decisions, event payloads, records).

The baseline of the issue (feedparser + a plain Core insert, ``bench_ingest.py --only poll``) is the floor
of the first two rows' kind of work. What the real poll adds (HTTP, the event loop, threads) is not counted
here: ``bench_ingest.py --only poll`` measures the real thing. The columns say what each stage costs per
item, its share of the 2.4 ms budget, and the first poll's wall time on 2 perfectly shared cores if that
stage cost nothing (the rest at the measured cost): no single stage brings it to 60 s.
"""

from __future__ import annotations

import argparse
import functools
import os
import pickle
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bench_feeds  # noqa: E402
from bench_ingest import NOW, config  # noqa: E402
from sqlalchemy.engine import Connection  # noqa: E402

from monitor.core import match as matchmod  # noqa: E402
from monitor.core.prepare import prepare  # noqa: E402
from monitor.core.prepared import remember  # noqa: E402
from monitor.service import updates  # noqa: E402
from monitor.service.ingest import Ingestor  # noqa: E402
from monitor.sources.feeds import parse_feed  # noqa: E402
from monitor.store.db import Database  # noqa: E402

BUDGET_MS = 60.0 * 2 / 50_000 * 1000  # 60 s on 2 cores for 1,000 feeds x 50 items
ITEMS = 50_000  # the first poll


class Stopwatch:
    """Exclusive CPU time per part: a part called inside another pauses the outer one."""

    def __init__(self) -> None:
        self.spent: defaultdict[str, float] = defaultdict(float)
        self._stack: list[str] = []
        self._mark = 0.0
        self._undo: list[Callable[[], None]] = []

    def wrap(self, owner: Any, name: str, part: str) -> None:
        fn = getattr(owner, name)

        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            now = time.process_time()
            if self._stack:
                self.spent[self._stack[-1]] += now - self._mark
            self._stack.append(part)
            self._mark = now
            try:
                return fn(*args, **kwargs)
            finally:
                now = time.process_time()
                self.spent[self._stack.pop()] += now - self._mark
                self._mark = now

        setattr(owner, name, timed)
        self._undo.append(lambda: setattr(owner, name, fn))

    def restore(self) -> None:
        for undo in reversed(self._undo):
            undo()


def front_stages(feeds: int) -> tuple[dict[str, float], list[bytes]]:
    """CPU seconds of parse, prepare and the IPC round trip over ``feeds`` feeds; the pickled results."""
    spent: dict[str, float] = dict.fromkeys(("parse", "prepare", "IPC"), 0.0)
    shipped = []
    for i in range(feeds):
        body = bench_feeds.make_feed(i)
        c0 = time.process_time()
        parsed = parse_feed(body, feed_name=f"f{i}", url=f"http://b/{i}.xml")
        c1 = time.process_time()
        prepared = [prepare(a.title, a.text, a.html_markers) for a in parsed.articles]
        c2 = time.process_time()
        blob = pickle.dumps((parsed, prepared), protocol=pickle.HIGHEST_PROTOCOL)
        pickle.loads(blob)
        c3 = time.process_time()
        spent["parse"] += c1 - c0
        spent["prepare"] += c2 - c1
        spent["IPC"] += c3 - c2
        shipped.append(blob)
        if (i + 1) % 100 == 0:
            print(f"... {i + 1} feeds parsed and prepared", file=sys.stderr)
    return spent, shipped


def decide_stage(shipped: list[bytes], tmp: Path) -> tuple[dict[str, float], int]:
    """CPU seconds of deciding every item (``ingest_many`` by 16), by part; the items decided."""
    db = Database(f"sqlite:///{tmp / 'budget.db'}")
    ing, clock_at = Ingestor(config(tmp), db), [NOW]

    def clock() -> Any:
        clock_at[0] += timedelta(milliseconds=5)
        return clock_at[0]

    watch = Stopwatch()
    for owner, name, part in (
        (matchmod.Matcher, "match", "decide: matcher, match"),
        (matchmod.Matcher, "add", "decide: matcher, learn"),
        (Connection, "execute", "decide: SQL"),
        (Connection, "_begin_impl", "decide: SQL"),
        (Connection, "_commit_impl", "decide: SQL"),
        (updates, "version_novelty", "decide: novelty + furniture"),
        (Ingestor, "ingest_many", "decide: the rest"),
    ):
        watch.wrap(owner, name, part)
    items, loop = 0, 0.0  # ``loop``: the CPU of the ingest calls measured around them (checks the parts)
    try:
        for k, blob in enumerate(shipped):
            parsed, prepared = pickle.loads(blob)
            c0 = time.process_time()  # the memo as the poller fills it (``prepared_parse.take``), not counted
            remember(zip((a.text for a in parsed.articles), prepared, strict=True))
            watch.spent["(not counted)"] += time.process_time() - c0
            c0 = time.process_time()
            for start in range(0, len(parsed.articles), 16):
                ing.ingest_many(parsed.articles[start : start + 16], clock)
            loop += time.process_time() - c0
            items += len(parsed.articles)
            if (k + 1) % 100 == 0:
                print(f"... {k + 1} feeds decided ({len(ing.matcher):,} stories held)", file=sys.stderr)
    finally:
        watch.restore()
        db.close()
    del watch.spent["(not counted)"]
    parts = sum(watch.spent.values())
    print(f"# check: the decide parts add up to {parts / loop:.1%} of the ingest calls' CPU measured around them "
          f"({loop / items * 1000:.2f} ms/item; the difference: the loop around them)")  # fmt: skip
    return watch.spent, items


def report(spent: dict[str, float], items: int, feeds: int) -> None:
    per_item = {part: s / items * 1000 for part, s in spent.items()}
    total = sum(per_item.values())
    decide = sum(v for k, v in per_item.items() if k.startswith("decide"))
    print(f"\n## where a first poll's CPU goes: {feeds} feeds x 50 items ({items:,}), 0 to {items:,} stories held")
    print(f"{'stage':<30} {'ms CPU/item':>12} {'of budget':>10} {'50,000 on 2 cores without it':>30}")
    for part, ms in per_item.items():
        without = (total - ms) / 1000 * ITEMS / 2
        print(f"{part:<30} {ms:12.2f} {ms / BUDGET_MS:10.0%} {without:28.0f} s")
    print(f"{'total':<30} {total:12.2f} {total / BUDGET_MS:10.0%}")
    print(f"# budget: {BUDGET_MS:.2f} ms CPU/item (60 s x 2 cores / 50,000 items); x{total / BUDGET_MS:.1f} over it")
    left, free = total, []
    for part, ms in sorted(per_item.items(), key=lambda kv: kv[1], reverse=True):
        if left <= BUDGET_MS:
            break
        left -= ms
        free.append(part)
    print(
        f"# to fit the budget these would have to cost nothing: {', '.join(free)} "
        f"(the rest: {left:.2f} ms/item, {left / 1000 * ITEMS / 2:.0f} s)"
    )
    shared, alone = total / 1000 * ITEMS / 2, decide / 1000 * ITEMS
    print(f"# on 2 perfectly shared cores: {shared:.0f} s for 50,000 items; one process decides, so at least "
          f"{alone:.0f} s (its {decide:.2f} ms/item) whatever the other core does")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", type=int, default=200, help="feeds of 50 items (default 200; the issue: 1000)")
    args = parser.parse_args(argv)
    print(f"# {os.cpu_count()} cores, Python {sys.version.split()[0]}; CPU of this process")
    front, shipped = front_stages(args.feeds)
    with tempfile.TemporaryDirectory() as tmp:
        decided, items = decide_stage(shipped, Path(tmp))
    report({**front, **dict(decided)}, items, args.feeds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
