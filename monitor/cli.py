"""The ``news-monitor`` command: arguments in, exit codes out. The only place errors become messages.

Exit codes: 0 success; 1 the command ran but something it did failed (``once`` with a failing feed, seed
file or delivery, ``backtest`` on bad input); 2 usage or config error; 3 database error; 4 not found; 130
interrupted. A reader that goes away (``news-monitor deliveries --all | head``) ends the command quietly with 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from monitor import __version__, cli_pages
from monitor.config import DEFAULT_CONFIG, Config, load_config, parse_duration
from monitor.core.redact import redact_text
from monitor.errors import ConfigError, MonitorError, StoreError

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_STORE, EXIT_NOT_FOUND, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 130

EPILOG = """\
examples:
  news-monitor check-config                 validate config/monitor.toml, list every problem
  news-monitor once                         one pass: seeds, every feed, deliver alerts; then exit
  news-monitor run                          the daemon (APScheduler inside; SIGTERM/SIGINT stop, SIGHUP reloads)
  news-monitor stories                      tracked developing stories, newest activity first
  news-monitor stories show st_1a2b         one story's versions and what each added
  news-monitor feeds --json                 every feed's polling state, for scripts
  news-monitor feeds import subs.opml       the [[feeds]] an OPML file would add (--write adds them)
  news-monitor feeds export -o feeds.opml   the configured feeds as OPML 2.0
  news-monitor deliveries                   pending, retrying and dead webhook deliveries
  news-monitor status                       database, stories, events, outbox depth, failing feeds
  news-monitor backtest docs.jsonl          replay labelled articles through the matcher, print quality
  news-monitor fit docs.jsonl -o w.json     fit the matcher's weights on labelled articles (monitor.match_weights)
  news-monitor demo                         the whole loop offline, on 127.0.0.1, in seconds

exit codes: 0 ok, 1 failed (once: a feed, seed file or delivery of the pass failed), 2 usage/config error,
  3 database error, 4 not found, 130 interrupted; 0 when the reader of a pipe goes away (| head)
