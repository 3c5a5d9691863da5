"""Watched pages: which pages of which stories are re-checked, their validators and schedule, and leases.

The pattern is the feeds' (``store.feed_state``): due pages are claimed under a lease (``lease_owner``,
``lease_until``) with SKIP LOCKED, so several instances share them; just before the fetch a fence renews the
lease *and* moves ``next_check_at`` one interval on, in one UPDATE that only the lease holder can make, so a
page whose lease ran out while it waited is never fetched by two instances within its interval; a killed
instance's pages come back once its leases expire.

Only pages of open, tracked, developing stories are claimed: a story that goes quiet or closes stops its
page checks without touching their rows (they are shown by ``news-monitor pages`` as idle).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from monitor.core.states import DeliveryStatus, EventType, PageStatus, StoryStatus
from monitor.store.db import Database
from monitor.store.records import _FromRow
from monitor.store.schema import articles, deliveries, events, stories, versions, watched_pages
from monitor.store.stories import IngestTx
from monitor.store.values import PageValues

LOCK_PAGE_SYNC = 0x6E6D_0011  # advisory lock: one instance at a time adds new pages to watch


@dataclass(frozen=True)
class PageState(_FromRow):
    id: int
    story_id: str
    url: str
    final_url: str | None
    outlet: str | None
    status: str
    interval_s: int
    next_check_at: datetime
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    content_hash: str | None
    paragraphs: list[str]
    posts: list[str]
    first_seen_at: datetime
    last_checked_at: datetime | None
    last_change_at: datetime | None
    checks: int
    changes: int
    failures: int
    last_status: int | None
    last_error: str | None
    lease_owner: str | None = None
    lease_until: datetime | None = None
    story_title: str | None = None  # joined from stories where the caller asks for it
    story_status: str | None = None


def _live_story() -> Any:
    return and_(
        stories.c.id == watched_pages.c.story_id,
        stories.c.status == StoryStatus.OPEN,
        stories.c.tracked.is_(True),
        stories.c.developing.is_(True),
    )


def sync_watched(db: Database, now: datetime, first_after: float) -> int:
    """Start watching every article URL of an open, tracked, developing story not watched yet; the first
    check is ``first_after`` seconds after the page was first seen. Returns how many pages were added."""
    watched = exists().where(watched_pages.c.story_id == articles.c.story_id, watched_pages.c.url == articles.c.url)
    query = (
        select(articles.c.story_id, articles.c.url, func.min(articles.c.fetched_at).label("seen"),
               func.max(articles.c.outlet).label("outlet"))
        .join(versions, versions.c.article_id == articles.c.id)
        .join(stories, stories.c.id == articles.c.story_id)
        .where(stories.c.status == StoryStatus.OPEN, stories.c.tracked.is_(True), stories.c.developing.is_(True))
        .where(articles.c.url.is_not(None), ~watched)
        .group_by(articles.c.story_id, articles.c.url)
    )  # fmt: skip
    with db.read() as conn:
        if not conn.execute(query.limit(1)).first():
            return 0  # the common case, without the write lock
    with db.write(lock=LOCK_PAGE_SYNC) as conn:
        rows = [r for r in conn.execute(query) if str(r.url).startswith(("http://", "https://"))]
        for r in rows:
            seen = r.seen if r.seen is not None else now
            _insert(conn, r.story_id, r.url, r.outlet, now, seen + timedelta(seconds=first_after))
    return len(rows)


def _insert(conn: Any, story_id: str, url: str, outlet: str | None, now: datetime, due: datetime) -> None:
    conn.execute(insert(watched_pages).values(
        story_id=story_id, url=url, outlet=outlet, status=PageStatus.WATCHING, interval_s=0, next_check_at=due,
        paragraphs=[], posts=[], first_seen_at=now, checks=0, changes=0, failures=0,
    ))  # fmt: skip


def add_page(db: Database, story_id: str, url: str, outlet: str | None, now: datetime, due: datetime) -> bool:
    """Watch one more URL of a story (a page's canonical URL); False if it is watched already."""
    try:
        with db.write(lock=LOCK_PAGE_SYNC) as conn:
            found = conn.execute(
                select(watched_pages.c.id).where(watched_pages.c.story_id == story_id, watched_pages.c.url == url)
            ).first()
            if found is not None:
                return False
            _insert(conn, story_id, url, outlet, now, due)
    except IntegrityError:  # another instance added it between our read and insert (SQLite has no lock id)
        return False
    return True


def claim_due_pages(db: Database, now: datetime, owner: str, lease: float, limit: int = 100) -> list[PageState]:
    """Lease up to ``limit`` due pages of live stories that no live lease holds."""
    free = or_(watched_pages.c.lease_until.is_(None), watched_pages.c.lease_until < now)
    query = (
        select(watched_pages, stories.c.title.label("story_title"), stories.c.status.label("story_status"))
        .join(stories, _live_story())
        .where(watched_pages.c.status == PageStatus.WATCHING, watched_pages.c.next_check_at <= now, free)
        .order_by(watched_pages.c.next_check_at)
        .limit(limit)
    )
    with db.write() as conn:
        rows = conn.execute(query.with_for_update(skip_locked=True, of=watched_pages)).fetchall()
        if not rows:
            return []
        conn.execute(
            update(watched_pages)
            .where(watched_pages.c.id.in_([r.id for r in rows]))
            .values(lease_owner=owner, lease_until=now + timedelta(seconds=lease))
        )
    return [PageState.from_row(r) for r in rows]


def mark_checking_many(db: Database, owner: str, fences: Sequence[tuple[int, datetime, float, float]]) -> list[bool]:
    """The fence before each fetch (page id, now, interval, lease): renew the lease and move the next check
    one interval on, only if this instance still holds the lease. In id order, so two instances' batches
    lock shared rows in one order. Returns, per fence, whether to fetch."""
    held: dict[int, bool] = {}
    with db.write() as conn:
        for k in sorted(range(len(fences)), key=lambda k: fences[k][0]):
            page_id, now, interval, lease = fences[k]
            result = conn.execute(
                update(watched_pages)
                .where(watched_pages.c.id == page_id, watched_pages.c.lease_owner == owner)
                .values(next_check_at=now + timedelta(seconds=interval), lease_until=now + timedelta(seconds=lease))
            )
            held[k] = result.rowcount == 1
    return [held[k] for k in range(len(fences))]


def record_checks(db: Database, owner: str, outcomes: Sequence[tuple[int, PageValues]]) -> list[None]:
    """Store checks' outcomes (page id, values) and release their leases (only where still ours)."""
    with db.write() as conn:
        for page_id, values in sorted(outcomes, key=lambda o: o[0]):
            conn.execute(
                update(watched_pages)
                .where(
                    watched_pages.c.id == page_id,
                    or_(watched_pages.c.lease_owner == owner, watched_pages.c.lease_owner.is_(None)),
                )
                .values(lease_owner=None, lease_until=None, **values)
            )
    return [None] * len(outcomes)


def release_leases(db: Database, owner: str) -> None:
    with db.write() as conn:
        conn.execute(
            update(watched_pages).where(watched_pages.c.lease_owner == owner).values(lease_owner=None, lease_until=None)
        )


def list_pages(db: Database, story_id: str | None = None, limit: int = 10_000) -> list[PageState]:
    """Watched pages with their story's title and status, soonest check first."""
    query = (
        select(watched_pages, stories.c.title.label("story_title"), stories.c.status.label("story_status"))
        .join(stories, stories.c.id == watched_pages.c.story_id)
        .order_by(watched_pages.c.next_check_at, watched_pages.c.id)
        .limit(limit)
    )
    if story_id is not None:
        query = query.where(watched_pages.c.story_id == story_id)
    with db.read() as conn:
        return [PageState.from_row(r) for r in conn.execute(query)]


def send_opened_now(db: Database, story_ids: Sequence[str], now: datetime) -> int:
    """A deferred ``story.opened`` whose page fetch is over goes out now (not at the end of its deferral)."""
    if not story_ids:
        return 0
    story_opened = events.c.type == EventType.STORY_OPENED
    opened = select(events.c.id).where(events.c.story_id.in_(sorted(set(story_ids))), story_opened)
    with db.write() as conn:
        return conn.execute(
            update(deliveries)
            .where(
                deliveries.c.event_id.in_(opened),
                deliveries.c.status == DeliveryStatus.PENDING,
                deliveries.c.attempts == 0,
                deliveries.c.next_attempt_at > now,
            )
            .values(next_attempt_at=now)
        ).rowcount


def end_watch(tx: IngestTx, page: PageState, status: PageStatus, values: PageValues) -> bool:
    """Inside an ingest transaction: end a page's watch (``gone`` or ``failed``) with its last check's
    ``values``. Only the first instance to end it gets True (and writes ``story.page_gone``: no storms)."""
    ended = tx.conn.execute(
        update(watched_pages)
        .where(watched_pages.c.id == page.id, watched_pages.c.status == PageStatus.WATCHING)
        .values(status=status, lease_owner=None, lease_until=None, **values)
    ).rowcount
    return bool(ended)
