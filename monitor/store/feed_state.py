"""Feeds and their polling state: sync with the config, claim due feeds under a lease, record outcomes.

A claimed feed carries a lease (``lease_owner``, ``lease_until``): another instance skips it until the lease
expires, so a feed is polled by one instance at a time, and an instance that dies mid-poll is taken over
once its lease runs out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Unpack

from sqlalchemy import and_, insert, or_, select, update

from monitor.core.states import FeedStatus, StoryStatus
from monitor.store.db import LOCK_FEED_SYNC, Database
from monitor.store.records import FeedState
from monitor.store.schema import feeds, stories
from monitor.store.values import FeedValues


@dataclass(frozen=True)
class ClaimedFeed(FeedState):
    """A feed claimed for polling, plus the state only the poller reads (its adaptive interval)."""

    developing_until: datetime | None = None


def sync_feeds(db: Database, configured: Iterable[tuple[str, str, float]], now: datetime) -> None:
    """Make the feeds table match the config (name, url, interval) without losing any polling state.

    New feeds are due now; removed feeds are deactivated (their state kept, should they come back); a
    feed whose URL changed starts afresh (validators belong to the old URL).
    """
    wanted = {name: (url, int(interval)) for name, url, interval in configured}
    # Instances started together would each insert a new feed (a primary-key violation for all but one):
    # on PostgreSQL they take turns; SQLite's BEGIN IMMEDIATE does the same already.
    with db.write(lock=LOCK_FEED_SYNC) as conn:
        existing = {r.name: r for r in conn.execute(select(feeds.c.name, feeds.c.url, feeds.c.active))}
        for name, (url, interval) in wanted.items():
            row = existing.get(name)
            if row is None:
                conn.execute(insert(feeds).values(
                    name=name, url=url, interval_s=interval, active=True, status=FeedStatus.NEW, failures=0,
                    next_poll_at=now, items_seen=0, articles_total=0,
                ))  # fmt: skip
                continue
            values: FeedValues = {"interval_s": interval, "active": True}
            if row.url != url:
                values |= {
                    "url": url,
                    "etag": None,
                    "last_modified": None,
                    "body_hash": None,
                    "next_poll_at": now,
                }
            conn.execute(update(feeds).where(feeds.c.name == name).values(**values))
        gone = [n for n, r in existing.items() if n not in wanted and r.active]
        if gone:
            conn.execute(update(feeds).where(feeds.c.name.in_(gone)).values(active=False))


def claim_due_feeds(
    db: Database, now: datetime, owner: str, lease: float, limit: int = 500, *, every_feed: bool = False
) -> list[ClaimedFeed]:
    """Lease up to ``limit`` active feeds whose poll is due (``every_feed``: due or not) and that no live
    lease holds."""
    free = or_(feeds.c.lease_until.is_(None), feeds.c.lease_until < now)
    due = and_(feeds.c.active.is_(True), free)
    if not every_feed:
        due = and_(due, feeds.c.next_poll_at <= now)
    with db.write() as conn:
        query = select(feeds).where(due).order_by(feeds.c.next_poll_at).limit(limit)
        rows = conn.execute(query.with_for_update(skip_locked=True)).fetchall()
        if not rows:
            return []
        names = [r.name for r in rows]
        conn.execute(
            update(feeds)
            .where(feeds.c.name.in_(names))
            .values(lease_owner=owner, lease_until=now + timedelta(seconds=lease))
        )
    return [ClaimedFeed.from_row(r) for r in rows]


def mark_fetching(db: Database, name: str, owner: str, now: datetime, interval: float, lease: float) -> bool:
    """Just before a fetch, the fence: renew the lease and say whether this instance still holds it.

    A claimed feed can wait behind its host's limit (or a starved CPU) past its lease; by then another
    instance may have claimed and polled it, and fetching anyway would poll it twice within an interval.
    The owner check and the renewal are one UPDATE, so exactly one instance gets ``True``. Should this
    instance die before recording the poll, the feed is taken over once the lease expires but not before
    one interval after this fetch. A normal ``record_poll`` overwrites both."""
    return mark_fetching_many(db, owner, [(name, now, interval, lease)])[0]


def mark_fetching_many(db: Database, owner: str, fetches: list[tuple[str, datetime, float, float]]) -> list[bool]:
    """``mark_fetching`` for several feeds (name, now, interval, lease) in one transaction: the polls that
    reach their fetch together pay for one BEGIN/COMMIT, not one each. Same answers, same order.

    Rows are updated in name order: two instances' batches then lock shared rows in one order and cannot
    deadlock on PostgreSQL (a lost lease is exactly when two instances touch one feed)."""
    held: dict[int, bool] = {}
    with db.write() as conn:
        for k in sorted(range(len(fetches)), key=lambda k: fetches[k][0]):
            name, now, interval, lease = fetches[k]
            result = conn.execute(
                update(feeds)
                .where(feeds.c.name == name, feeds.c.lease_owner == owner)
                .values(next_poll_at=now + timedelta(seconds=interval), lease_until=now + timedelta(seconds=lease))
            )
            held[k] = result.rowcount == 1
    return [held[k] for k in range(len(fetches))]


def record_polls(db: Database, owner: str, outcomes: list[tuple[str, FeedValues]]) -> list[None]:
    """``record_poll`` for several feeds (name, values) in one transaction; each as if recorded alone (in
    name order, as ``mark_fetching_many``)."""
    with db.write() as conn:
        for name, values in sorted(outcomes, key=lambda o: o[0]):
            conn.execute(
                update(feeds)
                .where(feeds.c.name == name, or_(feeds.c.lease_owner == owner, feeds.c.lease_owner.is_(None)))
                .values(lease_owner=None, lease_until=None, **values)
            )
    return [None] * len(outcomes)


def developing_stories(db: Database, story_ids: Iterable[str]) -> set[str]:
    """Which of ``story_ids`` are open, tracked developing stories (they make their feeds poll faster)."""
    ids = sorted(set(story_ids))
    if not ids:
        return set()
    query = select(stories.c.id).where(
        stories.c.id.in_(ids),
        stories.c.tracked.is_(True),
        stories.c.developing.is_(True),
        stories.c.status == StoryStatus.OPEN,
    )
    with db.read() as conn:
        return {r.id for r in conn.execute(query)}


def record_poll(db: Database, name: str, owner: str, **values: Unpack[FeedValues]) -> None:
    """Store a poll's outcome and release the lease (only if we still hold it)."""
    record_polls(db, owner, [(name, values)])


def release_leases(db: Database, owner: str) -> None:
    """Give back every feed lease ``owner`` holds (on shutdown), so others need not wait for expiry."""
    with db.write() as conn:
        conn.execute(update(feeds).where(feeds.c.lease_owner == owner).values(lease_owner=None, lease_until=None))


def feed_states(db: Database, *, active_only: bool = False) -> list[FeedState]:
    query = select(feeds).order_by(feeds.c.name)
    if active_only:
        query = query.where(feeds.c.active.is_(True))
    with db.read() as conn:
        return [FeedState.from_row(r) for r in conn.execute(query)]


def get_feed(db: Database, name: str) -> FeedState | None:
    with db.read() as conn:
        row = conn.execute(select(feeds).where(feeds.c.name == name)).first()
    return FeedState.from_row(row) if row else None
