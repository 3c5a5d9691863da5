"""Delivering from the outbox with an injected clock: retries come due by moving it, not by sleeping."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from monitor.service.pipeline import Pipeline
from monitor.store import outbox
from tests.support import Clock

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def drain(p: Pipeline, clock: Clock, rounds: int = 30) -> None:
    """Deliver, then jump the clock to the next due retry, until nothing is pending."""

    async def go() -> None:
        for _ in range(rounds):
            await p.deliver()
            pending = outbox.list_deliveries(p.db, ("pending",))
            if not pending:
                return
            future = [d.next_attempt_at for d in pending if d.next_attempt_at > clock.now]
            if future:  # jump to the soonest retry (events behind it in their story look due but wait)
                clock.now = min(future) + timedelta(milliseconds=1)

    asyncio.run(go())
    asyncio.run(p.aclose())
