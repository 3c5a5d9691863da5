"""Replay a labelled JSONL file of articles through the story matcher and score the grouping.

Reads the whole file (to sort it by publication date), streams every article through exactly
``core.match.Matcher`` in that order, and assigns each to a story the way the pipeline would: a new story
when the matcher says none, then ``add``. Optionally writes ``{"doc_id", "story"}`` per line. When the input
carries ``cluster_id`` labels it computes B-cubed and pairwise same-story link precision/recall/F1 over the
articles without ``quality_flags`` (flagged ones are still matched, only not scored). It also measures
articles per second and the process's peak resident memory (``ru_maxrss``, which includes the interpreter
and the loaded file, not just the index). It stores nothing in any database and prints nothing
(``format_report`` makes the terminal table; the CLI prints it). ``backtest_polls.cold_start`` replays a
fresh install's first polls; ``run_blocks`` replays a file in consecutive blocks, each into a fresh matcher.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from monitor.core.match import Matcher, MatchInput, MatchSettings
from monitor.errors import MonitorError

_PROGRESS_EVERY = 100


@dataclass(frozen=True)
class Record:
    """One input line, validated."""

    doc_id: str
    title: str
    text: str
    published: datetime | None
    url: str | None
    source: str | None
    cluster: str | None
    scored: bool  # labelled and without quality flags


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    f1: float


@dataclass(frozen=True)
class BacktestReport:
    path: str
    articles: int
    stories: int
    scored_articles: int
    gold_stories: int
    bcubed: Scores | None
    links: Scores | None
    seconds: float
    articles_per_second: float
    peak_memory_mib: float
    memory_measure: str = "ru_maxrss (peak resident set of the whole process)"
    time_compress: float = 1.0
    settings: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def bcubed(pred: list[str], gold: list[str]) -> Scores:
    """B-cubed precision/recall/F1 of a clustering (``pred[i]``, ``gold[i]``: labels of item i)."""
    if not pred:
        return Scores(0.0, 0.0, 0.0)
    cells = Counter(zip(pred, gold, strict=True))
    p_size, g_size = Counter(pred), Counter(gold)
    # Every item of a (pred, gold) cell has the same per-item precision and recall: sum per cell.
    p = sum(n * n / p_size[pc] for (pc, _), n in cells.items()) / len(pred)
    r = sum(n * n / g_size[gc] for (_, gc), n in cells.items()) / len(pred)
    return Scores(p, r, _f1(p, r))


def _pairs(sizes: Iterable[int]) -> int:
    return sum(n * (n - 1) // 2 for n in sizes)


def links(pred: list[str], gold: list[str]) -> Scores:
    """Pairwise scores: a "link" is an unordered pair of items put in (or truly in) the same story."""
    true_links = _pairs(Counter(zip(pred, gold, strict=True)).values())
    pred_links, gold_links = _pairs(Counter(pred).values()), _pairs(Counter(gold).values())
    p = true_links / pred_links if pred_links else 1.0
    r = true_links / gold_links if gold_links else 1.0
    return Scores(p, r, _f1(p, r))


def _parse_when(value: Any, where: str) -> datetime | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise MonitorError(f"{where}: published/dct must be an ISO date string, got {value!r}")
    try:
        when = datetime.fromisoformat(value)
    except ValueError as e:
        raise MonitorError(f"{where}: published/dct is not an ISO date or datetime: {value!r}") from e
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _text_field(obj: dict[str, Any], name: str, where: str, required: bool) -> str | None:
    value = obj.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise MonitorError(f"{where}: {name!r} must be a string, got {value!r}")
    return value


def parse_record(line: str, where: str) -> Record:
    """Validate one JSONL line; ``where`` ("file:line") prefixes every error."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as e:
        raise MonitorError(f"{where}: not valid JSON: {e.msg}") from e
    if not isinstance(obj, dict):
        raise MonitorError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    doc_id = obj.get("doc_id")
    if not isinstance(doc_id, (str, int)) or doc_id == "":
        raise MonitorError(f"{where}: 'doc_id' is missing or not a string")
    cluster = obj.get("cluster_id")
    flags = obj.get("quality_flags") or []
    return Record(
        doc_id=str(doc_id),
        title=_text_field(obj, "title", where, required=False) or "",
        text=_text_field(obj, "text", where, required=False) or "",
        published=_parse_when(obj.get("published", obj.get("dct")), where),
        url=_text_field(obj, "url", where, required=False),
        source=_text_field(obj, "source", where, required=False),
        cluster=None if cluster in (None, "") else str(cluster),
        scored=cluster not in (None, "") and not flags,
    )


