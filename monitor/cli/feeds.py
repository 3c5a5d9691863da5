"""``feeds``: every feed's polling state; ``feeds import FILE.opml`` and ``feeds export``."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from monitor.cli.common import EXIT_OK, EXIT_USAGE, Add, config_path, load, print_json
from monitor.core.redact import redact_text
from monitor.render import ago, table


def register(add: Add) -> None:
    p = add(
        "feeds",
        cmd_feeds,
        "every feed's status, failures, items seen, last and next poll, last error; "
        "import feeds from OPML, export them as OPML",
    )
    p.add_argument("action", nargs="?", choices=("list", "import", "export"), default="list")
    p.add_argument("file", nargs="?", metavar="FILE.opml", help="with 'import': the OPML file")
    p.add_argument(
        "--write",
        action="store_true",
        help="with 'import': add the feeds to the config file (atomically; without it, print them)",
    )
    p.add_argument("--output", "-o", metavar="FILE", help="with 'export': write the OPML here (default: stdout)")
    p.epilog = (
        "status: new (never polled), ok, retrying (failed fewer than monitor.feed_failing_after times in a row), "
        "failing (from the failure that sends feed.failing)"
    )


def cmd_feeds(args: argparse.Namespace) -> int:
    if args.action == "import":
        return _feeds_import(args)
    if args.action == "export":
        return _feeds_export(args)
    from monitor.service import queries

    states = queries.feeds(queries.open_database(load(args)))
    if args.json:
        print_json([s.__dict__ for s in states])
        return EXIT_OK
    now = datetime.now(UTC)
    rows = [
        (
            s.name,
            s.status if s.active else "removed",
            s.failures,
            s.items_seen,
            s.articles_total,
            ago(s.last_polled_at, now),
            ago(s.next_poll_at, now),
            redact_text(s.last_error or ""),
        )
        for s in states
    ]
    print(table(("feed", "status", "failures", "items", "articles", "polled", "next", "last error"), rows))
    return EXIT_OK


def _feeds_import(args: argparse.Namespace) -> int:
    from monitor.service.feed_import import import_feeds

    if not args.file:
        print("news-monitor: feeds import needs an OPML FILE", file=sys.stderr)
        return EXIT_USAGE
    path = config_path(args)
    result = import_feeds(path, Path(args.file), write=args.write)
    plan = result.plan
    if args.json:
        print_json(
            {
                "config": str(path),
                "written": result.written,
                "add": [{"name": n.name, "url": n.outline.url, "title": n.outline.title} for n in plan.add],
                "configured": [{"url": o.url, "as": name, "line": o.line} for o, name in plan.configured],
                "repeated": [{"url": o.url, "line": o.line} for o in plan.repeated],
            }
        )
        return EXIT_OK
    # Without --write, stdout is valid TOML: the summary and the skipped outlines are comments.
    print(f"# {args.file}: {plan.summary()}")
    for o, name in plan.configured:
        print(f"# skipped (line {o.line}), already configured as {name!r}: {o.url}")
    for o in plan.repeated:
        print(f"# skipped (line {o.line}), listed earlier in the file: {o.url}")
    if result.written:
        print(f"# added to {path}; a running daemon picks them up at its next reload")
    elif plan.add:
        print(f"# add them to {path} with: news-monitor feeds import {args.file} --write\n")
        print(result.toml, end="")
    return EXIT_OK


def _feeds_export(args: argparse.Namespace) -> int:
    from monitor.service.feed_import import export_feeds

    config = load(args)
    text = export_feeds(config)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"{len(config.feeds)} feed(s) written to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return EXIT_OK
