"""The states things go through, as types: a misspelt state is a mypy error, not a row nobody counts.

``StrEnum`` members are ``str``: they compare equal to the strings stored in the database and written in
JSON, so rows read back as plain strings still compare with them, and the stored values are exactly the
strings that were used before these types existed.
"""

from __future__ import annotations

from enum import StrEnum


class IngestStatus(StrEnum):
    """What ingesting one article did."""

    UNCHANGED = "unchanged"  # an item we hold with the same content: nothing written
    NEW_STORY = "new-story"
    NEW_VERSION = "new-version"


class StoryStatus(StrEnum):
    """A story's lifecycle (core.lifecycle): open -> quiet -> closed; a new version re-opens a quiet one."""

    OPEN = "open"
    QUIET = "quiet"
    CLOSED = "closed"


class EventType(StrEnum):
    """The ``type`` of an outbox event (README, "Alert payload")."""

    STORY_OPENED = "story.opened"
    STORY_UPDATED = "story.updated"
    STORY_CLOSED = "story.closed"
    STORY_PAGE_GONE = "story.page_gone"
    FEED_FAILING = "feed.failing"
    FEED_RECOVERED = "feed.recovered"
    FEED_ANOMALY = "feed.anomaly"


class DeliveryStatus(StrEnum):
    """A delivery row's status in the outbox."""

    PENDING = "pending"
    HELD = "held"  # a feed anomaly's alerts, until an operator releases them
    DELIVERED = "delivered"
    DEAD = "dead"


class DeliveryResult(StrEnum):
    """What one attempt to deliver did (counted by ``DeliveryReport``)."""

    DELIVERED = "delivered"
    RETRYING = "retrying"
    DEAD = "dead"
    DISABLED = "disabled"  # the receiver answered 410 Gone: it is disabled, the event kept pending


class FeedStatus(StrEnum):
    """A feed's polling status (``news-monitor feeds``)."""

    NEW = "new"
    OK = "ok"
    RETRYING = "retrying"
    FAILING = "failing"  # from ``feed_failing_after`` failures: the one that sends ``feed.failing``


class PollResult(StrEnum):
    """What one poll of a feed did."""

    CHANGED = "changed"
    UNCHANGED = "unchanged"
    NOT_MODIFIED = "not-modified"
    ERROR = "error"
    SKIPPED = "skipped"  # the lease was lost while queued


class PageStatus(StrEnum):
    """A watched page's status."""

    WATCHING = "watching"
    GONE = "gone"  # 410, or 404 twice in a row: ``story.page_gone`` was sent
    FAILED = "failed"  # gave up after too many failures


class PageResult(StrEnum):
    """What one check of a watched page did."""

    CHANGED = "changed"
    CHURN = "churn"
    UNCHANGED = "unchanged"
    NOT_MODIFIED = "not-modified"
    ERROR = "error"
    GONE = "gone"
    FAILED = "failed"
    SKIPPED = "skipped"
