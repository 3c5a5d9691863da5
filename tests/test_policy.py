"""Polling policy as tables: interval with jitter, backoff that never gives up, Retry-After,
adaptive interval for feeds carrying a developing story. Pure: ``now`` and the rng are arguments."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from monitor.core.policy import (
    adaptive_interval,
    delivery_retry_delay,
    developing_boost_until,
    jittered,
    next_poll,
)

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


def delay(**kwargs: object) -> float:
    return (next_poll(NOW, jitter=0, **kwargs) - NOW).total_seconds()  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("interval", "failures", "retry_after", "max_backoff", "expected"),
    [
        (600, 0, None, 21600, 600),
        (600, 1, None, 21600, 1200),
        (600, 3, None, 21600, 4800),
        (600, 10, None, 21600, 21600),  # capped ...
        (600, 10_000, None, 21600, 21600),  # ... and never given up, however many failures
        (600, 0, 3600, 21600, 3600),  # Retry-After asks for longer: honoured
        (600, 3, 60, 21600, 4800),  # Retry-After asks for less than the backoff: backoff wins
        (600, 1, 86400, 21600, 86400),  # a server may ask for more than our cap
        (30000, 2, None, 21600, 30000),  # the cap never goes below the feed's own interval
    ],
)
def test_next_poll(
    interval: float, failures: int, retry_after: float | None, max_backoff: float, expected: float
) -> None:
    assert delay(interval=interval, failures=failures, retry_after=retry_after, max_backoff=max_backoff) == expected


def test_jitter_stays_within_its_share_and_spreads_feeds() -> None:
    rng = random.Random(7)
    values = [jittered(600, 0.1, rng) for _ in range(500)]
    assert all(540 <= v <= 660 for v in values)
    assert max(values) - min(values) > 100
    assert jittered(600, 0, rng) == 600


H = 3600.0


@pytest.mark.parametrize(
    ("until", "expected"),
    [
        (None, 600),  # no developing story: the feed's interval
        (NOW - timedelta(seconds=1), 600),  # boost ran out
        (NOW + timedelta(hours=2), 120),  # just started: the fast interval
        (NOW + timedelta(hours=1), 360),  # half-way: half-way back
        (NOW + timedelta(minutes=30), 480),
        (NOW + timedelta(hours=5), 120),  # a longer boost than the window is clamped to the fast interval
    ],
)
def test_adaptive_interval_decays_back(until: datetime | None, expected: float) -> None:
    assert adaptive_interval(NOW, 600, until, fast_interval=120, window=2 * H) == pytest.approx(expected)


def test_adaptive_interval_never_slows_a_fast_feed() -> None:
    until = NOW + timedelta(hours=1)
    assert adaptive_interval(NOW, 60, until, fast_interval=120, window=2 * H) == 60
    assert adaptive_interval(NOW, 600, until, fast_interval=120, window=0) == 600


def test_boost_until() -> None:
    assert developing_boost_until(NOW, 2 * H) == NOW + timedelta(hours=2)


def test_delivery_retry_delay_is_bounded_and_honours_retry_after() -> None:
    rng = random.Random(1)
    assert all(2.5 <= delivery_retry_delay(1, rng=rng) <= 5 for _ in range(100))
    assert all(delivery_retry_delay(50, rng=rng) <= 3600 for _ in range(100))
    assert delivery_retry_delay(1, retry_after=900, rng=rng) == 900
