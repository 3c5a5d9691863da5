"""Shapes shared by more than one command: watched pages as JSON rows and as a table, terminal-safe text."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from monitor.render import ago, table

PAGE_HEADER = ("story", "url", "state", "next check", "last change", "checks/changes", "failures", "last error")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def safe(text: str) -> str:
    """A page's text on a terminal: no control characters (escape sequences could rewrite the screen)."""
    return _CONTROL.sub(" ", text)


def page_rows(pages: list[Any]) -> list[dict[str, Any]]:
    """Watched pages for ``--json`` (``pages`` and ``stories show``)."""
    return [
        {
            "story": p.story_id,
            "story_title": p.story_title,
            "story_status": p.story_status,
            "url": p.url,
            "final_url": p.final_url,
            "status": p.status,
            "next_check": p.next_check_at,
            "interval_s": p.interval_s,
            "last_checked": p.last_checked_at,
            "last_change": p.last_change_at,
            "checks": p.checks,
            "changes": p.changes,
            "failures": p.failures,
            "last_status": p.last_status,
            "last_error": p.last_error,
        }
        for p in pages
    ]


def page_table_rows(pages: list[Any], now: datetime) -> list[tuple[Any, ...]]:
    """Watched pages as rows under ``PAGE_HEADER``."""

    def until(when: datetime) -> str:
        seconds = (when - now).total_seconds()
        if seconds <= 0:
            return "due"
        return f"in {seconds:.0f}s" if seconds < 120 else f"in {seconds / 60:.0f}m"

    return [
        (
            p.story_id,
            p.url,
            _state(p),
            until(p.next_check_at) if p.status == "watching" else "-",
            ago(p.last_change_at, now) if p.last_change_at else "never",
            f"{p.checks}/{p.changes}",
            p.failures,
            (p.last_error or "")[:80],
        )
        for p in pages
    ]


def _state(p: Any) -> str:
    if p.status != "watching":
        return str(p.status)
    return "watching" if p.story_status == "open" else f"idle ({p.story_status})"


def print_story_pages(pages: list[Any]) -> None:
    """A story's watched pages, under ``stories show`` (without the story column)."""
    if pages:
        rows = page_table_rows(pages, datetime.now(UTC))
        print("\npages:")
        print(table(PAGE_HEADER[1:], [r[1:] for r in rows]))