def read_records(path: Path) -> list[Record]:
    """All records of ``path`` in file order (blank lines skipped)."""
    try:
        with path.open(encoding="utf-8") as fh:
            return [parse_record(line, f"{path}:{n}") for n, line in enumerate(fh, 1) if line.strip()]
    except (OSError, UnicodeDecodeError) as e:
        raise MonitorError(f"{path}: cannot read: {e}") from e


def publication_order(records: list[Record]) -> list[Record]:
    """Stable sort by date; an undated record keeps its place after the dated record before it."""
    keys: list[float] = []
    last = float("-inf")
    for r in records:
        last = r.published.timestamp() if r.published else last
        keys.append(last)
    order = sorted(range(len(records)), key=keys.__getitem__)
    return [records[i] for i in order]


def compress_time(records: list[Record], factor: float) -> list[Record]:
    """Squeeze dates towards the first date by ``factor``: the same stories, ``factor`` times denser."""
    dated = [r.published for r in records if r.published]
    if factor == 1.0 or not dated:
        return records
    start = min(dated)
    out = []
    for r in records:
        when = start + (r.published - start) / factor if r.published else None
        out.append(Record(r.doc_id, r.title, r.text, when, r.url, r.source, r.cluster, r.scored))
    return out


def _peak_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB on Linux


def assign(records: list[Record], settings: MatchSettings, progress: Callable[[int, int], None] | None) -> list[str]:
    """Stream the records through one Matcher; the story of each record, in the same order."""
    matcher = Matcher(settings)
    stories: list[str] = []
    total = len(records)
    for i, r in enumerate(records):
        article = MatchInput(r.doc_id, r.title, r.text, r.published, r.url, r.source)
        story = matcher.match(article).story or f"s{i:07d}"
        matcher.add(story, article)
        stories.append(story)
        if progress and ((i + 1) % _PROGRESS_EVERY == 0 or i + 1 == total):
            progress(i + 1, total)
    return stories


def _write(out: Path, records: list[Record], stories: list[str]) -> None:
    try:
        with out.open("w", encoding="utf-8") as fh:
            for r, s in zip(records, stories, strict=True):
                fh.write(json.dumps({"doc_id": r.doc_id, "story": s}) + "\n")
    except OSError as e:
        raise MonitorError(f"{out}: cannot write: {e}") from e


def run_backtest(
    path: Path,
    out: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    settings: MatchSettings | None = None,
    *,
    time_compress: float = 1.0,
    records: list[Record] | None = None,
) -> BacktestReport:
    """Replay ``path`` through the matcher (default settings unless given); see the module docstring.

    ``time_compress`` > 1 squeezes the dates (density test: more stories live at once). ``records``: replay
    these (already read from ``path``) instead of the whole file.
    """
    settings = settings or MatchSettings()
    records = publication_order(compress_time(read_records(path) if records is None else records, time_compress))
    started = time.perf_counter()
    stories = assign(records, settings, progress)
    seconds = time.perf_counter() - started
    if out is not None:
        _write(out, records, stories)
    scored = [(s, r.cluster) for s, r in zip(stories, records, strict=True) if r.scored and r.cluster]
    pred, gold = [s for s, _ in scored], [g for _, g in scored]
    labelled = any(r.cluster for r in records)
    return BacktestReport(
        path=str(path),
        articles=len(records),
        stories=len(set(stories)),
        scored_articles=len(scored),
        gold_stories=len(set(gold)),
        bcubed=bcubed(pred, gold) if labelled else None,
        links=links(pred, gold) if labelled else None,
        seconds=round(seconds, 3),
        articles_per_second=round(len(records) / seconds, 1) if seconds else 0.0,
        peak_memory_mib=round(_peak_mib(), 1),
        time_compress=time_compress,
        settings=asdict(settings),
    )


