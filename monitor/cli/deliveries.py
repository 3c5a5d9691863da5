"""``deliveries``: the webhook outbox; ``retry``, ``replay`` and ``enable`` act on it."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from monitor.cli.common import EXIT_NOT_FOUND, EXIT_OK, EXIT_USAGE, Add, load, print_json
from monitor.config import parse_duration
from monitor.errors import MonitorError
from monitor.render import ago, table

if TYPE_CHECKING:  # the service layer (and SQLAlchemy) load with the command
    from monitor.service.queries import Database, DeliveryListing


def register(add: Add) -> None:
    p = add("deliveries", cmd_deliveries, "webhook deliveries: list pending/dead, retry, replay")
    p.add_argument("action", nargs="?", choices=("list", "retry", "replay", "enable"), default="list")
    p.add_argument("id", nargs="?", help="delivery id for 'retry'; webhook name for 'enable'")
    p.add_argument("--dead", action="store_true", help="with 'retry': every dead-lettered delivery")
    p.add_argument("--held", action="store_true", help="with 'retry': every delivery held by a feed anomaly")
    p.add_argument("--since", default="24h", help="with 'replay': a duration ('2h') or ISO time (default 24h)")
    p.add_argument("--all", action="store_true", help="with 'list': include delivered ones")


def cmd_deliveries(args: argparse.Namespace) -> int:
    from monitor.service import queries

    db = queries.open_database(load(args))
    now = datetime.now(UTC)
    if args.action == "retry":
        return _retry(args, db, now)
    if args.action == "enable":
        return _enable(args, db)
    if args.action == "replay":
        n = queries.replay_deliveries(db, now, _since(args.since, now))
        print(f"{n} delivered event(s) queued to be sent again (same ids)")
        return EXIT_OK
    return _list(args, queries.deliveries(db, now, include_delivered=args.all), now)


def _retry(args: argparse.Namespace, db: Database, now: datetime) -> int:
    if not args.dead and not args.held and args.id is None:
        print("news-monitor: deliveries retry needs an ID, --dead or --held", file=sys.stderr)
        return EXIT_USAGE
    if args.id is not None and not str(args.id).isdigit():
        print(f"news-monitor: delivery ID must be a number, got {args.id!r}", file=sys.stderr)
        return EXIT_USAGE
    from monitor.service import queries

    delivery_id = int(args.id) if args.id else None
    n = queries.retry_deliveries(db, now, delivery_id=delivery_id, dead=args.dead, held=args.held)
    print(f"{n} delivery(ies) queued again")
    return EXIT_OK if n else EXIT_NOT_FOUND


def _enable(args: argparse.Namespace, db: Database) -> int:
    if not args.id:
        print("news-monitor: deliveries enable needs a webhook NAME", file=sys.stderr)
        return EXIT_USAGE
    from monitor.service import queries

    if not queries.enable_webhook(db, str(args.id)):
        print(f"news-monitor: webhook {args.id!r} is not disabled", file=sys.stderr)
        return EXIT_NOT_FOUND
    print(f"webhook {args.id!r} enabled again; its pending deliveries resume")
    return EXIT_OK


def _list(args: argparse.Namespace, listing: DeliveryListing, now: datetime) -> int:
    if args.json:
        print_json(
            {
                "summary": listing.summary,
                "disabled_webhooks": listing.disabled_webhooks,
                "deliveries": [r.__dict__ for r in listing.deliveries],
            }
        )
        return EXIT_OK
    rows = [
        (
            r.id,
            r.status if r.status != "pending" or not r.attempts else "retrying",
            r.webhook,
            r.type,
            r.attempts,
            ago(r.next_attempt_at, now) if r.status == "pending" else "-",
            r.event_id,
            r.last_error or "",
        )
        for r in listing.deliveries
    ]
    print(table(("id", "status", "webhook", "event", "tries", "next", "event id", "last error"), rows))
    counts = listing.summary["by_status"]
    print(", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "(outbox empty)")
    for name, reason in listing.disabled_webhooks.items():
        print(f"webhook {name!r} is DISABLED ({reason}); re-enable: news-monitor deliveries enable {name}")
    return EXIT_OK


def _since(text: str, now: datetime) -> datetime:
    try:
        return now - timedelta(seconds=parse_duration(text))
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(text)
    except ValueError as e:
        raise MonitorError(f"--since: expected a duration like '2h' or an ISO time, got {text!r}") from e
    return when if when.tzinfo else when.replace(tzinfo=UTC)
