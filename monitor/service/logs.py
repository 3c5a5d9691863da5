"""Logging set-up: a human format on a terminal, JSON lines under systemd (or when asked).

Log lines start with an event word (``poll.ok``, ``deliver.retry`` ...) followed by ``key=value`` context,
so both formats grep well. Secrets never reach a log line: the config keeps them out of every ``repr``.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def choose_format(requested: str) -> str:
    if requested != "auto":
        return requested
    # systemd sets JOURNAL_STREAM for services whose stderr goes to the journal.
    return "json" if os.environ.get("JOURNAL_STREAM") else "human"


def setup_logging(fmt: str = "auto", level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if choose_format(fmt) == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s %(message)s", "%H:%M:%S"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "apscheduler", "alembic.runtime.migration"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
