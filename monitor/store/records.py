"""What the store hands out: plain frozen dataclasses (a SQLAlchemy ``Row`` never leaves ``store/``)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Self, cast

from monitor.core.decide import StoryState
from monitor.core.model import WatchHit
from monitor.core.states import StoryStatus

_FIELDS: dict[type, tuple[str, ...]] = {}  # record class -> its field names (every row read and written asks)


class _FromRow:
    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """The record's fields, in order (looked up once per class)."""
        names = _FIELDS.get(cls)
        if names is None:
            names = _FIELDS[cls] = tuple(f.name for f in fields(cast(Any, cls)))
        return names

    @classmethod
    def from_row(cls, row: Any) -> Self:
        mapping = row._mapping
        return cls(**{name: mapping[name] for name in cls.field_names() if name in mapping})


@dataclass(frozen=True)
class FeedState(_FromRow):
    name: str
    url: str
    active: bool
    interval_s: int
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    status: str
    failures: int
    last_error: str | None
    last_status: int | None
    last_polled_at: datetime | None
    last_ok_at: datetime | None
    next_poll_at: datetime
    items_seen: int
    articles_total: int


@dataclass(frozen=True)
class StoryRecord(_FromRow):
    id: str
    title: str
    url: str | None
    status: str
    developing: bool
    markers: list[str]
    tracked: bool
    watchlists: list[dict[str, Any]]
    created_at: datetime
    updated_at: datetime
    version_count: int
    event_seq: int
    last_event_id: str | None

    @classmethod
    def opening(cls, story_id: str, title: str, url: str | None, now: datetime) -> StoryRecord:
        """A story as it is before its first version (``IngestTx.insert_story`` writes it)."""
        return cls(story_id, title, url, StoryStatus.OPEN, False, [], False, [], now, now, 0, 0, None)

    def state(self) -> StoryState:
        """The story as the decisions (``core.decide``) take it."""
        hits = tuple(WatchHit(w["name"], tuple(w.get("matched", ()))) for w in self.watchlists)
        return StoryState(
            id=self.id,
            title=self.title,
            url=self.url,
            status=StoryStatus(self.status),
            developing=self.developing,
            markers=tuple(self.markers),
            tracked=self.tracked,
            watchlists=hits,
            updated_at=self.updated_at,
            version_count=self.version_count,
            event_seq=self.event_seq,
            last_event_id=self.last_event_id,
        )


@dataclass(frozen=True)
class ArticleRecord(_FromRow):
    id: int
    source: str
    guid: str
    content_hash: str
    url: str | None
    title: str
    text: str
    outlet: str | None
    published: datetime | None
    fetched_at: datetime
    story_id: str


@dataclass(frozen=True)
class VersionRecord:
    story_id: str
    seq: int
    created_at: datetime
    added: list[str]
    facts: dict[str, list[str]]
    headline_changed: bool
    material: bool
    match: dict[str, Any]
    article: ArticleRecord


@dataclass(frozen=True)
class DeliveryRecord(_FromRow):
    id: int
    event_id: str
    webhook: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    last_status: int | None
    delivered_at: datetime | None
    type: str
    story_id: str | None
    created_at: datetime
    payload: dict[str, Any]
