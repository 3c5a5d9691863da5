"""``backtest`` and ``fit``: the matcher on labelled articles, offline (docs/matching.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

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
    p = add("fit", cmd_fit, "fit the matcher's weights on labelled JSONL articles (as backtest reads them)")
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


def cmd_backtest(args: argparse.Namespace) -> int:
    from monitor.render import Progress
    from monitor.service.backtest import format_report, run_backtest

    progress = Progress("backtest") if not args.json else None
    settings = None
    if args.weights:
        from monitor.service.fit import load_settings

        settings = load_settings(Path(args.weights))
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


def cmd_fit(args: argparse.Namespace) -> int:
    from monitor.service.fit import fit_files, weights_document, write_weights

    paths = [Path(a) for a in args.articles]
    settings, fit = fit_files(
        paths,
        progress=lambda m: print(m, file=sys.stderr),
        told=not args.decided,
        balance=args.balance,
        compress=args.compress,
        polls=args.first_polls,
    )
    document = weights_document(settings, fit, paths)
    write_weights(Path(args.out), document)
    if args.json:
        print_json(document)
    else:
        print(f"{args.out}: fitted on {fit.rows} candidate stories ({fit.positives} true), log loss {fit.log_loss:.3f}")
        print(f"point the config at it: monitor.match_weights = {str(args.out)!r}")
    return EXIT_OK
