"""When to poll next, how long to back off, when to retry a delivery. Pure: ``now`` and randomness are
arguments, so every rule is tested with tables and no test sleeps.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

# A failing feed is retried at interval * 2**failures, capped, and never given up (miniflux's permanent
# give-up after N errors is the most reported complaint about feed daemons).
_BACKOFF_BASE = 2.0


def jittered(seconds: float, jitter: float, rng: random.Random) -> float:
    """``seconds`` moved by up to +/- ``jitter`` of itself, so feeds with one interval spread out."""
    if jitter <= 0:
        return seconds
    return seconds * (1.0 + rng.uniform(-jitter, jitter))


def next_poll(
    now: datetime,
    interval: float,
    *,
    failures: int = 0,
    retry_after: float | None = None,
    max_backoff: float = 6 * 3600.0,
    jitter: float = 0.1,
    rng: random.Random | None = None,
) -> datetime:
    """The next time to poll a feed.

    Healthy feeds: ``interval`` with jitter. After ``failures`` consecutive failures: exponential backoff
    from ``interval``, capped at ``max_backoff`` (but never below the interval). A server's ``Retry-After``
    is honoured when it asks for longer than we would wait anyway.
    """
    rng = rng or random.Random()
    delay = interval
    if failures > 0:
        delay = min(interval * _BACKOFF_BASE ** min(failures, 32), max(max_backoff, interval))
    if retry_after is not None:
        delay = max(delay, retry_after)
    return now + timedelta(seconds=jittered(delay, jitter, rng))


def delivery_retry_delay(
    attempts: int,
    *,
    base: float = 5.0,
    cap: float = 3600.0,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Seconds before retrying a delivery after ``attempts`` failed attempts (``attempts`` >= 1).

    Exponential with "full jitter" (AWS architecture blog: spreads retries of many events so a receiver
    that comes back is not hit by all of them at once); ``Retry-After`` is a floor.
    """
    rng = rng or random.Random()
    ceiling = min(cap, base * 2 ** min(attempts - 1, 20))
    delay = rng.uniform(ceiling / 2, ceiling)
    if retry_after is not None:
        delay = max(delay, min(retry_after, 24 * 3600.0))
    return delay


def adaptive_interval(
    now: datetime,
    interval: float,
    developing_until: datetime | None,
    *,
    fast_interval: float,
    window: float,
) -> float:
    """The polling interval of a feed right now (adaptive interval).

    A feed whose articles just landed in an open, tracked developing story is polled at ``fast_interval``;
    the boost lasts ``window`` seconds from that article (``developing_until`` = its time + ``window``) and
    decays linearly back to ``interval`` as the story goes quiet. Each new developing article renews it.
    Never slower than ``interval``.
    """
    if developing_until is None or window <= 0 or fast_interval >= interval:
        return interval
    remaining = (developing_until - now).total_seconds() / window
    if remaining <= 0:
        return interval
    remaining = min(remaining, 1.0)
    return fast_interval + (interval - fast_interval) * (1.0 - remaining)


def developing_boost_until(now: datetime, window: float) -> datetime:
    """When the faster polling started by a developing article seen at ``now`` has fully decayed."""
    return now + timedelta(seconds=window)
