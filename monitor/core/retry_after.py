"""``Retry-After`` (RFC 9110 10.2.3) read once, for feeds we fetch and webhooks we deliver to.

Pure: the time ``now`` an HTTP-date is counted from is an argument (the caller read the clock).
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

# A server cannot park a feed or a receiver for longer than a day: "99999999999999999999" or a date in the
# year 9999 would otherwise overflow the datetime arithmetic of whoever schedules the next attempt.
MAX_RETRY_AFTER = 24 * 3600.0


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Delay-seconds or an HTTP-date -> seconds from ``now`` (0 to ``MAX_RETRY_AFTER``), or None if absent or
    unreadable.

    Only whole seconds are delay-seconds (``1*DIGIT``): "1.5", "-3" or "inf" are unreadable, not a delay.
    """
    if not value or not value.strip():
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # RFC 9110 HTTP-dates are GMT; an obsolete form without a zone is read as such
        when = when.replace(tzinfo=UTC)
    return min(max(0.0, (when - now).total_seconds()), MAX_RETRY_AFTER)
