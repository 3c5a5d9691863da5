"""Articles, stories and versions: the ingest transaction and the read side.

``ingest_transaction`` is the one place story decisions are written: it takes the ingest lock (an advisory
lock on PostgreSQL, the write lock on SQLite), so two instances deciding about the same story run one after
the other and never create a duplicate story or a duplicate version number. The story change and its outbox
events commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Unpack

from sqlalchemy import Connection, String, bindparam, func, insert, literal, select, union_all, update

from monitor.core.decide import NewEvent, Pending
from monitor.core.model import Article
from monitor.core.states import DeliveryStatus, EventType
from monitor.store.db import Database
from monitor.store.records import ArticleRecord, StoryRecord, VersionRecord
from monitor.store.schema import articles, deliveries, events, stories, story_sentences, versions
from monitor.store.values import StoryValues, VersionValues


# The statements every ingest runs, built once: building and hashing a statement per call was a good part of
# each article's CPU; the values go in as parameters.
def _earlier_one(kind: str, *where: Any, oldest: bool = False) -> Any:
    order = articles.c.id if oldest else articles.c.id.desc()
    tag = literal(kind, String).label("kind")
    return select(select(tag, *articles.c).where(*where).order_by(order).limit(1).subquery())


# The four lookups a new article needs before any story is chosen, in one statement: most articles of a poll
# are new, and each round trip through SQLAlchemy costs more than the index lookups SQLite runs for it.
_EARLIER = union_all(
    _earlier_one("item", articles.c.source == bindparam("source"), articles.c.guid == bindparam("guid")),
    _earlier_one("elsewhere", articles.c.source == bindparam("source"), articles.c.content_hash == bindparam("hash")),
    _earlier_one("url", articles.c.url == bindparam("url")),
    _earlier_one("content", articles.c.content_hash == bindparam("hash"), oldest=True),
)
_LOCK_STORY = select(stories).where(stories.c.id == bindparam("story")).with_for_update()
_INSERT_STORY = insert(stories)
_UPDATE_STORY = update(stories).where(stories.c.id == bindparam("story"))
_INSERT_ARTICLE = insert(articles)
_INSERT_VERSION = insert(versions)
_INSERT_SENTENCES = insert(story_sentences)
# ...and those of a tracked story's versions (its events): an insert built per call cost ~100 us each.
_INSERT_EVENT = insert(events)
_INSERT_DELIVERIES = insert(deliveries)
_UPDATE_EVENT = update(events).where(events.c.id == bindparam("event"))
_UNSENT_UPDATE = (
    select(events.c.id, events.c.payload)
    .where(
        events.c.story_id == bindparam("story"),
        events.c.type == EventType.STORY_UPDATED,
        events.c.created_at >= bindparam("since"),
    )
    .order_by(events.c.story_seq.desc())
    .limit(1)
)
_UNSENT_OPENED = select(events.c.id, events.c.payload).where(
    events.c.story_id == bindparam("story"), events.c.type == EventType.STORY_OPENED
)
_DELIVERIES_OF = select(
    deliveries.c.webhook, deliveries.c.status, deliveries.c.attempts, deliveries.c.lease_owner
).where(deliveries.c.event_id == bindparam("event"))
# ...and the catch-up of the match index: twice per ingest call (once outside the lock, once under it), and
# most often it finds nothing new.
_ARTICLES_AFTER = select(articles).where(articles.c.id > bindparam("after")).order_by(articles.c.id)
_ARTICLES_AFTER_SINCE = _ARTICLES_AFTER.where(articles.c.fetched_at >= bindparam("since"))


@dataclass(frozen=True)
class Earlier:
    """What is stored already of an article arriving: the newest version of the same item (source + GUID),
    the newest of the same source with the same content (a regenerated GUID), the newest with the same URL,
    and the oldest with the same content, from any source."""

    item: ArticleRecord | None
    elsewhere: ArticleRecord | None
    url: ArticleRecord | None
    content: ArticleRecord | None


class IngestTx:
    """Intent-named operations inside one ingest transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def earlier(self, article: Article) -> Earlier:
        """What is stored already of ``article`` (``Earlier``), in one statement."""
        params = {"source": article.source, "guid": article.guid, "hash": article.content_hash, "url": article.url}
        found = {row.kind: ArticleRecord.from_row(row) for row in self.conn.execute(_EARLIER, params)}
        return Earlier(found.get("item"), found.get("elsewhere"), found.get("url"), found.get("content"))

    def articles_after(self, after_id: int) -> list[ArticleRecord]:
        """Articles stored since ``after_id``, read under the ingest lock: no ingest of another instance
        is in flight, and article ids are handed out only under this lock, so every id up to the newest
        one read here is committed and none will appear later below it (the high-water mark is exact)."""
        return [ArticleRecord.from_row(r) for r in self.conn.execute(_ARTICLES_AFTER, {"after": after_id})]

    def lock_story(self, story_id: str) -> StoryRecord | None:
        row = self.conn.execute(_LOCK_STORY, {"story": story_id}).first()
        return StoryRecord.from_row(row) if row else None

    def known_sentences(self, story_id: str, after_seq: int = 0) -> list[str]:
        """The story's distinct sentences and headlines first held by versions after ``after_seq``, in the
        order they were learnt: a cached ``KnownText`` catches up with what other instances wrote."""
        query = (
            select(story_sentences.c.text)
            .where(story_sentences.c.story_id == story_id, story_sentences.c.seq > after_seq)
            .order_by(story_sentences.c.seq, story_sentences.c.id)
        )
        return [r.text for r in self.conn.execute(query)]

    def insert_known_sentences(self, story_id: str, seq: int, sentences: list[str]) -> None:
        """The sentences version ``seq`` brought to the story (those ``KnownText.unseen`` found)."""
        if sentences:
            rows = [{"story_id": story_id, "seq": seq, "text": s} for s in sentences]
            self.conn.execute(_INSERT_SENTENCES, rows)

    def create_story(self, story_id: str, title: str, url: str | None, now: datetime) -> None:
        self.insert_story(StoryRecord.opening(story_id, title, url, now))

    def insert_story(self, story: StoryRecord, **values: Unpack[StoryValues]) -> None:
        """A new story's row: ``story`` with ``values`` over it (the ingest writes a new story once, with
        what its first version decided, instead of an insert, a read back and an update)."""
        row = {name: getattr(story, name) for name in StoryRecord.field_names()}
        self.conn.execute(_INSERT_STORY, {**row, **values})

    def update_story(self, story_id: str, **values: Unpack[StoryValues]) -> None:
        self.conn.execute(_UPDATE_STORY, {"story": story_id, **values})

    def insert_article(self, article: Article, story_id: str, now: datetime, developing: bool) -> int:
        result = self.conn.execute(
            _INSERT_ARTICLE,
            dict(
                source=article.source,
                guid=article.guid,
                content_hash=article.content_hash,
                url=article.url,
                title=article.title,
                text=article.text,
                outlet=article.outlet,
                published=article.published,
                fetched_at=now,
                developing=developing,
                story_id=story_id,
            ),
        )
        key = result.inserted_primary_key
        assert key is not None  # a single-row INSERT always has one
        return int(key[0])

    def insert_version(
        self, story_id: str, seq: int, article_id: int, now: datetime, **values: Unpack[VersionValues]
    ) -> None:
        params = {"story_id": story_id, "seq": seq, "article_id": article_id, "created_at": now, **values}
        self.conn.execute(_INSERT_VERSION, params)

    def add_event(self, event: NewEvent, payload: dict[str, Any], receivers: tuple[str, ...]) -> None:
        """A story event as decided (``core.decide``), with one delivery per receiver."""
        self.insert_event(
            event.id,
            event.type,
            event.story_id,
            event.sequence,
            event.created_at,
            payload,
            receivers,
            send_at=event.send_at,
            held=event.held,
        )

    def insert_event(
        self,
        event_id: str,
        type_: str,
        story_id: str | None,
        story_seq: int | None,
        now: datetime,
        payload: dict[str, Any],
        webhooks: tuple[str, ...],
        send_at: datetime | None = None,
        held: bool = False,
    ) -> None:
        """An outbox event and one pending delivery per receiver, in this same transaction; ``send_at``
        holds the deliveries back (per-story coalescing)."""
        self.conn.execute(
            _INSERT_EVENT,
            {
                "id": event_id,
                "type": type_,
                "story_id": story_id,
                "story_seq": story_seq,
                "created_at": now,
                "payload": payload,
            },
        )
        status = DeliveryStatus.HELD if held else DeliveryStatus.PENDING
        self._add_deliveries(event_id, webhooks, status, send_at or now)

    def _add_deliveries(
        self, event_id: str, webhooks: tuple[str, ...], status: DeliveryStatus, next_attempt_at: datetime
    ) -> None:
        """One delivery per distinct receiver, in order, in one statement."""
        rows = [
            {"event_id": event_id, "webhook": hook, "status": status, "attempts": 0, "next_attempt_at": next_attempt_at}
            for hook in dict.fromkeys(webhooks)
        ]
        if rows:
            self.conn.execute(_INSERT_DELIVERIES, rows)

    def unsent_update(self, story_id: str, since: datetime) -> Pending | None:
        """The story's latest ``story.updated`` event created since ``since`` that no receiver has been sent
        or claimed yet: the one a new update can still be merged into."""
        row = self.conn.execute(_UNSENT_UPDATE, {"story": story_id, "since": since}).first()
        return unsent(self.conn, row.id, row.payload) if row is not None else None

    def unsent_opened(self, story_id: str) -> Pending | None:
        """The story's ``story.opened`` if no receiver has been sent or has claimed it yet: the event a first
        sighting's full text joins."""
        row = self.conn.execute(_UNSENT_OPENED, {"story": story_id}).first()
        return unsent(self.conn, row.id, row.payload) if row is not None else None

    def merge_into_event(
        self, event_id: str, payload: dict[str, Any], new_webhooks: tuple[str, ...], send_at: datetime
    ) -> None:
        self.conn.execute(_UPDATE_EVENT, {"event": event_id, "payload": payload})
        self._add_deliveries(event_id, new_webhooks, DeliveryStatus.PENDING, send_at)


