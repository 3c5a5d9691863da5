"""``status``: the service at a glance (database, stories, events, outbox, failing feeds)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from monitor.cli.common import EXIT_OK, EXIT_STORE, Add, load, print_json
from monitor.render import table


def register(add: Add) -> None:
    add("status", cmd_status, "the service at a glance: database, stories, events, outbox depth, failing feeds")


def cmd_status(args: argparse.Namespace) -> int:
    from monitor.service.queries import open_database
    from monitor.service.status import status

    config = load(args)
    data = status(open_database(config), datetime.now(UTC))
    if args.json:
        print_json(data)
    else:
        _print_status(data)
    return EXIT_OK if data["database"]["reachable"] else EXIT_STORE


def _print_status(data: dict[str, Any]) -> None:
    db = data["database"]
    print(f"database   {db['url']}: {'reachable' if db['reachable'] else 'UNREACHABLE: ' + db.get('error', '')}")
    if not db["reachable"]:
        return
    c, o, f = data["counts"], data["outbox"], data["feeds"]
    by = ", ".join(f"{k} {v}" for k, v in sorted(c["stories_by_status"].items())) or "-"
    print(f"stories    {c['stories']} ({c['tracked_stories']} tracked; {by}), articles {c['articles']}")
    print(
        f"events     {c['events']}: " + (", ".join(f"{k} {v}" for k, v in sorted(c["events_by_type"].items())) or "-")
    )
    print(
        f"outbox     {o['pending']} pending (oldest {o['oldest_pending_age_s']:.0f}s); "
        + ", ".join(f"{k} {v}" for k, v in sorted(o["by_status"].items()))
    )
    print(
        "feeds      "
        + (", ".join(f"{k} {v}" for k, v in sorted(f["by_status"].items())) or "-")
        + f"; last poll {data['last_poll'] or 'never'}"
    )
    if f["failing"]:
        rows = [(x.get("name"), x.get("failures"), x.get("last_error")) for x in f["failing"]]
        print(table(("failing feed", "failures", "last error"), rows))
