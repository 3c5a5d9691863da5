"""``backtest`` and ``fit``: the matcher on labelled articles, offline (docs/matching.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from monitor.cli.common import EXIT_OK, Add, print_json


def register(add: Add) -> None:
    p = add(
        "backtest",
        cmd_backtest,
        "stream a JSONL file of articles through the daemon's matcher; "
        "with labels, print B-cubed and pairwise link precision/recall/F1",
    )
    p.add_argument("articles", metavar="ARTICLES.jsonl")
    p.add_argument("--out", metavar="ASSIGNMENTS.jsonl", help="write {doc_id, story} per article")
    p.add_argument(
        "--time-compress",
        type=float,
        default=1.0,
        metavar="K",
        help="divide every date's distance to the first date by K: a K-times denser stream",
    )
    p.add_argument("--weights", metavar="WEIGHTS.json", help="a weights file from 'fit' instead of the defaults")
    p.add_argument(
        "--blocks",
        type=int,
        default=0,
        metavar="N",
        help="replay consecutive blocks of N articles, each into a fresh matcher (a big undated pool)",
    )
    p.add_argument(
        "--cold-start",
        action="store_true",
        help="replay 30 first polls of a fresh install instead: 20 labelled stories at once, then a follow-up each",
    )
    p = add("fit", cmd_fit, "fit the matcher's weights on labelled JSONL articles (as backtest reads them)")
    _fit_arguments(p)


def _fit_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("articles", metavar="LABELLED.jsonl", nargs="+")
    p.add_argument("-o", "--out", metavar="WEIGHTS.json", required=True)
    p.add_argument(
        "--decided",
        action="store_true",
        help="replay the matcher's own decisions (its wrong stories become the hard negatives), not the truth",
    )
    p.add_argument("--balance", action="store_true", help="every file weighs the same in the fit")
    p.add_argument(
        "--compress",
        type=float,
        action="append",
        default=[],
        metavar="K",
        help="also replay each dated file with its dates squeezed K times (repeatable)",
    )
    p.add_argument(
        "--first-polls", type=int, default=0, metavar="N", help="also fit on N first polls of each dated file"
    )
    _replay_arguments(p)


def _replay_arguments(p: argparse.ArgumentParser) -> None:
    """``fit``'s second stage: tuning on whole replays (``service.fit_replay``)."""
    p.add_argument(
        "--replay",
        type=int,
        default=0,
        metavar="N",
        help="then tune the fitted numbers on whole replays of the files, at most N evaluations "
        "(each replays every file; see docs/matching.md)",
    )
    p.add_argument(
        "--min-precision",
        type=float,
        default=0.0,
        metavar="P",
        help="with --replay: penalise a dated replay whose link precision falls under P",
    )
    p.add_argument(
        "--floor",
        action="append",
        default=[],
        metavar="NAME=F1",
        help="with --replay: penalise a replay whose name contains NAME and whose link F1 falls under F1 "
        "(repeatable; e.g. ecbplus_dev=0.85)",
    )
    p.add_argument(
        "--blocks",
        type=int,
        default=0,
        metavar="N",
        help="with --replay: replay an undated file longer than N articles in blocks of N",
    )
    p.add_argument(
        "--start",
        metavar="WEIGHTS.json",
        help="with --replay: tune this weights file on the replays instead of fitting a regression first",
    )
    p.add_argument("--jobs", type=int, default=0, metavar="N", help="with --replay: processes (default: one per CPU)")


def cmd_backtest(args: argparse.Namespace) -> int:
    from monitor.render import Progress
    from monitor.service.backtest import format_report, run_backtest

    progress = Progress("backtest") if not args.json else None
    settings = None
    if args.weights:
        from monitor.service.fit import load_settings

        settings = load_settings(Path(args.weights))
    if args.blocks > 0 or args.cold_start:
        return _backtest_variant(args, settings)
    report = run_backtest(
        Path(args.articles),
        out=Path(args.out) if args.out else None,
        progress=progress,
        settings=settings,
        time_compress=args.time_compress,
    )
    if args.json:
        print_json(report.as_dict())
    else:
        print(format_report(report))
    return EXIT_OK


