"""Every table of news-monitor, declared in one place (SQLAlchemy 2 Core).

The Alembic migrations under ``migrations/versions`` create exactly these tables; a test compares the
migrated database with this metadata so the two cannot drift apart. Times are stored as UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)

SCHEMA_VERSION = "0006"


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in Python, on every backend (SQLite keeps no time zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        when: datetime = value
        return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# One row per configured feed, holding all of its polling state (the scheduler is only a clock).
feeds = Table(
    "feeds",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("url", Text, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("interval_s", Integer, nullable=False),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("body_hash", String(64)),
    Column("status", String(16), nullable=False, default="new"),  # new | ok | retrying | failing
    Column("failures", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("last_status", Integer),
    Column("last_polled_at", UTCDateTime),
    Column("last_ok_at", UTCDateTime),
    Column("next_poll_at", UTCDateTime, nullable=False),
    Column("items_seen", Integer, nullable=False, default=0),
    Column("articles_total", Integer, nullable=False, default=0),
    Column("lease_owner", String(64)),
    Column("lease_until", UTCDateTime),
    # Until when the feed is polled faster because it carries an open developing story.
    Column("developing_until", UTCDateTime),
    Index("ix_feeds_due", "active", "next_poll_at"),
)

stories = Table(
    "stories",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("title", Text, nullable=False),
    Column("url", Text),
    Column("status", String(16), nullable=False, default="open"),  # open | quiet | closed
    Column("developing", Boolean, nullable=False, default=False),
    Column("markers", JSON, nullable=False, default=list),
    Column("tracked", Boolean, nullable=False, default=False),
    Column("watchlists", JSON, nullable=False, default=list),  # [{"name":..., "matched": [...]}]
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("last_published", UTCDateTime),
    Column("version_count", Integer, nullable=False, default=0),
    Column("event_seq", Integer, nullable=False, default=0),
    Column("last_event_id", String(40)),
    Index("ix_stories_updated", "updated_at"),
)

articles = Table(
    "articles",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(64), nullable=False),
    Column("guid", Text, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("url", Text),
    Column("title", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("outlet", Text),
    Column("published", UTCDateTime),
    Column("fetched_at", UTCDateTime, nullable=False),
    Column("developing", Boolean, nullable=False, default=False),
    Column("story_id", String(32), ForeignKey("stories.id", ondelete="CASCADE"), nullable=False),
    UniqueConstraint("source", "guid", "content_hash"),
    Index("ix_articles_item", "source", "guid"),
    Index("ix_articles_hash", "content_hash"),
    Index("ix_articles_story", "story_id"),
    # "Same URL" is asked of every new article: without an index it read the whole table. A hash
    # index on PostgreSQL: equality is all it serves, and a btree entry has a size limit a URL can exceed.
    Index("ix_articles_url", "url", postgresql_using="hash"),
)

# A story's versions in order: seq 1 is the article that opened it.
versions = Table(
    "versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("story_id", String(32), ForeignKey("stories.id", ondelete="CASCADE"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("added", JSON, nullable=False, default=list),
    Column("facts", JSON, nullable=False, default=dict),
    Column("headline_changed", Boolean, nullable=False, default=False),
    Column("material", Boolean, nullable=False, default=False),
    Column("match", JSON, nullable=False, default=dict),
    UniqueConstraint("story_id", "seq"),
)

# Each distinct news sentence and headline a story holds, once, with the version that first had it: what
# novelty compares a new version with, read back without re-reading (and re-splitting) every version.
story_sentences = Table(
    "story_sentences",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("story_id", String(32), ForeignKey("stories.id", ondelete="CASCADE"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Index("ix_story_sentences_story", "story_id", "seq"),
)

# The outbox: written in the same transaction as the story change it reports.
events = Table(
    "events",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("type", String(32), nullable=False),
    Column("story_id", String(32), ForeignKey("stories.id", ondelete="CASCADE")),
    Column("story_seq", Integer),
    Column("created_at", UTCDateTime, nullable=False),
    Column("payload", JSON, nullable=False),
    UniqueConstraint("story_id", "story_seq"),
    Index("ix_events_created", "created_at"),
)

# One row per (event, receiver): delivery state, retries and the lease of the instance sending it.
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(40), ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
    Column("webhook", String(64), nullable=False),
    Column("status", String(16), nullable=False, default="pending"),  # pending | delivered | dead
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("last_error", Text),
    Column("last_status", Integer),
    Column("delivered_at", UTCDateTime),
    Column("lease_owner", String(64)),
    Column("lease_until", UTCDateTime),
    UniqueConstraint("event_id", "webhook"),
    Index("ix_deliveries_due", "status", "next_attempt_at"),
)

# Receivers an operator must look at: a 410 Gone disables one until `news-monitor deliveries enable NAME`.
webhook_state = Table(
    "webhook_state",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("disabled_at", UTCDateTime),
    Column("reason", Text),
)

# Pages of open, tracked developing stories, re-fetched on their own schedule (docs/pages.md): the state of
# each watch, so any instance can take it over (leases as for feeds).
watched_pages = Table(
    "watched_pages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("story_id", String(32), ForeignKey("stories.id", ondelete="CASCADE"), nullable=False),
    Column("url", Text, nullable=False),
    Column("final_url", Text),  # after redirects, as last fetched
    Column("outlet", Text),
    Column("status", String(16), nullable=False, default="watching"),  # watching | gone | failed
    Column("interval_s", Integer, nullable=False, default=0),  # 0: never checked
    Column("next_check_at", UTCDateTime, nullable=False),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("body_hash", String(64)),  # the raw page: the same bytes are not extracted again
    Column("content_hash", String(64)),  # the main text as last seen
    Column("paragraphs", JSON, nullable=False, default=list),  # fingerprints of the main text's paragraphs
    Column("posts", JSON, nullable=False, default=list),  # keys of a live page's posts
    Column("first_seen_at", UTCDateTime, nullable=False),
    Column("last_checked_at", UTCDateTime),
    Column("last_change_at", UTCDateTime),
    Column("checks", Integer, nullable=False, default=0),
    Column("changes", Integer, nullable=False, default=0),
    Column("failures", Integer, nullable=False, default=0),
    Column("last_status", Integer),
    Column("last_error", Text),
    Column("lease_owner", String(64)),
    Column("lease_until", UTCDateTime),
    UniqueConstraint("story_id", "url"),
    Index("ix_watched_pages_due", "status", "next_check_at"),
)

# What one outlet prints in many stories (its furniture), learnt from repetition: one row per outlet and
# sentence fingerprint, with the number of distinct stories it was seen in (core.furniture). The story ids
# are kept only until the sentence counts as furniture (a short list), so the count stays exact.
furniture = Table(
    "furniture",
    metadata,
    Column("outlet", String(255), primary_key=True),
    Column("fingerprint", String(16), primary_key=True),
    Column("stories", Integer, nullable=False, default=1),
    Column("story_ids", JSON, nullable=False, default=list),
    Column("first_seen", UTCDateTime, nullable=False),
    Index("ix_furniture_first_seen", "stories", "first_seen"),
)
