"""Logging set-up: a human format on a terminal, JSON lines under systemd (or when asked).

Log lines start with an event word (``poll.ok``, ``deliver.retry`` ...) followed by ``key=value`` context,
so both formats grep well. Secrets never reach a log line: the config keeps them out of every ``repr``,
and both formats pass every message through ``core.redact.redact_text`` (a database URL in a driver's
error, a feed URL with ``user:password@``).

The human format is one line per record whatever a field holds: control characters (a newline in a seed
file's name once forged a whole log line) are escaped, and a traceback's lines are marked ``| ``, so no
line a record writes can pass for the start of another record.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from datetime import UTC, datetime
from typing import Any

from monitor.core.redact import redact_text

# C0 and C1 controls, DEL, line/paragraph separators, and lone surrogates (undecodable file-name bytes).
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def escape_controls(text: str) -> str:
    """``text`` on one line: each control character as its Python escape (``\\n``, ``\\x1b``, ``\\udcff``)."""
    return _UNSAFE.sub(lambda m: repr(m.group(0))[1:-1], text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": redact_text(record.getMessage()),
        }
        if record.exc_info:
            entry["exc"] = redact_text(self.formatException(record.exc_info))
        # JSON escapes controls itself; lone surrogates are escaped too, so the line can always be written.
        return json.dumps(entry, ensure_ascii=False).encode("utf-8", "backslashreplace").decode("utf-8")


class HumanFormatter(logging.Formatter):
    """``12:00:00 INFO    monitor.poll poll.ok feed=x``: one line per record, every field escaped."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s %(message)s", "%H:%M:%S")

    def formatMessage(self, record: logging.LogRecord) -> str:
        safe = logging.makeLogRecord(record.__dict__)
        safe.name, safe.levelname = escape_controls(record.name), escape_controls(record.levelname)
        safe.message = escape_controls(redact_text(record.message))
        return super().formatMessage(safe)

    def formatException(self, ei: Any) -> str:
        text = redact_text(super().formatException(ei))
        return "\n".join("| " + escape_controls(line) for line in text.split("\n"))

    def formatStack(self, stack_info: str) -> str:
        return "\n".join("| " + escape_controls(line) for line in stack_info.split("\n"))


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
        handler.setFormatter(HumanFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "apscheduler", "alembic.runtime.migration"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
