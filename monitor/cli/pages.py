"""``pages`` and ``inspect URL``: what the page checks watch, and what one check sees (docs/pages.md)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

from monitor.cli.common import EXIT_OK, Add, config_path, load, print_json
from monitor.cli.output import PAGE_HEADER, page_rows, page_table_rows, safe
from monitor.config import Config, parse_config
from monitor.render import table


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


def cmd_pages(args: argparse.Namespace) -> int:
    from monitor.service import queries

    pages = queries.pages(queries.open_database(load(args)), args.story, args.limit)
    if args.json:
        print_json(page_rows(pages))
        return EXIT_OK
    print(table(PAGE_HEADER, page_table_rows(pages, datetime.now(UTC))))
    if not pages:
        print("(no watched pages: pages of open, tracked developing stories are watched)")
    return EXIT_OK


def cmd_inspect(args: argparse.Namespace) -> int:
    from monitor.service.inspect import inspect_page

    config = load(args) if config_path(args).exists() else _defaults()
    seen = inspect_page(config, args.url)  # a FetchError becomes cli's message and exit code
    if args.json:
        print_json(seen.as_dict())
        return EXIT_OK
    fetched, view = seen.fetched, seen.view
    print(f"url:        {safe(fetched.url)}  (HTTP {fetched.status}, {len(fetched.body):,} bytes)")
    print(f"canonical:  {safe(view.canonical or '-')}")
    print(f"title:      {safe(view.title or '-')}")
    print(f"developing: {', '.join(seen.markers) or 'no markers'}")
    print(f"live posts: {len(view.live_posts)}")
    for post in view.live_posts[:20]:
        print(f"  [{safe(post.time or '?')}] {safe(post.text[:200])}")
    print("\nmain text:" if view.text else "\nmain text: (nothing extractable)")
    for para in (view.text or "").splitlines():
        print(f"  {safe(para)}")
    return EXIT_OK


def _defaults() -> Config:
    """Without a config file, inspect runs with the built-in settings."""
    return parse_config({"monitor": {"database": "sqlite:///:memory:"}}, base=Path.cwd())
