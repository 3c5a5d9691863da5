"""``news-monitor pages`` and ``news-monitor inspect URL``: what the page checks see (docs/pages.md).

Command bodies only; ``cli.py`` registers them (``register``) and stays the place where errors become
messages and exit codes.
"""

from __future__ import annotations

import argparse
import asyncio
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

Add = Callable[[str, Callable[[argparse.Namespace], int], str], argparse.ArgumentParser]


def register(add: Add) -> None:
    p = add("pages", cmd_pages, "watched pages of developing stories: story, URL, next check, last change, failures")
    p.add_argument("--story", metavar="ID", help="only this story's pages")
    p.add_argument("--limit", type=int, default=200, help="at most this many pages (default 200)")
    p = add(
        "inspect",
        cmd_inspect,
        "fetch one page once with the daemon's client and guards; print its title, main text, developing "
        "markers and live posts (what a page check sees)",
    )
    p.add_argument("url", metavar="URL")


def page_rows(pages: list[Any]) -> list[dict[str, Any]]:
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


def _state(p: Any) -> str:
    if p.status != "watching":
        return str(p.status)
    return "watching" if p.story_status == "open" else f"idle ({p.story_status})"


def cmd_pages(args: argparse.Namespace) -> int:
    from monitor import cli
    from monitor.render import ago, table
    from monitor.store import pages as page_store

    config = cli._load(args)
    pages = page_store.list_pages(cli._database(config), args.story, args.limit)
    if args.json:
        cli._print_json(page_rows(pages))
        return cli.EXIT_OK
    print(table(*_table(pages, datetime.now(UTC), ago)))
    if not pages:
        print("(no watched pages: pages of open, tracked developing stories are watched)")
    return cli.EXIT_OK


def _table(pages: list[Any], now: datetime, ago: Callable[..., str]) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
    def until(when: datetime) -> str:
        seconds = (when - now).total_seconds()
        if seconds <= 0:
            return "due"
        return f"in {seconds:.0f}s" if seconds < 120 else f"in {seconds / 60:.0f}m"

    rows = [
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
    return ("story", "url", "state", "next check", "last change", "checks/changes", "failures", "last error"), rows


def story_pages(db: Any, story_id: str) -> list[dict[str, Any]]:
    """A story's watched pages, for ``stories show --json``."""
    from monitor.store import pages as page_store

    return page_rows(page_store.list_pages(db, story_id))


def print_story_pages(db: Any, story_id: str) -> None:
    """A story's watched pages, under ``stories show``."""
    from monitor.render import ago, table
    from monitor.store import pages as page_store

    pages = page_store.list_pages(db, story_id)
    if pages:
        header, rows = _table(pages, datetime.now(UTC), ago)
        print("\npages:")
        print(table(header[1:], [r[1:] for r in rows]))


def cmd_inspect(args: argparse.Namespace) -> int:
    from monitor import cli
    from monitor.core.developing import developing_markers
    from monitor.sources.feeds import build_client
    from monitor.sources.fetch import NotModified
    from monitor.sources.pages import fetch_page, read_page

    config = cli._load(args) if cli._config_path(args).exists() else _defaults()
    m = config.monitor

    async def go() -> Any:
        client = build_client(m.user_agent, m.fetch_timeout)
        try:
            return await fetch_page(
                client,
                args.url,
                where=f"page {args.url}",
                allow_private=m.allow_private_addresses,
                deadline=m.fetch_timeout,
            )
        finally:
            await client.aclose()

    fetched = asyncio.run(go())  # a FetchError becomes cli's message and exit code
    assert not isinstance(fetched, NotModified)  # no validators were sent
    view = read_page(fetched.body, fetched.url)
    markers = developing_markers(view.title or "", view.text or "", view.markers)
    out = {
        "url": args.url,
        "final_url": fetched.url,
        "status": fetched.status,
        "bytes": len(fetched.body),
        "etag": fetched.etag,
        "last_modified": fetched.last_modified,
        "canonical": view.canonical,
        "title": view.title,
        "developing_markers": list(markers),
        "text": view.text,
        "live_posts": [{"time": p.time, "id": p.id, "text": p.text} for p in view.live_posts],
    }
    if args.json:
        cli._print_json(out)
        return cli.EXIT_OK
    print(f"url:        {_safe(fetched.url)}  (HTTP {fetched.status}, {len(fetched.body):,} bytes)")
    print(f"canonical:  {_safe(view.canonical or '-')}")
    print(f"title:      {_safe(view.title or '-')}")
    print(f"developing: {', '.join(markers) or 'no markers'}")
    print(f"live posts: {len(view.live_posts)}")
    for post in view.live_posts[:20]:
        print(f"  [{_safe(post.time or '?')}] {_safe(post.text[:200])}")
    print("\nmain text:" if view.text else "\nmain text: (nothing extractable)")
    for para in (view.text or "").splitlines():
        print(f"  {_safe(para)}")
    return cli.EXIT_OK


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _safe(text: str) -> str:
    """A page's text on a terminal: no control characters (escape sequences could rewrite the screen)."""
    return _CONTROL.sub(" ", text)


def _defaults() -> Any:
    from pathlib import Path

    from monitor.config import parse_config

    return parse_config({"monitor": {"database": "sqlite:///:memory:"}}, base=Path.cwd())
