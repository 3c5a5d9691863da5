"""``run``, ``once`` and ``check-config``: the daemon, one pass of it for cron, and its config."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING, Any

from monitor.cli.common import EXIT_FAILED, EXIT_OK, Add, config_path, level, load, print_json
from monitor.config import Config, parse_duration, public_listen_warning
from monitor.core.redact import redact_url
from monitor.render import table

if TYPE_CHECKING:
    from monitor.service.pipeline import RunReport


def register(add: Add) -> None:
    add("run", cmd_run, "run the daemon until SIGTERM/SIGINT (SIGHUP or editing the config reloads it)")
    p = add("once", cmd_once, "one pass of every job (seeds, every feed, outbox), then exit: for cron and tests")
    p.epilog = (
        "exit codes: 0 the pass succeeded; 1 a feed, seed file or delivery failed (listed on stdout); "
        "2 usage or config error; 3 database error"
    )
    p.add_argument(
        "--flush-timeout",
        type=parse_duration,
        default=30.0,
        metavar="DURATION",
        help="how long to wait for retries of failed deliveries that come due soon (default 30s)",
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help="deprecated, no effect: once exits 1 whenever a feed, seed file or delivery failed",
    )
    add("check-config", cmd_check_config, "validate the config and report every problem with its path")


def cmd_run(args: argparse.Namespace) -> int:
    from monitor.service.daemon import Daemon
    from monitor.service.logs import setup_logging
    from monitor.service.queries import open_database

    config = load(args)
    setup_logging(args.log_format or config.monitor.log_format, level(args))
    daemon = Daemon(config, open_database(config), config_path=config_path(args))
    asyncio.run(daemon.run())
    return EXIT_OK


def cmd_once(args: argparse.Namespace) -> int:
    from monitor.service.logs import setup_logging
    from monitor.service.pipeline import Pipeline
    from monitor.service.queries import open_database, waiting_retry

    config = load(args)
    setup_logging(args.log_format or config.monitor.log_format, level(args))
    pipeline = Pipeline(config, open_database(config))

    async def go() -> RunReport:
        try:
            return await pipeline.run_once(flush_timeout=args.flush_timeout)
        finally:
            await pipeline.aclose()

    report = asyncio.run(go())
    summary = _once_summary(report, waiting_retry(pipeline.db))
    if args.json:
        print_json(summary)
    else:
        _print_once(report, summary)
    failed = any(p.result == "error" for p in report.polls)
    # For cron: anything that needs a look makes the run fail (the table above says what).
    needs_a_look = failed or report.seed_errors or summary["dead"] or summary["waiting_retry"]
    return EXIT_FAILED if needs_a_look else EXIT_OK


def _once_summary(report: RunReport, undelivered: int) -> dict[str, Any]:
    return {
        "seeds": {
            "files": len(report.seeds),
            "changed": sum(r.status != "unchanged" for r in report.seeds),
            "errors": report.seed_errors,
        },
        "feeds": [
            {"feed": p.feed, "result": p.result, "new_articles": p.new_articles, "events": p.events, "error": p.error}
            for p in report.polls
        ],
        "events": report.events,
        "delivered": sum(d.delivered for d in report.deliveries),
        "retrying": report.deliveries[-1].retrying if report.deliveries else 0,
        "dead": sum(d.dead for d in report.deliveries),
        "waiting_retry": undelivered,
    }


def _print_once(report: RunReport, summary: dict[str, Any]) -> None:
    s = summary["seeds"]
    print(f"seeds: {s['files']} file(s), {s['changed']} changed, {len(s['errors'])} error(s)")
    for err in s["errors"]:
        print(f"  ! {err}")
    failed = [p for p in report.polls if p.result == "error"]
    new = sum(p.new_articles for p in report.polls)
    print(f"feeds: {len(report.polls)} polled, {len(failed)} failed, {new} new article(s)")
    if failed:
        print(table(("failed feed", "error"), [(p.feed, p.error or "") for p in failed]))
    print(
        f"events: {summary['events']} new, {summary['delivered']} delivered, {summary['dead']} dead, "
        f"{summary['waiting_retry']} waiting for a retry"
    )


def cmd_check_config(args: argparse.Namespace) -> int:
    config = load(args)
    summary = _config_summary(args, config)
    for warning in summary["warnings"]:
        print(f"warning: {warning}", file=sys.stderr)
    if args.json:
        print_json({"ok": True, **summary})
        return EXIT_OK
    print(f"{summary['config']}: OK")
    print(f"  database   {summary['database']}")
    print(f"  seeds_dir  {summary['seeds_dir'] or '-'}")
    print(f"  feeds      {len(config.feeds)}: {', '.join(summary['feeds']) or '-'}")
    print(
        f"  webhooks   {len(config.webhooks)}: "
        f"{', '.join(w.name for w in config.webhooks) or '- (alerts go to the log as JSON lines)'}"
    )
    print(f"  watchlists {len(config.watchlists)}: {', '.join(summary['watchlists']) or '- (every developing story)'}")
    return EXIT_OK


def _config_summary(args: argparse.Namespace, config: Config) -> dict[str, Any]:
    return {
        "config": str(config_path(args)),
        "database": redact_url(config.monitor.database),
        "seeds_dir": str(config.monitor.seeds_dir) if config.monitor.seeds_dir else None,
        "feeds": [f.name for f in config.feeds],
        "webhooks": [{"name": w.name, "format": w.format, "signed": w.secret is not None} for w in config.webhooks],
        "watchlists": [w.name for w in config.watchlists],
        "warnings": [w for w in (public_listen_warning(config.monitor.http_listen),) if w],
    }
