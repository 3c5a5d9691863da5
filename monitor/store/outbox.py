"""The delivery side of the outbox: claim due deliveries under a lease, record each attempt's outcome.

At-least-once by construction: a delivery is marked delivered only after the receiver said 2xx, so a crash
between the POST and the mark sends it again, with the same event id (receivers de-duplicate by id). The
lease keeps two instances (or two overlapping runs) from sending the same row at the same time.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, exists, func, or_, select, update

from monitor.core.states import DeliveryStatus
from monitor.store.db import Database
from monitor.store.records import DeliveryRecord
from monitor.store.schema import deliveries, events, webhook_state

_COLUMNS = (
    deliveries.c.id,
    deliveries.c.event_id,
    deliveries.c.webhook,
    deliveries.c.status,
    deliveries.c.attempts,
    deliveries.c.next_attempt_at,
    deliveries.c.last_error,
    deliveries.c.last_status,
    deliveries.c.delivered_at,
    events.c.type,
    events.c.story_id,
    events.c.created_at,
    events.c.payload,
)


def claim_due(
    db: Database, now: datetime, owner: str, lease: float, limit: int = 100, *, exclude: tuple[str, ...] = ()
) -> list[DeliveryRecord]:
    """Lease pending deliveries that are due, oldest event first (so a story's events go out in order).
    ``exclude``: receivers not to claim for now (this instance is still waiting on them)."""
    free = or_(deliveries.c.lease_until.is_(None), deliveries.c.lease_until < now)
    due = and_(deliveries.c.status == DeliveryStatus.PENDING, deliveries.c.next_attempt_at <= now, free)
    # Per-story order: never hand out an event while an earlier event of the same story is pending for
    # the same receiver and cannot go out in this same batch (it waits for a retry, or another instance
    # holds it). Earlier events that are due come first in the batch (ORDER BY below), and the deliverer
    # sends one story's events to one receiver one after the other.
    earlier_d, earlier_e = deliveries.alias("earlier_d"), events.alias("earlier_e")
    blocked = exists().where(
        earlier_d.c.webhook == deliveries.c.webhook,
        earlier_d.c.status == DeliveryStatus.PENDING,  # (held alerts of a feed anomaly do not stall later real ones)
        earlier_e.c.id == earlier_d.c.event_id,
        earlier_e.c.story_id == events.c.story_id,
        earlier_e.c.story_seq < events.c.story_seq,
        or_(earlier_d.c.next_attempt_at > now, earlier_d.c.lease_until >= now),
    )
    disabled = select(webhook_state.c.name).where(webhook_state.c.disabled_at.is_not(None))
    due = and_(due, ~blocked, deliveries.c.webhook.not_in(disabled))
    if exclude:
        due = and_(due, deliveries.c.webhook.not_in(exclude))
    with db.write() as conn:
        query = (
            select(*_COLUMNS)
            .join(events, events.c.id == deliveries.c.event_id)
            .where(due)
            .order_by(events.c.created_at, events.c.story_seq, deliveries.c.id)
            .limit(limit)
        )
        rows = conn.execute(query.with_for_update(of=deliveries, skip_locked=True)).fetchall()
        if rows:
            conn.execute(
                update(deliveries)
                .where(deliveries.c.id.in_([r.id for r in rows]))
                .values(lease_owner=owner, lease_until=now + timedelta(seconds=lease))
            )
    return [DeliveryRecord.from_row(r) for r in rows]


def _finish_on(conn: Connection, delivery_id: int, owner: str, **values: Any) -> None:
    """Store an attempt's outcome and release the lease, only if ``owner`` still holds it."""
    conn.execute(
        update(deliveries)
        .where(deliveries.c.id == delivery_id, deliveries.c.lease_owner == owner)
        .values(lease_owner=None, lease_until=None, **values)
    )


def _finish(db: Database, delivery_id: int, owner: str, **values: Any) -> None:
    with db.write() as conn:
        _finish_on(conn, delivery_id, owner, **values)


def mark_delivered(db: Database, delivery_id: int, owner: str, now: datetime, status: int | None) -> None:
    mark_delivered_many(db, owner, [(delivery_id, now, status)])


def mark_delivered_many(db: Database, owner: str, delivered: list[tuple[int, datetime, int | None]]) -> list[None]:
    """``mark_delivered`` for several deliveries (id, now, status) in one transaction, in id order (two
    instances lock shared rows in one order). Each as if marked alone."""
    with db.write() as conn:
        for delivery_id, now, status in sorted(delivered, key=lambda d: d[0]):
            _finish_on(
                conn,
                delivery_id,
                owner,
                status=DeliveryStatus.DELIVERED,
                delivered_at=now,
                last_status=status,
                last_error=None,
                attempts=deliveries.c.attempts + 1,
            )
    return [None] * len(delivered)


def mark_failed(
    db: Database,
    delivery_id: int,
    owner: str,
    *,
    error: str,
    status: int | None,
    retry_at: datetime | None,
    attempted: bool = True,
) -> None:
    """A failed attempt: retry at ``retry_at``, or dead-letter it when ``retry_at`` is None. ``attempted``
    False: it was not sent at all (held behind an earlier event), so its attempt count stays."""
    values: dict[str, Any] = {"last_error": error[:2000], "last_status": status}
    if attempted:
        values["attempts"] = deliveries.c.attempts + 1
    if retry_at is None:
        values["status"] = DeliveryStatus.DEAD
    else:
        values["next_attempt_at"] = retry_at
    _finish(db, delivery_id, owner, **values)


def release(db: Database, owner: str) -> None:
    """Give back every delivery lease ``owner`` holds (graceful shutdown)."""
    with db.write() as conn:
        conn.execute(
            update(deliveries).where(deliveries.c.lease_owner == owner).values(lease_owner=None, lease_until=None)
        )


def lease_owners(db: Database) -> list[str]:
    """Every instance that holds a delivery lease (expired or not)."""
    with db.read() as conn:
        query = select(deliveries.c.lease_owner).where(deliveries.c.lease_owner.is_not(None)).distinct()
        return sorted(str(r[0]) for r in conn.execute(query))


def list_deliveries(db: Database, statuses: tuple[str, ...], limit: int = 200) -> list[DeliveryRecord]:
    query = (
        select(*_COLUMNS)
        .join(events, events.c.id == deliveries.c.event_id)
        .where(deliveries.c.status.in_(statuses))
        .order_by(deliveries.c.id)
        .limit(limit)
    )
    with db.read() as conn:
        return [DeliveryRecord.from_row(r) for r in conn.execute(query)]


def waiting_retry(db: Database) -> int:
    """Deliveries still pending after at least one failed attempt (counted, however many there are)."""
    query = select(func.count()).where(deliveries.c.status == DeliveryStatus.PENDING, deliveries.c.attempts > 0)
    with db.read() as conn:
        return int(conn.execute(query).scalar_one())


def summary(db: Database, now: datetime) -> dict[str, Any]:
    """Counts by status and the age of the oldest pending delivery (seconds)."""
    with db.read() as conn:
        by_status: dict[str, int] = dict(
            conn.execute(select(deliveries.c.status, func.count()).group_by(deliveries.c.status)).all()
        )
        oldest = conn.execute(
            select(func.min(events.c.created_at))
            .join(deliveries, events.c.id == deliveries.c.event_id)
            .where(deliveries.c.status == DeliveryStatus.PENDING)
        ).scalar_one_or_none()
    if isinstance(oldest, datetime) and oldest.tzinfo is None:
        from datetime import UTC

        oldest = oldest.replace(tzinfo=UTC)
    age = (now - oldest).total_seconds() if isinstance(oldest, datetime) else 0.0
    return {"by_status": {k: int(v) for k, v in by_status.items()}, "oldest_pending_age_s": age}


def retry(
    db: Database, now: datetime, *, delivery_id: int | None = None, dead: bool = False, held: bool = False
) -> int:
    """Make deliveries due now: one by id (if undelivered), every dead one, or every held one (released
    after a feed anomaly); returns how many rows changed."""
    cond: ColumnElement[bool]
    if dead or held:
        which = ((DeliveryStatus.DEAD, dead), (DeliveryStatus.HELD, held))
        cond = deliveries.c.status.in_([s for s, on in which if on])
    else:
        cond = and_(deliveries.c.id == delivery_id, deliveries.c.status != DeliveryStatus.DELIVERED)
    with db.write() as conn:
        result = conn.execute(update(deliveries).where(cond).values(status=DeliveryStatus.PENDING, next_attempt_at=now))
    return int(result.rowcount)


def replay(db: Database, now: datetime, since: datetime) -> int:
    """Send already delivered events again (same ids) for events created since ``since``."""
    with db.write() as conn:
        ids = select(events.c.id).where(events.c.created_at >= since).scalar_subquery()
        result = conn.execute(
            update(deliveries)
            .where(deliveries.c.status == DeliveryStatus.DELIVERED, deliveries.c.event_id.in_(ids))
            .values(status=DeliveryStatus.PENDING, next_attempt_at=now)
        )
    return int(result.rowcount)


def disable_webhook(db: Database, name: str, now: datetime, reason: str) -> None:
    """Stop sending to ``name`` (its deliveries stay pending) until ``enable_webhook``."""
    with db.write() as conn:
        changed = conn.execute(
            update(webhook_state).where(webhook_state.c.name == name).values(disabled_at=now, reason=reason)
        ).rowcount
        if not changed:
            conn.execute(webhook_state.insert().values(name=name, disabled_at=now, reason=reason))


def enable_webhook(db: Database, name: str) -> bool:
    with db.write() as conn:
        changed = conn.execute(
            update(webhook_state)
            .where(webhook_state.c.name == name, webhook_state.c.disabled_at.is_not(None))
            .values(disabled_at=None, reason=None)
        ).rowcount
    return bool(changed)


def disabled_webhooks(db: Database) -> dict[str, str]:
    """Disabled receivers and why."""
    with db.read() as conn:
        rows = conn.execute(select(webhook_state).where(webhook_state.c.disabled_at.is_not(None))).all()
    return {r.name: r.reason or "" for r in rows}