@contextmanager
def ingest_transaction(db: Database) -> Iterator[IngestTx]:
    """The one transaction story decisions are made in. On PostgreSQL it holds ``LOCK_INGEST`` (an advisory
    lock for the transaction) from its first statement, so everything read inside sees every decision
    other instances committed before (READ COMMITTED: each statement reads what is committed when it runs)."""
    with db.write(ingest_lock=True) as conn:
        yield IngestTx(conn)


def articles_after(db: Database, after_id: int, since: datetime | None) -> list[ArticleRecord]:
    """Articles with id > ``after_id`` (and fetched since ``since``), read without any lock: a cheap warm-up
    of a matcher index. Not authoritative (another instance may commit right after); the ingest lock's
    ``IngestTx.articles_after`` is."""
    query, params = _ARTICLES_AFTER, dict[str, Any]({"after": after_id})
    if since is not None:
        query, params["since"] = _ARTICLES_AFTER_SINCE, since
    with db.read() as conn:
        return [ArticleRecord.from_row(r) for r in conn.execute(query, params)]


def list_stories(db: Database, *, tracked_only: bool = False, limit: int = 100) -> list[StoryRecord]:
    query = select(stories).order_by(stories.c.updated_at.desc(), stories.c.id).limit(limit)
    if tracked_only:
        query = query.where(stories.c.tracked.is_(True))
    with db.read() as conn:
        return [StoryRecord.from_row(r) for r in conn.execute(query)]


