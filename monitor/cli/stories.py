"""``stories`` and ``stories show ID``: tracked developing stories, and one story's versions."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from monitor.cli.common import EXIT_NOT_FOUND, EXIT_OK, Add, load, print_json
from monitor.cli.output import page_rows, print_story_pages
from monitor.render import ago, table

if TYPE_CHECKING:  # the service layer (and SQLAlchemy) load with the command that needs them
    from monitor.service.queries import StoryDetail, VersionRecord


def register(add: Add) -> None:
    p = add("stories", cmd_stories, "list stories (tracked developing stories by default), or show one")
    p.add_argument("action", nargs="?", choices=("list", "show"), default="list")
    p.add_argument("id", nargs="?", help="story id (or a unique prefix) for 'show'")
    p.add_argument("--all", action="store_true", help="every story, not only tracked ones")
    p.add_argument("--limit", type=int, default=50, help="at most this many stories (default 50)")


def cmd_stories(args: argparse.Namespace) -> int:
    from monitor.service import queries

    db = queries.open_database(load(args))
    if args.action == "show":
        return _story_show(args, queries.story_detail(db, args.id))
    recs = queries.stories(db, tracked_only=not args.all, limit=args.limit)
    if args.json:
        print_json([r.__dict__ for r in recs])
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


def _story_show(args: argparse.Namespace, detail: StoryDetail | None) -> int:
    if detail is None:
        print(f"news-monitor: no story {args.id!r}", file=sys.stderr)
        return EXIT_NOT_FOUND
    if args.json:
        print_json(_story_json(detail))
        return EXIT_OK
    story = detail.story
    print(f"{story.id}  {story.title}")
    print(
        f"  status {story.status}, developing={story.developing} {story.markers}, tracked={story.tracked}, "
        f"watchlists={[w['name'] for w in story.watchlists]}"
    )
    for v in detail.versions:
        _print_version(v)
    print_story_pages(detail.pages)
    return EXIT_OK


def _story_json(detail: StoryDetail) -> dict[str, Any]:
    return {
        "story": detail.story.__dict__,
        "versions": [
            {
                **{k: v for k, v in vr.__dict__.items() if k != "article"},
                "article": {k: v for k, v in vr.article.__dict__.items() if k != "text"},
            }
            for vr in detail.versions
        ],
        "pages": page_rows(detail.pages),
    }


def _print_version(v: VersionRecord) -> None:
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


def _why(match: dict[str, Any]) -> str:
    if not match:
        return "first version"
    parts = [f"{k}={v}" for k, v in match.items() if not isinstance(v, list | dict)]
    parts += [f"{k}={', '.join(map(str, v[:6]))}" for k, v in match.items() if isinstance(v, list) and v]
    return "; ".join(parts)
