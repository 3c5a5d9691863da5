"""What every command shares: exit codes, where the config is, JSON output, the log level."""

from __future__ import annotations

import argparse
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from monitor.config import DEFAULT_CONFIG, Config, load_config
from monitor.core.redact import redact_text

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_STORE, EXIT_NOT_FOUND, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 130

Command = Callable[[argparse.Namespace], int]
# add(name, command, help) -> the command's subparser, with the common options (cli/parser.py)
Add = Callable[[str, Command, str], argparse.ArgumentParser]


def config_path(args: argparse.Namespace) -> Path:
    return Path(args.config or os.environ.get("NEWS_MONITOR_CONFIG") or DEFAULT_CONFIG)


def load(args: argparse.Namespace) -> Config:
    return load_config(config_path(args))


def print_json(data: Any) -> None:
    print(redact_text(json.dumps(data, indent=2, ensure_ascii=False, default=str)))


def level(args: argparse.Namespace) -> int:
    return logging.DEBUG if args.verbose else (logging.WARNING if args.quiet else logging.INFO)