def get_story(db: Database, story_id: str) -> StoryRecord | None:
    with db.read() as conn:
        row = conn.execute(select(stories).where(stories.c.id == story_id)).first()
        if row is None:  # allow a unique prefix, as people copy short ids from tables
            rows = conn.execute(select(stories).where(stories.c.id.startswith(story_id)).limit(2)).fetchall()
            row = rows[0] if len(rows) == 1 else None
    return StoryRecord.from_row(row) if row else None


def story_versions(db: Database, story_id: str) -> list[VersionRecord]:
    query = (
        select(
            versions,
            articles.c.id.label("a_id"),
            *[c.label(f"a_{c.name}") for c in articles.c if c.name != "id"],
        )
        .join(articles, versions.c.article_id == articles.c.id)
        .where(versions.c.story_id == story_id)
        .order_by(versions.c.seq)
    )
    out = []
    with db.read() as conn:
        for r in conn.execute(query):
            m = r._mapping
            art = ArticleRecord(**{f: m[f"a_{f}"] for f in ArticleRecord.__dataclass_fields__})
            out.append(
                VersionRecord(
                    story_id=m["story_id"],
                    seq=m["seq"],
                    created_at=m["created_at"],
                    added=m["added"],
                    facts=m["facts"],
                    headline_changed=m["headline_changed"],
                    material=m["material"],
                    match=m["match"],
                    article=art,
                )
            )
    return out


