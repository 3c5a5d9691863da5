"""Drain the outbox: claim due deliveries, POST them, record each outcome, schedule retries.

Events of one story go to one receiver in order: ``outbox.claim_due`` never hands out an event while an
earlier event of the same story is still pending for that receiver, and deliveries claimed together are
sent story by story, one after the other. Different stories and receivers are sent concurrently.

A slow receiver holds up no other: each receiver has its own concurrency limit, and a pass waits
for its lanes at most half a deliver interval. Lanes still running then (a receiver trickling its answer,
bounded by the webhook's ``deadline``) go on in the background, their rows still leased; that receiver gets
no new claims until they finish, while the next passes serve the others. ``drain`` waits for them (shutdown).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import sys
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

import httpx

from monitor.alerts import apprise_channel
from monitor.alerts.delivery import Outcome, post_event
from monitor.alerts.events import LOG_RECEIVER
from monitor.config import Config
from monitor.core.policy import delivery_retry_delay
from monitor.core.states import DeliveryResult
from monitor.service.coalesce import Coalescer
from monitor.store import outbox
from monitor.store.db import Database
from monitor.store.records import DeliveryRecord

log = logging.getLogger("monitor.deliver")
CLAIM_BATCH = 100  # deliveries claimed at once; a full batch is followed by another (Pipeline.deliver)


@dataclass(frozen=True)
class DeliveryReport:
    """What a pass did with the deliveries it claimed: each one is counted under its ``DeliveryResult``."""

    delivered: int = 0
    retrying: int = 0
    dead: int = 0
    claimed: int = 0
    disabled: int = 0  # the receiver answered 410 Gone and is disabled (the event kept pending)

    @classmethod
    def of(cls, results: list[DeliveryResult], claimed: int) -> DeliveryReport:
        n = Counter(results)
        return cls(
            n[DeliveryResult.DELIVERED], n[DeliveryResult.RETRYING], n[DeliveryResult.DEAD], claimed,
            n[DeliveryResult.DISABLED],
        )  # fmt: skip

    def __add__(self, other: DeliveryReport) -> DeliveryReport:
        return DeliveryReport(
            self.delivered + other.delivered,
            self.retrying + other.retrying,
            self.dead + other.dead,
            self.claimed + other.claimed,
            self.disabled + other.disabled,
        )


class Deliverer:
    def __init__(
        self, config: Config, db: Database, owner: str, rng: random.Random | None = None, concurrency: int = 8
    ) -> None:
        self.config, self.db, self.owner = config, db, owner
        self.rng = rng or random.Random()
        self._concurrency = concurrency
        self._sems: dict[str, asyncio.Semaphore] = {}  # per receiver: a slow one cannot take every slot
        self._background: set[asyncio.Task[list[DeliveryResult]]] = set()  # lanes that outlasted their pass
        self._busy: Counter[str] = Counter()  # receivers with lanes in the background
        # Deliveries answered at the same moment are marked in one transaction (service/coalesce.py); each
        # still counts as delivered only once its own row is committed.
        self._delivered = Coalescer(partial(outbox.mark_delivered_many, db, owner))

    async def deliver_due(self, client: httpx.AsyncClient, clock: Callable[[], datetime]) -> DeliveryReport:
        claim = partial(
            outbox.claim_due,
            self.db,
            clock(),
            self.owner,
            self.config.monitor.delivery_lease,
            CLAIM_BATCH,
            exclude=tuple(self._busy),
        )
        claimed = await asyncio.to_thread(claim)
        lanes: dict[tuple[str | None, str], list[DeliveryRecord]] = defaultdict(list)
        for d in claimed:
            lanes[(d.story_id or d.event_id, d.webhook)].append(d)
        tasks = {asyncio.create_task(self._lane(client, lane, clock)): key[1] for key, lane in lanes.items()}
        if tasks:
            try:
                await asyncio.wait(tasks, timeout=max(0.5, self.config.monitor.deliver_interval / 2))
            finally:  # also when the pass itself is cancelled: its lanes are still ours to drain
                for task, webhook in tasks.items():
                    if not task.done():
                        self._to_background(task, webhook)
        flat = [r for task in tasks if task.done() for r in task.result()]  # (no await since the check)
        return DeliveryReport.of(flat, len(claimed))

    def _to_background(self, task: asyncio.Task[list[DeliveryResult]], webhook: str) -> None:
        self._background.add(task)
        self._busy[webhook] += 1

        def finished(task: asyncio.Task[list[DeliveryResult]]) -> None:
            self._background.discard(task)
            self._busy[webhook] -= 1
            if self._busy[webhook] <= 0:
                del self._busy[webhook]
            if not task.cancelled() and task.exception() is not None:
                log.error("deliver.lane_crashed webhook=%s", webhook, exc_info=task.exception())

        task.add_done_callback(finished)

    async def drain(self, timeout: float) -> None:
        """Wait up to ``timeout`` for lanes left in the background; cancel the rest (their leases are
        released by the caller, so they go out again later: at-least-once)."""
        if not self._background:
            return
        _, late = await asyncio.wait(set(self._background), timeout=timeout)
        for task in late:
            task.cancel()
        if late:
            await asyncio.wait(late)

    def _sem(self, webhook: str) -> asyncio.Semaphore:
        return self._sems.setdefault(webhook, asyncio.Semaphore(self._concurrency))

    async def _lane(
        self, client: httpx.AsyncClient, lane: list[DeliveryRecord], clock: Callable[[], datetime]
    ) -> list[DeliveryResult]:
        out: list[DeliveryResult] = []
        for i, d in enumerate(lane):
            async with self._sem(d.webhook):
                result = await self._one(client, d, clock)
            out.append(result)
            if result != DeliveryResult.DELIVERED:  # keep story order: later events wait for this one
                await asyncio.to_thread(self._postpone, lane[i + 1 :])
                break
        return out

    def _postpone(self, rest: list[DeliveryRecord]) -> None:
        for d in rest:
            outbox.mark_failed(
                self.db,
                d.id,
                self.owner,
                error="waiting for an earlier event of this story",
                attempted=False,  # not sent: its retry schedule must not grow
                status=None,
                retry_at=d.next_attempt_at,
            )

    async def _one(self, client: httpx.AsyncClient, d: DeliveryRecord, clock: Callable[[], datetime]) -> DeliveryResult:
        now = clock()
        if d.webhook == LOG_RECEIVER:
            # No receiver configured: the alert is a JSON line in the log stream (stderr: the journal under
            # systemd), one line per event, so `--json` output on stdout stays parseable for scripts.
            print(json.dumps(d.payload, ensure_ascii=False, sort_keys=True), file=sys.stderr, flush=True)
            await self._delivered.submit((d.id, now, None))
            return DeliveryResult.DELIVERED
        hook = self.config.webhook(d.webhook)
        if hook is None:
            outcome = Outcome(False, None, f"webhook {d.webhook!r} is no longer in the config", permanent=True)
        elif hook.format == "apprise":
            try:  # Apprise sends from a worker thread: the deadline frees this lane, not that thread
                async with asyncio.timeout(hook.deadline):
                    outcome = await apprise_channel.notify(hook.url, d.payload)
            except TimeoutError:
                outcome = Outcome(False, None, f"no answer within the {hook.deadline:g}s delivery deadline")
        else:
            outcome = await post_event(
                client,
                url=hook.url,
                fmt=hook.format,
                secret=hook.secret,
                event_id=d.event_id,
                payload=d.payload,
                timeout=hook.timeout,
                now=now.timestamp(),
                deadline=hook.deadline,
            )
        if outcome.delivered:
            await self._delivered.submit((d.id, clock(), outcome.status))
            log.info("deliver.ok event=%s webhook=%s status=%s", d.event_id, d.webhook, outcome.status)
            return DeliveryResult.DELIVERED
        return await asyncio.to_thread(self._record, d, outcome, clock())

    def _record(self, d: DeliveryRecord, outcome: Outcome, now: datetime) -> DeliveryResult:
        """A failed attempt: disable a gone endpoint, schedule the retry or dead-letter it."""
        if outcome.gone:
            # 410 Gone: the endpoint itself is gone. Keep the event pending (not lost) and stop sending to
            # this receiver until an operator runs `news-monitor deliveries enable NAME`.
            error = outcome.error or "410 Gone"
            outbox.disable_webhook(self.db, d.webhook, now, error)
            outbox.mark_failed(self.db, d.id, self.owner, error=error, status=outcome.status, retry_at=now)
            log.error("deliver.endpoint_disabled webhook=%s error=%s", d.webhook, outcome.error)
            return DeliveryResult.DISABLED
        attempts = d.attempts + 1
        m = self.config.monitor
        too_old = (now - d.created_at).total_seconds() > m.max_event_age
        if outcome.permanent or attempts >= m.max_attempts or too_old:
            reason = "permanent error" if outcome.permanent else ("too old" if too_old else f"{attempts} attempts")
            error = f"{outcome.error} ({reason})"
            outbox.mark_failed(self.db, d.id, self.owner, error=error, status=outcome.status, retry_at=None)
            log.error("deliver.dead event=%s webhook=%s reason=%s error=%s", d.event_id, d.webhook, reason,
                      outcome.error)  # fmt: skip
            return DeliveryResult.DEAD
        delay = delivery_retry_delay(attempts, retry_after=outcome.retry_after, rng=self.rng)
        retry_at = now + timedelta(seconds=delay)
        error = outcome.error or "failed"
        outbox.mark_failed(self.db, d.id, self.owner, error=error, status=outcome.status, retry_at=retry_at)
        log.warning("deliver.retry event=%s webhook=%s attempt=%d in=%.1fs error=%s", d.event_id, d.webhook,
                    attempts, delay, outcome.error)  # fmt: skip
        return DeliveryResult.RETRYING