def run_blocks(path: Path, size: int, settings: MatchSettings | None = None) -> list[BacktestReport]:
    """Replay consecutive blocks of ``size`` lines of ``path`` (file order), each into a fresh matcher: an
    undated pool of thousands of events is harder than any one user's stream (allsides: 921 articles, the
    size of its held-out split)."""
    records = read_records(path)
    return [run_backtest(path, settings=settings, records=records[i : i + size]) for i in range(0, len(records), size)]


def mean_link_f1(reports: list[BacktestReport]) -> float | None:
    """The mean link F1 of ``run_blocks``' labelled blocks (None: none is labelled)."""
    f1s = [r.links.f1 for r in reports if r.links is not None]
    return sum(f1s) / len(f1s) if f1s else None


def format_blocks(reports: list[BacktestReport]) -> str:
    """``run_blocks``' reports for a terminal: each block's links, then their mean F1."""
    lines = []
    for r in reports:
        link = f"{r.links.precision:.3f} / {r.links.recall:.3f} / {r.links.f1:.3f}" if r.links else "unlabelled"
        lines.append(f"{r.articles} articles: links P / R / F1 {link}")
    mean = mean_link_f1(reports)
    if mean is not None:
        labelled = sum(r.links is not None for r in reports)
        lines.append(f"mean link F1 over {labelled} blocks: {mean:.3f}")
    return "\n".join(lines)


def format_report(report: BacktestReport) -> str:
    """A small table for a terminal."""
    rows = [
        ("file", report.path),
        ("articles", f"{report.articles} ({report.scored_articles} scored)"),
        ("true stories", f"{report.gold_stories} (among the scored articles)"),
        ("stories found", str(report.stories)),
    ]
    for name, s in (("B-cubed", report.bcubed), ("links", report.links)):
        if s is not None:
            rows.append((f"{name} P / R / F1", f"{s.precision:.3f} / {s.recall:.3f} / {s.f1:.3f}"))
    if report.bcubed is None:
        rows.append(("scores", "no cluster_id labels in the file"))
    if report.time_compress != 1.0:
        rows.append(("time compressed", f"x{report.time_compress:g}"))
    rows.append(("speed", f"{report.articles_per_second:.0f} articles/s ({report.seconds:.1f} s)"))
    rows.append(("peak memory", f"{report.peak_memory_mib:.0f} MiB ({report.memory_measure})"))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)


def main(argv: list[str] | None = None) -> int:
    """Developer entry point (``python -m monitor.service.backtest FILE [--time-compress 8]``).

    The user-facing command is ``news-monitor backtest``; this one adds the density replay option.
    """
    import argparse

    parser = argparse.ArgumentParser(prog="python -m monitor.service.backtest")
    parser.add_argument("path", type=Path)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--time-compress", type=float, default=1.0)
    parser.add_argument("--cold-start", action="store_true", help="replay a fresh install's first polls instead")
    parser.add_argument("--blocks", type=int, help="replay consecutive blocks of this many lines, each alone")
    parser.add_argument("--weights", type=Path, help="a weights file (news-monitor fit) instead of the defaults")
    args = parser.parse_args(argv)
    settings = None
    if args.weights:
        from monitor.service.fit import load_settings

        settings = load_settings(args.weights)
    if args.blocks:
        print(format_blocks(run_blocks(args.path, args.blocks, settings)))
        return 0
    if args.cold_start:
        from monitor.service.backtest_polls import cold_start

        print(json.dumps(asdict(cold_start(args.path, settings)), indent=2))
        return 0
    report = run_backtest(args.path, args.out, settings=settings, time_compress=args.time_compress)
    print(json.dumps(report.as_dict(), indent=2) if args.json else format_report(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