def counts(db: Database) -> dict[str, int]:
    with db.read() as conn:
        return {
            "stories": conn.execute(select(func.count()).select_from(stories)).scalar_one(),
            "tracked_stories": conn.execute(
                select(func.count()).select_from(stories).where(stories.c.tracked.is_(True))
            ).scalar_one(),
            "articles": conn.execute(select(func.count()).select_from(articles)).scalar_one(),
            "events": conn.execute(select(func.count()).select_from(events)).scalar_one(),
        }


def latest_hashes(db: Database, source: str, guids: list[str]) -> dict[str, str]:
    """guid -> content hash of its latest stored version, for those of ``guids`` this source delivered before
    (the poller takes a feed's unseen or changed items a slice at a time, so one huge feed cannot stall it)."""
    found: dict[str, str] = {}
    with db.read() as conn:
        for i in range(0, len(guids), 500):  # stay under SQLite's bound-parameter limit
            chunk = guids[i : i + 500]
            query = (
                select(articles.c.guid, articles.c.content_hash)
                .where(articles.c.source == source, articles.c.guid.in_(chunk))
                .order_by(articles.c.id)
            )
            found.update((r.guid, r.content_hash) for r in conn.execute(query))  # the latest version wins
    return found


def known_guids(db: Database, source: str, guids: list[str]) -> set[str]:
    """Which of ``guids`` this source has already delivered to us (for the feed circuit breaker)."""
    found: set[str] = set()
    with db.read() as conn:
        for i in range(0, len(guids), 500):  # stay under SQLite's bound-parameter limit
            chunk = guids[i : i + 500]
            query = select(articles.c.guid).where(articles.c.source == source, articles.c.guid.in_(chunk)).distinct()
            found |= {r.guid for r in conn.execute(query)}
    return found


def unsent(conn: Connection, event_id: str, payload: dict[str, Any]) -> Pending | None:
    """The event, if no receiver of it has been sent it or claimed it yet (it can still take more in: a
    coalesced update, a first sighting's full text), else None."""
    rows = conn.execute(_DELIVERIES_OF, {"event": event_id}).fetchall()
    if any(r.status != DeliveryStatus.PENDING or r.attempts or r.lease_owner for r in rows):
        return None
    body = dict(payload)
    return Pending(event_id, body["sequence"], body["previous_event_id"], frozenset(r.webhook for r in rows), body)
