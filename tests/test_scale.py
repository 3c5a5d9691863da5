"""The multi-instance proof, scaled down: 3 real ``news-monitor run`` processes on one PostgreSQL, 60 feeds that
keep publishing for ~35 s, one receiver, one instance SIGKILLed midway. bench/bench_scale.py runs it at
full size (600 feeds) and measures the scaling curve.

What must hold: each feed is polled at most once per interval across all instances; every published item
is stored and every event reaches the receiver (exactly once per webhook-id); the killed instance's feeds
resume on the others within the lease.

Wall-clock by nature: the instances are separate processes reading their own clocks, so the test waits for
states it can observe (``wait_for`` on the database) and takes its timing constants from the daemon itself.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from monitor.service.daemon import POLL_TICK
from monitor.store.schema import deliveries
from tests.scale_servers import Cluster, PublishingFeeds, analyse, write_config
from tests.servers import Receiver
from tests.support import wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.e2e, pytest.mark.timeout(240)]

FEEDS, INTERVAL, LEASE, PERIOD, PUBLISH_FOR, KILL_AT = 60, 10.0, 10.0, 8.0, 36.0, 15.0
TICK = POLL_TICK  # how often an instance asks for due feeds: the daemon's own constant
QUEUE = 6.0  # a taken-over feed's wait behind the survivors' other polls (see the max_gap assertion)


def _pending(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            query = select(func.count()).select_from(deliveries).where(deliveries.c.status != "delivered")
            return int(conn.execute(query).scalar_one())
    finally:
        engine.dispose()


def test_three_instances_one_database_no_double_polls_or_alerts(
    tmp_path: Path,
    pg_url: str,
    receiver: Receiver,
) -> None:
    feeds = PublishingFeeds(FEEDS, period=PERIOD, publish_for=PUBLISH_FOR)
    config = write_config(
        tmp_path / "monitor.toml",
        pg_url,
        feeds,
        receiver,
        interval=INTERVAL,
        feed_lease=LEASE,
        delivery_lease=LEASE,
    )
    cluster = Cluster(config, 3, tmp_path)
    try:
        time.sleep(max(0.0, feeds.start + KILL_AT - time.time()))
        assert cluster.alive() == [0, 1, 2], "an instance died before the kill (see its log in tmp_path)"
        holders: list[int] = []  # kill one in the middle of its polls: an instance holding feed leases

        def holder() -> bool:
            holders[:] = [h for h in [cluster.holding_leases(pg_url)] if h is not None]
            return bool(holders)

        publishing = feeds.start + PUBLISH_FOR - time.time()
        assert wait_for(holder, publishing, every=0.02), "no instance ever held a feed lease"
        cluster.kill(holders[0])
        # Past the last item, every feed gets one more poll (interval) even if its lease had to expire first.
        time.sleep(max(0.0, feeds.start + PUBLISH_FOR + INTERVAL + LEASE + 2 * TICK - time.time()))
        wait_for(lambda: not _pending(pg_url), 30, every=0.5)  # undelivered ones are counted below
        assert len(cluster.alive()) == 2
        until = time.time()
    finally:
        cluster.stop()
        feeds.close()
    out = analyse(feeds, receiver, pg_url, until)
    print(out)

    elapsed = until - feeds.start
    assert max(out.polls_per_feed.values()) <= elapsed / INTERVAL + 1
    assert out.min_gap >= INTERVAL - 1.0, "a feed was polled twice within one interval"
    # A feed the victim fetched just before it died waits one interval after that fetch (the fence moved
    # next_poll_at), then a tick, then its turn behind the survivors' host limit. QUEUE allows for that turn
    # on a loaded 2-core runner (measured up to ~5 s under the full suite: 27.2 s gaps); a feed left to its
    # lease twice, or never taken over, is far beyond this bound.
    assert out.max_gap <= INTERVAL + LEASE + 2 * TICK + QUEUE, "a killed instance's feed waited past its lease"
    assert len(out.polls_per_feed) == FEEDS
    assert out.missing == 0 and out.stored == out.published > FEEDS
    assert out.events >= out.published // 2  # most items open a tracked developing story
    assert out.undelivered == 0 and out.unknown_ids == 0
    assert out.delivered_ids == out.events  # every event, once per id
    # Raw re-sends can only come from the killed instance (POSTed, killed before marking it delivered).
    assert out.duplicate_posts <= 20
