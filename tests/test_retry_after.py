"""``Retry-After`` parsed once (monitor/core/retry_after.py) for feed fetches and webhook deliveries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.core.policy import next_poll
from monitor.core.retry_after import MAX_RETRY_AFTER, retry_after_seconds

NOW = datetime(2030, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 7200 ", 7200.0),
        ("0", 0.0),
        ("Tue, 01 Jan 2030 00:10:00 GMT", 600.0),  # an HTTP-date, counted from ``now``
        ("Mon, 31 Dec 2029 00:00:00 GMT", 0.0),  # already past: no wait, never a negative one
        ("Tue, 01 Jan 2030 00:10:00", 600.0),  # no zone: GMT, as every HTTP-date is
        ("soon", None),
        ("1.5", None),  # delay-seconds are whole (RFC 9110 10.2.3)
        ("-3", None),
        ("inf", None),
        ("١٢", None),  # str.isdigit() says yes to Arabic-Indic digits; HTTP's DIGIT is ASCII
        ("", None),
        (None, None),
    ],
)
def test_retry_after_table(value: str | None, seconds: float | None) -> None:
    assert retry_after_seconds(value, NOW) == seconds


@pytest.mark.parametrize("value", ["99999999999999999999", "Fri, 31 Dec 9999 23:59:59 GMT"])
def test_a_huge_retry_after_is_a_day_and_schedules_without_overflow(value: str) -> None:
    now = datetime(2026, 11, 26, tzinfo=UTC)
    seconds = retry_after_seconds(value, now)
    assert seconds == MAX_RETRY_AFTER
    # It used to reach next_poll as 1e20 seconds: OverflowError in the poller's scheduling.
    due = next_poll(now, 600, failures=1, retry_after=seconds, jitter=0)
    assert due == now + timedelta(days=1)
