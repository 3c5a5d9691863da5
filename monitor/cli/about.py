"""``demo`` and ``version``: the commands that need no config file."""

from __future__ import annotations

import argparse

from monitor import __version__
from monitor.cli.common import EXIT_OK, Add


def register(add: Add) -> None:
    p = add("demo", cmd_demo, "run the whole loop offline on 127.0.0.1: replay feed, webhook receiver, alert")
    p.add_argument("--keep", action="store_true", help="keep the demo's temporary folder and print its path")
    add("version", cmd_version, "print the version")


def cmd_demo(args: argparse.Namespace) -> int:
    from monitor.service.demo import run_demo

    return run_demo(json_output=args.json, keep=args.keep)


def cmd_version(args: argparse.Namespace) -> int:
    print(f"news-monitor {__version__}")
    return EXIT_OK
