"""The argument parser: the options every command takes, and each command group's ``register``."""

from __future__ import annotations

import argparse

from monitor.cli import about, daemon, deliveries, feeds, matching, pages, status, stories
from monitor.cli.common import Command
from monitor.config import DEFAULT_CONFIG

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
LOG_FORMATS = ("auto", "human", "json")
LOG_FORMAT_HELP = "log format (default: from config; auto = JSON under systemd, human on a terminal)"


def build_parser() -> argparse.ArgumentParser:
    parser = _root()
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    common = _common()

    def add(name: str, fn: Command, help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, parents=[common], help=help_, description=help_)
        p.set_defaults(func=fn)
        return p

    # The order of `news-monitor --help`.
    for group in (daemon, stories, status, feeds, pages, deliveries, matching, about):
        group.register(add)
    return parser


def _root() -> argparse.ArgumentParser:
    """The options before the command (``news-monitor -c x.toml stories``); hidden, as the help shows them
    after it."""
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
    parser.add_argument("--log-format", choices=LOG_FORMATS, default=None, help=LOG_FORMAT_HELP)
    return parser


def _common() -> argparse.ArgumentParser:
    """The options after the command; SUPPRESS keeps a value given before the command."""
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
    common.add_argument("--log-format", choices=LOG_FORMATS, default=argparse.SUPPRESS, help=LOG_FORMAT_HELP)
    return common