"""


def _config_path(args: argparse.Namespace) -> Path:
    return Path(args.config or os.environ.get("NEWS_MONITOR_CONFIG") or DEFAULT_CONFIG)


def _load(args: argparse.Namespace) -> Config:
    return load_config(_config_path(args))


def _database(config: Config) -> Any:
    from monitor.store.db import Database

    return Database(config.monitor.database)


def _print_json(data: Any) -> None:
    print(redact_text(json.dumps(data, indent=2, ensure_ascii=False, default=str)))


# --- commands ---------------------------------------------------------------------------------------------


def cmd_check_config(args: argparse.Namespace) -> int:
    config = _load(args)
    from monitor.config import public_listen_warning
    from monitor.store.db import redact

    summary: dict[str, Any] = {
        "config": str(_config_path(args)),
        "database": redact(config.monitor.database),
        "seeds_dir": str(config.monitor.seeds_dir) if config.monitor.seeds_dir else None,
        "feeds": [f.name for f in config.feeds],
        "webhooks": [{"name": w.name, "format": w.format, "signed": w.secret is not None} for w in config.webhooks],
        "watchlists": [w.name for w in config.watchlists],
        "warnings": [w for w in (public_listen_warning(config.monitor.http_listen),) if w],
    }
    for warning in summary["warnings"]:
        print(f"warning: {warning}", file=sys.stderr)
    if args.json:
        _print_json({"ok": True, **summary})
    else:
        print(f"{summary['config']}: OK")
        print(f"  database   {summary['database']}")
        print(f"  seeds_dir  {summary['seeds_dir'] or '-'}")
        print(f"  feeds      {len(config.feeds)}: {', '.join(summary['feeds']) or '-'}")
        print(
            f"  webhooks   {len(config.webhooks)}: "
            f"{', '.join(w.name for w in config.webhooks) or '- (alerts go to the log as JSON lines)'}"
        )
        print(
            f"  watchlists {len(config.watchlists)}: {', '.join(summary['watchlists']) or '- (every developing story)'}"
        )
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    from monitor.service.daemon import Daemon
    from monitor.service.logs import setup_logging

    config = _load(args)
    setup_logging(args.log_format or config.monitor.log_format, _level(args))
    daemon = Daemon(config, _database(config), config_path=_config_path(args))
    asyncio.run(daemon.run())
    return EXIT_OK


def cmd_once(args: argparse.Namespace) -> int:
    from monitor.service.logs import setup_logging
    from monitor.service.pipeline import Pipeline

    config = _load(args)
    setup_logging(args.log_format or config.monitor.log_format, _level(args))
    pipeline = Pipeline(config, _database(config))

    async def go() -> Any:
        try:
            return await pipeline.run_once(flush_timeout=args.flush_timeout)
        finally:
            await pipeline.aclose()

    report = asyncio.run(go())
    failed = [p for p in report.polls if p.result == "error"]
    delivered = sum(d.delivered for d in report.deliveries)
    undelivered = _failed_deliveries(pipeline.db)
    summary = {
        "seeds": {
            "files": len(report.seeds),
            "changed": sum(r.status != "unchanged" for r in report.seeds),
            "errors": report.seed_errors,
        },
        "feeds": [
            {
                "feed": p.feed,
                "result": p.result,
                "new_articles": p.new_articles,
                "events": p.events,
                "error": p.error,
            }
            for p in report.polls
        ],
        "events": report.events,
        "delivered": delivered,
        "retrying": report.deliveries[-1].retrying if report.deliveries else 0,
        "dead": sum(d.dead for d in report.deliveries),
        "waiting_retry": undelivered,
    }
    if args.json:
        _print_json(summary)
    else:
        from monitor.render import table

        s = summary["seeds"]
        print(f"seeds: {s['files']} file(s), {s['changed']} changed, {len(s['errors'])} error(s)")
        for err in s["errors"]:
            print(f"  ! {err}")
        new = sum(p.new_articles for p in report.polls)
        print(f"feeds: {len(report.polls)} polled, {len(failed)} failed, {new} new article(s)")
        if failed:
            print(table(("failed feed", "error"), [(p.feed, p.error or "") for p in failed]))
        print(
            f"events: {summary['events']} new, {delivered} delivered, {summary['dead']} dead, "
            f"{undelivered} waiting for a retry"
        )
    # For cron: anything that needs a look makes the run fail (the table above says what).
    return EXIT_FAILED if failed or report.seed_errors or summary["dead"] or undelivered else EXIT_OK


def _failed_deliveries(db: Any) -> int:
    """Deliveries left pending after a failed attempt when the pass ended (retries did not get them through)."""
    from monitor.store import outbox

    return sum(1 for d in outbox.list_deliveries(db, ("pending",), limit=100_000) if d.attempts)


def cmd_stories(args: argparse.Namespace) -> int:
    from monitor.render import ago, table
    from monitor.store import stories

    config = _load(args)
    db = _database(config)
    if args.action == "show":
        return _story_show(args, db)
    recs = stories.list_stories(db, tracked_only=not args.all, limit=args.limit)
    if args.json:
        _print_json([r.__dict__ for r in recs])
        return EXIT_OK
    now = datetime.now(UTC)
    rows = [
        (
            r.id,
            r.status + ("*" if r.developing else ""),
            r.version_count,
            ago(r.updated_at, now),
            ",".join(w["name"] for w in r.watchlists) or "-",
            r.title,
        )
        for r in recs
    ]
    print(table(("story", "status", "versions", "updated", "watchlists", "title"), rows))
    if any(r.developing for r in recs):
        print('* developing: a version carries a newsroom marker ("developing story", "UPDATE 2-", ...)')
    if not recs:
        print("(no tracked stories yet; --all lists every story)" if not args.all else "(no stories yet)")
    return EXIT_OK


def _story_show(args: argparse.Namespace, db: Any) -> int:
    from monitor.store import stories

    story = stories.get_story(db, args.id)
    if story is None:
        print(f"news-monitor: no story {args.id!r}", file=sys.stderr)
        return EXIT_NOT_FOUND
    versions = stories.story_versions(db, story.id)
    if args.json:
        _print_json(
            {
                "story": story.__dict__,
                "versions": [
                    {
                        **{k: v for k, v in vr.__dict__.items() if k != "article"},
                        "article": {k: v for k, v in vr.article.__dict__.items() if k != "text"},
                    }
                    for vr in versions
                ],
                "pages": cli_pages.story_pages(db, story.id),
            }
        )
        return EXIT_OK
    print(f"{story.id}  {story.title}")
    print(
        f"  status {story.status}, developing={story.developing} {story.markers}, tracked={story.tracked}, "
        f"watchlists={[w['name'] for w in story.watchlists]}"
    )
    for v in versions:
        a = v.article
        flag = "material" if v.material else "no new facts"
        print(f"\n[{v.seq}] {v.created_at:%Y-%m-%d %H:%M} {a.source} {a.url or a.guid}  ({flag})")
        print(f"    title: {a.title}{'  (headline changed)' if v.headline_changed else ''}")
        print(f"    why:   {_why(v.match)}")
        for sentence in v.added[:12]:
            print(f"    + {sentence}")
        if len(v.added) > 12:
            print(f"    + ... {len(v.added) - 12} more")
        for key in ("numbers", "names", "quotes"):
            if v.facts.get(key):
                print(f"    {key}: {'; '.join(v.facts[key][:10])}")
    cli_pages.print_story_pages(db, story.id)
    return EXIT_OK


def _why(match: dict[str, Any]) -> str:
    if not match:
        return "first version"
    parts = [f"{k}={v}" for k, v in match.items() if not isinstance(v, list | dict)]
    parts += [f"{k}={', '.join(map(str, v[:6]))}" for k, v in match.items() if isinstance(v, list) and v]
    return "; ".join(parts)


def cmd_feeds(args: argparse.Namespace) -> int:
    from monitor.render import ago, table
    from monitor.store import feed_state

    if args.action == "import":
        return _feeds_import(args)
    if args.action == "export":
        return _feeds_export(args)
    config = _load(args)
    db = _database(config)
    states = feed_state.feed_states(db)
    if args.json:
        _print_json([s.__dict__ for s in states])
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
    config_path = _config_path(args)
    result = import_feeds(config_path, Path(args.file), write=args.write)
    plan = result.plan
    if args.json:
        _print_json(
            {
                "config": str(config_path),
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
        print(f"# added to {config_path}; a running daemon picks them up at its next reload")
    elif plan.add:
        print(f"# add them to {config_path} with: news-monitor feeds import {args.file} --write\n")
        print(result.toml, end="")
    return EXIT_OK


def _feeds_export(args: argparse.Namespace) -> int:
    from monitor.service.feed_import import export_feeds

    config = _load(args)
    text = export_feeds(config)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"{len(config.feeds)} feed(s) written to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def cmd_deliveries(args: argparse.Namespace) -> int:
    from monitor.render import ago, table
    from monitor.store import outbox

    config = _load(args)
    db = _database(config)
    now = datetime.now(UTC)
    if args.action == "retry":
        if not args.dead and not args.held and args.id is None:
            print("news-monitor: deliveries retry needs an ID, --dead or --held", file=sys.stderr)
            return EXIT_USAGE
        if args.id is not None and not str(args.id).isdigit():
            print(f"news-monitor: delivery ID must be a number, got {args.id!r}", file=sys.stderr)
            return EXIT_USAGE
        n = outbox.retry(db, now, delivery_id=int(args.id) if args.id else None, dead=args.dead, held=args.held)
        print(f"{n} delivery(ies) queued again")
        return EXIT_OK if n else EXIT_NOT_FOUND
    if args.action == "enable":
        if not args.id:
            print("news-monitor: deliveries enable needs a webhook NAME", file=sys.stderr)
            return EXIT_USAGE
        if not outbox.enable_webhook(db, str(args.id)):
            print(f"news-monitor: webhook {args.id!r} is not disabled", file=sys.stderr)
            return EXIT_NOT_FOUND
        print(f"webhook {args.id!r} enabled again; its pending deliveries resume")
        return EXIT_OK
    if args.action == "replay":
        n = outbox.replay(db, now, _since(args.since, now))
        print(f"{n} delivered event(s) queued to be sent again (same ids)")
        return EXIT_OK
    shown = ("pending", "held", "dead") + (("delivered",) if args.all else ())
    recs = outbox.list_deliveries(db, shown)
    disabled = outbox.disabled_webhooks(db)
    if args.json:
        _print_json(
            {
                "summary": outbox.summary(db, now),
                "disabled_webhooks": disabled,
                "deliveries": [r.__dict__ for r in recs],
            }
        )
        return EXIT_OK
    rows = [
        (
            r.id,
            r.status if r.status != "pending" or not r.attempts else "retrying",
            r.webhook,
            r.type,
            r.attempts,
            ago(r.next_attempt_at, now) if r.status == "pending" else "-",
            r.event_id,
            r.last_error or "",
        )
        for r in recs
    ]
    print(table(("id", "status", "webhook", "event", "tries", "next", "event id", "last error"), rows))
    counts = outbox.summary(db, now)["by_status"]
    print(", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "(outbox empty)")
    for name, reason in disabled.items():
        print(f"webhook {name!r} is DISABLED ({reason}); re-enable: news-monitor deliveries enable {name}")
    return EXIT_OK


def _since(text: str, now: datetime) -> datetime:
    try:
        return now - timedelta(seconds=parse_duration(text))
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(text)
    except ValueError as e:
        raise MonitorError(f"--since: expected a duration like '2h' or an ISO time, got {text!r}") from e
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def cmd_status(args: argparse.Namespace) -> int:
    from monitor.render import table
    from monitor.service.status import status

    config = _load(args)
    data = status(_database(config), datetime.now(UTC))
    if args.json:
        _print_json(data)
    else:
        db = data["database"]
        print(f"database   {db['url']}: {'reachable' if db['reachable'] else 'UNREACHABLE: ' + db.get('error', '')}")
        if db["reachable"]:
            c, o, f = data["counts"], data["outbox"], data["feeds"]
            by = ", ".join(f"{k} {v}" for k, v in sorted(c["stories_by_status"].items())) or "-"
            print(f"stories    {c['stories']} ({c['tracked_stories']} tracked; {by}), articles {c['articles']}")
            print(
                f"events     {c['events']}: "
                + (", ".join(f"{k} {v}" for k, v in sorted(c["events_by_type"].items())) or "-")
            )
            print(
                f"outbox     {o['pending']} pending (oldest {o['oldest_pending_age_s']:.0f}s); "
                + ", ".join(f"{k} {v}" for k, v in sorted(o["by_status"].items()))
            )
            print(
                "feeds      "
                + (", ".join(f"{k} {v}" for k, v in sorted(f["by_status"].items())) or "-")
                + f"; last poll {data['last_poll'] or 'never'}"
            )
            if f["failing"]:
                rows = [(x.get("name"), x.get("failures"), x.get("last_error")) for x in f["failing"]]
                print(table(("failing feed", "failures", "last error"), rows))
    return EXIT_OK if data["database"]["reachable"] else EXIT_STORE


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
        _print_json(report.as_dict())
    else:
        print(format_report(report))
    return EXIT_OK


def cmd_fit(args: argparse.Namespace) -> int:
    from monitor.service.fit import fit_files, weights_document, write_weights

    paths = [Path(a) for a in args.articles]
    settings, fit = fit_files(paths, progress=lambda m: print(m, file=sys.stderr))
    document = weights_document(settings, fit, paths)
    write_weights(Path(args.out), document)
    if args.json:
        _print_json(document)
    else:
        print(f"{args.out}: fitted on {fit.rows} candidate stories ({fit.positives} true), log loss {fit.log_loss:.3f}")
        print(f"point the config at it: monitor.match_weights = {str(args.out)!r}")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from monitor.service.demo import run_demo

    return run_demo(json_output=args.json, keep=args.keep)


def cmd_version(args: argparse.Namespace) -> int:
    print(f"news-monitor {__version__}")
    return EXIT_OK


# --- parser -----------------------------------------------------------------------------------------------


def _level(args: argparse.Namespace) -> int:
    return logging.DEBUG if args.verbose else (logging.WARNING if args.quiet else logging.INFO)


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        "-c",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help=f"config file (default: $NEWS_MONITOR_CONFIG or {DEFAULT_CONFIG})",
    )
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output")
    common.add_argument("--verbose", "-v", action="store_true", default=argparse.SUPPRESS, help="debug logging")
    common.add_argument(
        "--quiet", "-q", action="store_true", default=argparse.SUPPRESS, help="warnings and errors only"
    )
    common.add_argument(
        "--log-format",
        choices=("auto", "human", "json"),
        default=argparse.SUPPRESS,
        help="log format (default: from config; auto = JSON under systemd, human on a terminal)",
    )
    parser = argparse.ArgumentParser(
        prog="news-monitor",
        description="Follow developing news stories: poll feeds and a seed folder, match "
        "updates to stories, work out what is new, and send signed webhook alerts.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", "-c", metavar="PATH", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", default=False, help=argparse.SUPPRESS)
    parser.add_argument("--verbose", "-v", action="store_true", help="debug logging")
    parser.add_argument("--quiet", "-q", action="store_true", help="warnings and errors only")
    parser.add_argument(
        "--log-format",
        choices=("auto", "human", "json"),
        default=None,
        help="log format (default: from config; auto = JSON under systemd, human on a terminal)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(name: str, fn: Callable[[argparse.Namespace], int], help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, parents=[common], help=help_, description=help_)
        p.set_defaults(func=fn)
        return p

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
    p = add("stories", cmd_stories, "list stories (tracked developing stories by default), or show one")
    p.add_argument("action", nargs="?", choices=("list", "show"), default="list")
    p.add_argument("id", nargs="?", help="story id (or a unique prefix) for 'show'")
    p.add_argument("--all", action="store_true", help="every story, not only tracked ones")
    p.add_argument("--limit", type=int, default=50, help="at most this many stories (default 50)")
    add(
        "status",
        cmd_status,
        "the service at a glance: database, stories, events, outbox depth, failing feeds",
    )
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
    cli_pages.register(add)  # pages, inspect URL
    p = add("deliveries", cmd_deliveries, "webhook deliveries: list pending/dead, retry, replay")
    p.add_argument("action", nargs="?", choices=("list", "retry", "replay", "enable"), default="list")
    p.add_argument("id", nargs="?", help="delivery id for 'retry'; webhook name for 'enable'")
    p.add_argument("--dead", action="store_true", help="with 'retry': every dead-lettered delivery")
    p.add_argument("--held", action="store_true", help="with 'retry': every delivery held by a feed anomaly")
    p.add_argument("--since", default="24h", help="with 'replay': a duration ('2h') or ISO time (default 24h)")
    p.add_argument("--all", action="store_true", help="with 'list': include delivered ones")
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
    p = add("demo", cmd_demo, "run the whole loop offline on 127.0.0.1: replay feed, webhook receiver, alert")
    p.add_argument("--keep", action="store_true", help="keep the demo's temporary folder and print its path")
    add("version", cmd_version, "print the version")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "stories" and args.action == "show" and not args.id:
        parser.error("stories show needs a story ID")
    try:
        code = int(args.func(args))
        sys.stdout.flush()  # here, not at exit: a reader that went away is handled below
        return code
    except BrokenPipeError:
        # The reader of our stdout went away (`| head`): that is how pipes end, not an error. Point stdout
        # at /dev/null so the interpreter's final flush does not raise again (Python's signal docs recipe).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except ConfigError as e:
        print(f"news-monitor: {redact_text(str(e))}", file=sys.stderr)
        return EXIT_USAGE
    except StoreError as e:
        print(f"news-monitor: {redact_text(str(e))}", file=sys.stderr)
        return EXIT_STORE
    except MonitorError as e:
        print(f"news-monitor: {redact_text(str(e))}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
