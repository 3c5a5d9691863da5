"""Terminal output: aligned tables, relative times, and a progress line. No logic, only presentation."""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Sequence
from datetime import datetime
from typing import TextIO


def ago(when: datetime | None, now: datetime, *, none: str = "-") -> str:
    """ "5m ago", "in 2h"; ``none`` when there is no time."""
    if when is None:
        return none
    seconds = (now - when).total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            text = f"{seconds / size:.0f}{unit}"
            break
    else:
        text = f"{seconds:.0f}s"
    return f"in {text}" if future else f"{text} ago"


def cut(text: str | None, width: int) -> str:
    text = (text or "").replace("\n", " ")
    return text if len(text) <= width else text[: max(1, width - 1)] + "\u2026"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], *, max_width: int | None = None) -> str:
    """A plain aligned table; the widest column shrinks to fit the terminal."""
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    limit = max_width or shutil.get_terminal_size((120, 24)).columns
    while sum(widths) + 2 * (len(widths) - 1) > limit and max(widths) > 12:
        widths[widths.index(max(widths))] -= 1
    lines = []
    for n, row in enumerate(cells):
        lines.append("  ".join(cut(c, w).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


class Progress:
    """``done/total`` on one line of stderr when it is a terminal; silent otherwise (logs and pipes)."""

    def __init__(self, label: str, stream: TextIO | None = None, every: float = 0.2) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.every = every
        self._last = 0.0
        self.enabled = self.stream.isatty()

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if not self.enabled or (now - self._last < self.every and done < total):
            return
        self._last = now
        pct = f" {100 * done / total:5.1f}%" if total else ""
        self.stream.write(f"\r{self.label}: {done:,}/{total:,}{pct}")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()

    def step(self, message: str) -> None:
        self.stream.write(f"{self.label}: {message}\n")
        self.stream.flush()
