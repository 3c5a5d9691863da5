"""Page checks on real article pages through the real daemon, and extraction F1 (docs/pages.md).

    .venv/bin/python bench/pages_scenarios.py [--limit N] [--json]

Serves ../shared/data/article_pages on 127.0.0.1 (growing pages: last paragraphs removed, then restored;
churning pages: a rotating box of headlines/counters/timestamps), runs ``news-monitor run`` on them with
``page_check_min = "2s"``, ``page_check_max = "4s"``, and prints the shares of restored paragraphs and words
reported, the events on churn-only changes, and the main-text extraction's F1 by the benchmark's scoring.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from monitor.sources.pages import read_page
from tests.page_scenarios import benchmark_f1, load_pages, run


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=0, help="only the first N pages")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    pages = load_pages()
    if args.limit:
        pages = pages[: args.limit]
    started = time.process_time()
    f1 = benchmark_f1([(p.body, read_page(p.html, p.url).text or "") for p in pages])
    f1["cpu_ms_per_page"] = round(1000 * (time.process_time() - started) / len(pages), 1)
    with tempfile.TemporaryDirectory() as tmp:
        report = run(Path(tmp), pages)
    out = {"extraction": {k: round(v, 3) for k, v in f1.items()}, "scenario": report.summary()}
    missed = [d for d in report.details if not d["reported"]]
    out["scenario"]["missed"] = missed
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