def _backtest_variant(args: argparse.Namespace, settings: Any) -> int:
    """``--cold-start`` and ``--blocks N`` (docs/matching.md's first-poll and AllSides figures)."""
    from dataclasses import asdict

    from monitor.service.backtest import format_blocks, mean_link_f1, run_blocks
    from monitor.service.backtest_polls import cold_start

    path = Path(args.articles)
    if args.cold_start:
        cold = cold_start(path, settings)
        if args.json:
            print_json(asdict(cold))
        else:
            print(f"{cold.polls} first polls of {cold.poll_size} stories: {cold.mean_stories} stories on average,")
            print(f"a merge in {cold.polls_with_a_merge}, follow-ups joined {cold.follow_up_joined:.1%}")
        return EXIT_OK
    reports = run_blocks(path, args.blocks, settings)
    if args.json:
        print_json({"blocks": [r.as_dict() for r in reports], "mean_link_f1": mean_link_f1(reports)})
    else:
        print(format_blocks(reports))
    return EXIT_OK


def cmd_fit(args: argparse.Namespace) -> int:
    from monitor.core.match_types import settings_to_json
    from monitor.errors import MonitorError
    from monitor.service.fit import (
        file_names,
        fit_files,
        load_document,
        settings_of,
        weights_document,
        write_weights,
    )
    from monitor.service.fit_replay import parse_floor

    paths = [Path(a) for a in args.articles]
    floors = dict(parse_floor(f) for f in args.floor)  # a bad one is told before the fit starts
    if args.start and args.replay <= 0:
        raise MonitorError("fit: --start WEIGHTS.json tunes a file on replays; give --replay N too")
    if args.start:
        start = load_document(Path(args.start))
        settings, before = settings_of(start, Path(args.start)), start.get("fitted")
        started = {"file": Path(args.start).name, **({"fitted": before} if isinstance(before, dict) else {})}
        document = {**settings_to_json(settings), "fitted": {"files": file_names(paths), "start": started}}
        fit = None
    else:
        settings, fit = fit_files(
            paths,
            progress=lambda m: print(m, file=sys.stderr),
            told=not args.decided,
            balance=args.balance,
            compress=args.compress,
            polls=args.first_polls,
        )
        document = weights_document(settings, fit, paths)
    if args.replay > 0:
        settings, document = _replay_tuned(args, paths, settings, document, floors)
    write_weights(Path(args.out), document)
    if args.json:
        print_json(document)
    else:
        _print_fit(args.out, fit, document)
    return EXIT_OK


def _replay_tuned(
    args: argparse.Namespace, paths: list[Path], settings: Any, document: dict[str, Any], floors: dict[str, float]
) -> tuple[Any, dict[str, Any]]:
    import os

    from monitor.core.match_types import settings_to_json
    from monitor.service.fit_replay import replays_for, tune

    replays = replays_for(paths, compress=args.compress, polls=args.first_polls, blocks=args.blocks)
    print(f"tuning on {len(replays)} replays, at most {args.replay} evaluations", file=sys.stderr)
    tuned, report = tune(
        settings,
        replays,
        budget=args.replay,
        min_precision=args.min_precision,
        floors=floors,
        jobs=args.jobs or os.cpu_count() or 1,
        progress=lambda m: print(m, file=sys.stderr),
    )
    fitted = {**document["fitted"], "replay": report.as_dict()}
    return tuned, {**settings_to_json(tuned), "fitted": fitted}


def _print_fit(out: str, fit: Any, document: dict[str, Any]) -> None:
    if fit is not None:
        print(f"{out}: fitted on {fit.rows} candidate stories ({fit.positives} true), log loss {fit.log_loss:.3f}")
    replay = document["fitted"].get("replay")
    if replay:
        print(
            f"tuned on replays: objective {replay['objective_before']:.4f} -> {replay['objective_after']:.4f} "
            f"in {replay['evaluations']} evaluations, {len(replay['moves'])} moves"
        )
        for group, s in replay["replays"].items():
            print(f"  {group:<40} link P / R / F1 {s['precision']:.3f} / {s['recall']:.3f} / {s['f1']:.3f}")
    print(f"point the config at it: monitor.match_weights = {str(out)!r}")
